"""Files attached to messages: their records, and where their bytes live."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["AttachmentBlobs", "AttachmentRecord", "AttachmentStore"]


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


class AttachmentStore(Protocol):
    async def create_attachment(self, rec: AttachmentRecord) -> None: ...
    async def get_attachment(self, attachment_id: str) -> AttachmentRecord | None: ...
    async def mark_uploaded(self, attachment_id: str, now: int) -> bool:
        """False if it was uploaded already (an upload URL works once)."""
        ...

    async def bind_attachments(self, attachment_ids: list[str], message_id: str) -> int:
        """Attach uploaded, unbound files to a message; how many were."""
        ...

    async def attachments_of(self, message_ids: list[str]) -> dict[str, list[AttachmentRecord]]: ...


class AttachmentBlobs(Protocol):
    """The bytes, by attachment id (a filesystem here; S3-compatible later)."""

    async def put(self, key: str, data: bytes) -> None: ...
    async def get(self, key: str) -> bytes | None: ...
