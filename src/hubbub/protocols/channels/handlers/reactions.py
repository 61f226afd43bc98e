"""`chat/reactions`, `chat/reactions/ack`: reacting to a message (`core/reactions.py`).

The reply is the spec's `ReactionAck` on `chat/reactions/ack`, correlated by
its `ref` (AddReaction has no id field of its own, so `client_request_id` is null).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hubbub.protocols.channels import schema as s
from hubbub.protocols.channels.handlers.base import Handler, Reply

if TYPE_CHECKING:
    from hubbub.protocols.channels.session import Session

__all__ = ["HANDLERS", "PIPELINED"]


async def add_reaction(ss: Session, m: s.AddReaction, _p: dict[str, str]) -> Reply:
    data = await ss.node.reactions.react(ss.caller, m.message_id, m.reaction, None)
    return Reply("chat/reactions/ack", "ReactionAck", data)


HANDLERS: dict[tuple[str, str], Handler] = {
    ("chat/reactions", "AddReaction"): add_reaction,
}

PIPELINED: frozenset[tuple[str, str]] = frozenset()
