"""`chat/forward`, `chat/forward/ack`: forwarding a message (`core/forwards.py`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hubbub.protocols.channels import schema as s
from hubbub.protocols.channels.handlers.base import Handler, Reply

if TYPE_CHECKING:
    from hubbub.protocols.channels.session import Session

__all__ = ["HANDLERS", "PIPELINED"]


async def forward_message(ss: Session, m: s.ForwardMessage, _p: dict[str, str]) -> Reply:
    data = await ss.node.forwards.forward(
        ss.caller, m.original_message_id, m.from_conversation_id, m.to_conversation_id, m.note
    )
    return Reply("chat/forward/ack", "ForwardMessageAck", data)


HANDLERS: dict[tuple[str, str], Handler] = {
    ("chat/forward", "ForwardMessage"): forward_message,
}

PIPELINED: frozenset[tuple[str, str]] = frozenset()
