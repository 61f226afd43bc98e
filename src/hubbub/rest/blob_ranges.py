"""Serving a blob over HTTP: one `Range`, streamed in chunks.

Both download routes (`/v1/blobs/{id}` in `rest/blobs.py`, the public
room's `/chat/files/{id}` in `protocols/simplechat/files.py`) answer the
same way: the whole blob (200) or the one byte range asked for (206;
`<audio>` seeks with `Range`, Safari plays nothing without 206 answers), 416
past the end, several ranges answered with the whole. The body is a
`StreamingResponse` over `Blobs.stream`, so a download holds one chunk
(`CHUNK_BYTES`) in memory whatever the blob's size and backend.
"""

from __future__ import annotations

import re

from fastapi.responses import Response, StreamingResponse

from hubbub.core.blobs import Blobs
from hubbub.core.ports.blobs import BlobMeta

__all__ = ["byte_range", "serve_blob"]

_RANGE = re.compile(r"^bytes=(\d{0,15})-(\d{0,15})$")


def byte_range(range_header: str | None, size: int) -> tuple[int, int] | str | None:
    """`(start, stop)` of the one range asked for, None for the whole blob,
    or "unsatisfiable" (416)."""
    m = _RANGE.match(range_header.strip()) if range_header else None
    if m is None or m.group(1) == m.group(2) == "":
        return None
    if m.group(1) == "":  # the last N bytes
        start, end = max(0, size - int(m.group(2))), size - 1
    else:
        start = int(m.group(1))
        end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
    if start >= size or end < start:
        return "unsatisfiable"
    return start, end + 1


async def serve_blob(
    blobs: Blobs, meta: BlobMeta, range_header: str | None, headers: dict[str, str]
) -> Response:
    """The blob's bytes (or the asked range) with `headers` added."""
    headers = {**headers, "Accept-Ranges": "bytes"}
    wanted = byte_range(range_header, meta.size)
    if wanted == "unsatisfiable":
        headers["Content-Range"] = f"bytes */{meta.size}"
        return Response(status_code=416, headers=headers)
    status = 200
    start, stop = 0, meta.size
    if isinstance(wanted, tuple):
        start, stop = wanted
        status = 206
        headers["Content-Range"] = f"bytes {start}-{stop - 1}/{meta.size}"
    body = await blobs.stream(meta, start, stop)
    headers["Content-Length"] = str(stop - start)
    return StreamingResponse(body, status_code=status, media_type=meta.mime, headers=headers)
