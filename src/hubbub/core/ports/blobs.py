"""Uploaded files: their bytes and what is known about them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

__all__ = ["CHUNK_BYTES", "BlobGone", "BlobMeta", "BlobMetaStore", "BlobRefStore", "BlobStore"]

# What a download holds in memory at a time, whatever the backend and the
# blob's size (docs/blobs.md).
CHUNK_BYTES = 64 * 1024


@dataclass(slots=True)
class BlobMeta:
    id: str
    owner_id: str
    purpose: str  # what it was uploaded for ("room", "voice"), for per-use limits and GC
    name: str
    mime: str
    size: int
    created_at: int


class BlobGone(Exception):
    """The bytes of a blob are not there (deleted meanwhile, or never written)."""


class BlobStore(Protocol):
    """Where the bytes live: the filesystem, the database or an S3 bucket.

    `put` takes the whole blob: every upload today arrives inside one JSON
    frame, already bounded by its use's limit. Reads are streamed."""

    async def put(self, meta: BlobMeta, data: bytes) -> None: ...
    async def stat(self, blob_id: str) -> BlobMeta | None:
        """The blob's metadata, if it is stored (the bytes may still vanish
        before `read`, which then raises `BlobGone`)."""
        ...

    def read(self, blob_id: str, start: int, stop: int) -> AsyncIterator[bytes]:
        """Bytes `start` to `stop` (exclusive), in chunks of at most
        `CHUNK_BYTES`; raises `BlobGone` if the bytes are not there."""
        ...

    async def delete(self, blob_id: str) -> None:
        """Forget a blob (an orphan, or one no message carries any more); absent is fine."""
        ...


class BlobMetaStore(Protocol):
    """The metadata half, for a store that keeps the bytes elsewhere (files, S3)."""

    async def put_meta(self, meta: BlobMeta) -> None: ...
    async def get_meta(self, blob_id: str) -> BlobMeta | None: ...
    async def delete_meta(self, blob_id: str) -> None: ...


class BlobRefStore(Protocol):
    """Which conversation a blob belongs to, and the secrets that sign its URLs."""

    async def put_ref(
        self, blob_id: str, conversation_id: str, message_id: str, now: int
    ) -> None: ...
    async def ref_conversations(self, blob_id: str) -> list[str]: ...
    async def delete_ref(self, blob_id: str, conversation_id: str) -> None: ...
    async def unreferenced(self, purpose: str, before: int, limit: int) -> list[str]:
        """Blobs of `purpose` created before `before` that no live message carries."""
        ...

    async def created_before(
        self, purpose: str, before: int, after_id: str, limit: int
    ) -> list[str]:
        """Ids of blobs of `purpose` created before `before`, in id order after
        `after_id` (a page of a scan; room files are kept by what the room shows)."""
        ...

    async def delete_refs(self, blob_id: str) -> None: ...
    async def secret(self, name: str, candidate: str, now: int) -> str:
        """The stored secret `name`; `candidate` becomes it if there was none
        (the first node to ask wins, every node reads the same value)."""
        ...
