"""`chat/typing`: typing indicators (`core/typing_status.py`, hubbub's channel).

`SetTyping {conversation_id, typing}` answers `Ack` with `ids.conversation_id`
(and `ids.expires_at` for a start); the other members get `TypingStarted` /
`TypingStopped` pushed on the same channel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hubbub.protocols.channels.declarations import SetTyping
from hubbub.protocols.channels.handlers.base import Handler, Reply, ack

if TYPE_CHECKING:
    from hubbub.protocols.channels.session import Session

__all__ = ["HANDLERS", "PIPELINED"]

CHANNEL = "chat/typing"


async def set_typing(ss: Session, m: SetTyping, _p: dict[str, str]) -> Reply:
    if m.typing:
        until = await ss.node.typing.start(ss.caller, m.conversation_id)
        return ack(CHANNEL, conversation_id=m.conversation_id, expires_at=until)
    await ss.node.typing.stop(ss.caller, m.conversation_id)
    return ack(CHANNEL, conversation_id=m.conversation_id)


HANDLERS: dict[tuple[str, str], Handler] = {
    (CHANNEL, "SetTyping"): set_typing,
}

PIPELINED: frozenset[tuple[str, str]] = frozenset()
