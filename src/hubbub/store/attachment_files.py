"""Attachment bytes on the filesystem (`core.ports.AttachmentBlobs`).

A stand-in until hubbub's shared blob store (`blobs/`) serves attachments:
the nodes of a cluster must share this directory (`<data dir>/attachments`). Writes go to a
temporary file renamed into place, so a reader never sees half a file.
"""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

__all__ = ["FileBlobs"]

_KEY = re.compile(r"^[0-9a-f-]{36}$")


class FileBlobs:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise ValueError("bad blob key")
        return self.root / key[:2] / key

    async def put(self, key: str, data: bytes) -> None:
        path = self._path(key)

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".part")
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)

        await asyncio.to_thread(write)

    async def get(self, key: str) -> bytes | None:
        path = self._path(key)

        def read() -> bytes | None:
            try:
                return path.read_bytes()
            except FileNotFoundError:
                return None

        return await asyncio.to_thread(read)
