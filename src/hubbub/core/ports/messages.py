"""Message appends (through the group commit) and their receipts."""

from __future__ import annotations

from typing import Protocol

from hubbub.core.model import MessageRecord, NewEvent, StoredEvent

__all__ = ["MessageStore"]


class MessageStore(Protocol):
    async def append_message(
        self,
        record: MessageRecord,
        fields: dict[str, object],
        event: NewEvent,
    ) -> tuple[MessageRecord, StoredEvent | None]: ...
    async def get_message(self, message_id: str) -> MessageRecord | None: ...
    async def get_body(self, message_id: str) -> tuple[str, str | None] | None:
        """(content type, plaintext content or None) of a message."""
        ...

    async def record_receipt(
        self, message_id: str, user_id: str, status: str, now: int, event: NewEvent | None
    ) -> StoredEvent | None: ...
