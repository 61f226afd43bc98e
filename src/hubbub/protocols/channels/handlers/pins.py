"""`chat/pins`, `chat/pins/ack`: pinning a conversation for oneself (`core/pins.py`).

The reply is the spec's `SetChatPinnedAck` on `chat/pins/ack`; the caller's
devices get `ChatPinnedUpdated` on `chat/pins`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hubbub.protocols.channels import schema as s
from hubbub.protocols.channels.handlers.base import Handler, Reply

if TYPE_CHECKING:
    from hubbub.protocols.channels.session import Session

__all__ = ["HANDLERS", "PIPELINED"]


async def set_pinned(ss: Session, m: s.SetChatPinned, _p: dict[str, str]) -> Reply:
    data = await ss.node.pins.set_pinned(ss.caller, m.conversation_id, m.pinned, m.request_id)
    return Reply("chat/pins/ack", "SetChatPinnedAck", data)


HANDLERS: dict[tuple[str, str], Handler] = {
    ("chat/pins", "SetChatPinned"): set_pinned,
}

PIPELINED: frozenset[tuple[str, str]] = frozenset()
