"""Blobs: uploaded files, checked once here whatever protocol brought them.

An upload is accepted only if its declared size is within the use's limit
and equals the decoded size, its base64 is strict, and its MIME type is on
the use's allowlist. Ids are 192 random bits (`secrets.token_urlsafe`): the
download URL is the capability, handed only to those allowed to see the
message that carries it (for the public room: whoever is in the room).
Where the bytes live is the store's business (`blobs/filesystem.py` under
the data dir, the database, or `blobs/s3.py` in a bucket; see docs/blobs.md).
Downloads stream: `stream` hands out at most `CHUNK_BYTES` at a time.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

from hubbub.clock import Clock
from hubbub.core.ports.blobs import BlobGone, BlobMeta, BlobStore
from hubbub.errors import NotFound, TooLarge, ValidationFailed

__all__ = ["ORPHAN_AFTER_MS", "BlobPolicy", "Blobs", "check_blob_id", "read_all"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MIME = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$")
_BLOB_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
MAX_NAME = 255
# An upload's message commits within seconds of its blob; a blob still
# unreferenced after this long is an orphan (a crash in between, a deleted
# message) and the collectors (core/voice.py, core/rooms.py) delete it.
ORPHAN_AFTER_MS = 3600 * 1000


@dataclass(frozen=True, slots=True)
class BlobPolicy:
    """Limits of one use of blobs (room files, later voice notes, exports...)."""

    purpose: str
    max_bytes: int
    mime_types: frozenset[str]


def check_blob_id(blob_id: str) -> bool:
    return bool(_BLOB_ID.match(blob_id))


def _mime(raw: str, allowed: frozenset[str], path: str) -> str:
    base = raw.split(";", 1)[0].strip().lower()
    if not _MIME.match(base):
        raise ValidationFailed("not a MIME type", path=path)
    if base not in allowed:
        raise ValidationFailed(
            f"type {base} is not allowed here (allowed: {', '.join(sorted(allowed))})", path=path
        )
    return base


class Blobs:
    def __init__(self, store: BlobStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    async def upload(
        self,
        owner_id: str,
        policy: BlobPolicy,
        name: str,
        mime: str,
        declared_size: int,
        data_b64: str,
        base: str = "$.file",
    ) -> BlobMeta:
        """Check and store one file; `base` is the JSON path of the file object."""
        if not name or len(name) > MAX_NAME or _CONTROL.search(name):
            raise ValidationFailed(
                f"1..{MAX_NAME} characters without control characters", path=f"{base}.name"
            )
        if declared_size < 1:
            raise ValidationFailed("must be at least 1", path=f"{base}.size")
        if declared_size > policy.max_bytes:
            raise TooLarge(f"files may be at most {policy.max_bytes} bytes", path=f"{base}.size")
        mime = _mime(mime, policy.mime_types, f"{base}.type")
        if len(data_b64) > 4 * ((policy.max_bytes + 2) // 3) + 4:
            raise TooLarge(f"files may be at most {policy.max_bytes} bytes", path=f"{base}.data")
        try:
            data = base64.b64decode(data_b64, validate=True)
        except (binascii.Error, ValueError):
            raise ValidationFailed("not valid base64", path=f"{base}.data") from None
        if len(data) != declared_size:
            raise ValidationFailed(
                f"size says {declared_size} bytes but data holds {len(data)}", path=f"{base}.size"
            )
        meta = BlobMeta(
            secrets.token_urlsafe(24),
            owner_id,
            policy.purpose,
            name,
            mime,
            len(data),
            self.clock.now_ms(),
        )
        await self.store.put(meta, data)
        return meta

    async def put_checked(
        self, owner_id: str, purpose: str, name: str, mime: str, data: bytes
    ) -> BlobMeta:
        """Store bytes a use's own rules already checked (a voice note's audio)."""
        meta = BlobMeta(
            secrets.token_urlsafe(24), owner_id, purpose, name, mime, len(data), self.clock.now_ms()
        )
        await self.store.put(meta, data)
        return meta

    async def delete(self, blob_id: str) -> None:
        """Forget an orphan (a retry's second copy of a voice note)."""
        if check_blob_id(blob_id):
            await self.store.delete(blob_id)

    async def open(self, blob_id: str) -> BlobMeta:
        """A blob by id; an id that is malformed or unknown is the same `not_found`."""
        found = await self.store.stat(blob_id) if check_blob_id(blob_id) else None
        if found is None:
            raise NotFound("file not found")
        return found

    async def stream(self, meta: BlobMeta, start: int, stop: int) -> AsyncIterator[bytes]:
        """Bytes `start`..`stop` (exclusive) of an opened blob, in chunks.

        The first chunk is read before this returns, so bytes that vanished
        since `open` (collected meanwhile) are still a clean `not_found`
        rather than a response cut off after its headers."""
        if not 0 <= start < stop <= meta.size:
            raise ValueError("range outside the blob")
        chunks = self.store.read(meta.id, start, stop)
        try:
            first = await anext(chunks)
        except (BlobGone, StopAsyncIteration):
            raise NotFound("file not found") from None
        return _chain(first, chunks)


async def _chain(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield first
    async for chunk in rest:
        yield chunk


async def read_all(blobs: Blobs, blob_id: str) -> tuple[BlobMeta, bytes]:
    """A whole blob in memory: for tests and small blobs only (downloads stream)."""
    meta = await blobs.open(blob_id)
    parts = [c async for c in await blobs.stream(meta, 0, meta.size)]
    return meta, b"".join(parts)
