"""Uploaded files: their bytes and what is known about them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["BlobMeta", "BlobMetaStore", "BlobStore"]


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


class BlobMetaStore(Protocol):
    """The metadata half, for a store that keeps the bytes elsewhere (files)."""

    async def put_meta(self, meta: BlobMeta) -> None: ...
    async def get_meta(self, blob_id: str) -> BlobMeta | None: ...
