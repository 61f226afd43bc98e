"""`user/away` and `chat/greetings`: automatic replies (`core/away.py`).

`SetAwayMessage` is answered with an `Ack` carrying the settings now in
force (the `AwayMessageUpdated` fields and `changed`); the caller's devices
get `AwayMessageUpdated` when something changed. `AcknowledgeGreetingReceived`
is answered with an `Ack` saying whether it was the `first`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hubbub.core.away import CHANNEL, GREETINGS
from hubbub.protocols.channels import additions as a
from hubbub.protocols.channels import schema as s
from hubbub.protocols.channels.handlers.base import Handler, Reply, ack

if TYPE_CHECKING:
    from hubbub.protocols.channels.session import Session

__all__ = ["HANDLERS", "PIPELINED"]


async def set_away(ss: Session, m: a.SetAwayMessage, _p: dict[str, str]) -> Reply:
    data, changed = await ss.node.away.set_away(ss.caller, m.enabled, m.message, m.greeting)
    reply = ack(CHANNEL, user_id=ss.caller.user_id)
    reply.data.update(data, changed=changed)
    return reply


async def acknowledge(ss: Session, m: s.AcknowledgeGreetingReceived, _p: dict[str, str]) -> Reply:
    first = await ss.node.away.acknowledge(ss.caller, m.greeting_id, m.conversation_id, m.timestamp)
    reply = ack(GREETINGS, greeting_id=m.greeting_id, conversation_id=m.conversation_id)
    reply.data["first"] = first
    return reply


HANDLERS: dict[tuple[str, str], Handler] = {
    (CHANNEL, "SetAwayMessage"): set_away,
    (GREETINGS, "AcknowledgeGreetingReceived"): acknowledge,
}

PIPELINED: frozenset[tuple[str, str]] = frozenset()
