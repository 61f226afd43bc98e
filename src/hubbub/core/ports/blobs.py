"""Uploaded files: their bytes and what is known about them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["BlobMeta", "BlobMetaStore", "BlobRefStore", "BlobStore"]


@dataclass(slots=True)
class BlobMeta:
    id: str
    owner_id: str
    purpose: str  # what it was uploaded for ("room" today), for per-use limits and GC
    name: str
    mime: str
    size: int
    created_at: int


class BlobStore(Protocol):
    async def put(self, meta: BlobMeta, data: bytes) -> None: ...
    async def get(self, blob_id: str) -> tuple[BlobMeta, bytes] | None: ...
    async def delete(self, blob_id: str) -> None:
        """Forget a blob (an orphan: a retry's second copy); absent is fine."""
        ...


class BlobMetaStore(Protocol):
    """The metadata half, for a store that keeps the bytes elsewhere (files)."""

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

    async def delete_refs(self, blob_id: str) -> None: ...
    async def secret(self, name: str, candidate: str, now: int) -> str:
        """The stored secret `name`; `candidate` becomes it if there was none
        (the first node to ask wins, every node reads the same value)."""
        ...
