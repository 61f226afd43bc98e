"""Files attached to messages: their records, and where their bytes live."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["AttachmentRecord", "AttachmentStore"]


@dataclass(slots=True)
class AttachmentRecord:
    id: str
    conversation_id: str
    uploader_id: str
    filename: str
    content_type: str
    size: int
    created_at: int
    uploaded_at: int | None = None
    message_id: str | None = None
    blob_id: str | None = None  # the bytes, in the shared blob store, once uploaded


class AttachmentStore(Protocol):
    async def create_attachment(self, rec: AttachmentRecord) -> None: ...
    async def get_attachment(self, attachment_id: str) -> AttachmentRecord | None: ...
    async def sent_with_live_message(self, attachment_id: str) -> bool:
        """Bound to a message that is stored and not deleted."""
        ...

    async def mark_uploaded(self, attachment_id: str, now: int, blob_id: str) -> bool:
        """False if it was uploaded already (an upload URL works once)."""
        ...

    async def bind_attachments(self, attachment_ids: list[str], message_id: str) -> bool:
        """Attach uploaded, unbound files to a message: all of them, or none (False)."""
        ...

    async def unbind_attachments(self, attachment_ids: list[str], message_id: str) -> None:
        """Undo `bind_attachments` (the message was not sent after all)."""
        ...

    async def attachments_of(self, message_ids: list[str]) -> dict[str, list[AttachmentRecord]]: ...
    async def unsent_before(self, before: int, limit: int) -> list[AttachmentRecord]:
        """Attachments announced before `before` and bound to no live message (none,
        one never committed, one deleted), oldest first."""
        ...

    async def delete_unsent(self, attachment_id: str) -> bool:
        """Forget one if it is still unsent (False if a message has it by now)."""
        ...
