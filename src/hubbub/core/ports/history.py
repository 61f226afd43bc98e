"""Reading a conversation's messages back, in stream order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["HistoryStore", "StoredMessage"]


@dataclass(slots=True)
class StoredMessage:
    id: str
    conversation_id: str
    sender_id: str
    kind: str
    content_type: str
    content: str | None
    created_at: int
    edited_at: int | None
    deleted_at: int | None
    reply_to_id: str | None
    pos: int


class HistoryStore(Protocol):
    async def message(self, message_id: str) -> StoredMessage | None: ...
    async def page(
        self,
        conversation_id: str,
        limit: int,
        *,
        before_pos: int | None = None,
        after_pos: int | None = None,
        from_pos: int | None = None,
    ) -> list[StoredMessage]:
        """Live (not deleted) messages oldest first: the last `limit` before
        `before_pos`, or the first `limit` after `after_pos` (or at and after `from_pos`)."""
        ...

    async def last_message(self, conversation_id: str) -> StoredMessage | None: ...
    async def count_after(self, conversation_id: str, pos: int, not_from: str) -> int:
        """Live messages after `pos` sent by someone other than `not_from`."""
        ...

    async def first_after(self, conversation_id: str, pos: int, not_from: str) -> str | None: ...
