"""`chat/archive`, `chat/archive/ack`: archiving a conversation for oneself (`core/archive.py`).

The reply is the spec's `ChatArchiveStatusAck` on `chat/archive/ack`; the
caller's devices get `ChatArchiveStatusChanged` on `chat/archive`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hubbub.protocols.channels import schema as s
from hubbub.protocols.channels.handlers.base import Handler, Reply

if TYPE_CHECKING:
    from hubbub.protocols.channels.session import Session

__all__ = ["HANDLERS", "PIPELINED"]


async def set_archive(ss: Session, m: s.SetChatArchiveStatus, _p: dict[str, str]) -> Reply:
    data = await ss.node.archive.set_archived(
        ss.caller, m.conversation_id, m.archived, m.request_id
    )
    return Reply("chat/archive/ack", "ChatArchiveStatusAck", data)


HANDLERS: dict[tuple[str, str], Handler] = {
    ("chat/archive", "SetChatArchiveStatus"): set_archive,
}

PIPELINED: frozenset[tuple[str, str]] = frozenset()
