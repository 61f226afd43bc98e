"""Blobs as files under the data dir, their metadata in the database.

    <data dir>/blobs/<id[:2]>/<id>

A file is written to a temporary name, fsynced and renamed into place before
its metadata row commits, so a row always names a complete file; a crash in
between leaves at most an orphan file, which no row names. Ids come from
`core/blobs.py` (URL-safe base64), so they are safe path components;
anything else is refused before a path is built. Disk I/O runs in a worker
thread, off the event loop; a download reads `CHUNK_BYTES` at a time.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

from hubbub.core.blobs import check_blob_id
from hubbub.core.ports.blobs import CHUNK_BYTES, BlobGone, BlobMeta, BlobMetaStore

__all__ = ["FsBlobs"]


class FsBlobs:
    """`core.ports.BlobStore` over a directory (one node, or a shared mount)."""

    def __init__(self, root: Path, meta: BlobMetaStore) -> None:
        self.root = root
        self.meta = meta

    def _path(self, blob_id: str) -> Path:
        if not check_blob_id(blob_id):
            raise ValueError("not a blob id")
        return self.root / blob_id[:2] / blob_id

    def _write(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    async def put(self, meta: BlobMeta, data: bytes) -> None:
        await asyncio.to_thread(self._write, self._path(meta.id), data)
        await self.meta.put_meta(meta)

    async def stat(self, blob_id: str) -> BlobMeta | None:
        if not check_blob_id(blob_id):
            return None
        meta = await self.meta.get_meta(blob_id)
        if meta is None or not await asyncio.to_thread(self._path(blob_id).is_file):
            return None
        return meta

    def _open(self, blob_id: str, start: int) -> BinaryIO:
        try:
            f = open(self._path(blob_id), "rb")
        except (FileNotFoundError, ValueError):
            raise BlobGone(blob_id) from None
        f.seek(start)
        return f

    async def read(self, blob_id: str, start: int, stop: int) -> AsyncIterator[bytes]:
        f = await asyncio.to_thread(self._open, blob_id, start)
        try:
            left = stop - start
            while left > 0:
                chunk = await asyncio.to_thread(f.read, min(left, CHUNK_BYTES))
                if not chunk:
                    raise BlobGone(blob_id)  # shorter than its row says: truncated
                left -= len(chunk)
                yield chunk
        finally:
            f.close()

    async def delete(self, blob_id: str) -> None:
        if not check_blob_id(blob_id):
            return
        await self.meta.delete_meta(blob_id)  # the row first: a row always names a file
        await asyncio.to_thread(self._path(blob_id).unlink, True)
