"""`GET /chat/files/{file_id}`: downloading a file posted in the public room.

The URL a `message` carries is the capability (192 random bits, see
`core/blobs.py`): the room is public, so whoever is in it may fetch its
files, and nobody can guess one. A malformed or unknown id is the same 404.
Files are served as attachments, `nosniff` and sandboxed, so an upload can
never run as a page of this origin; the body streams, and one `Range` is
honoured (`rest/blob_ranges.py`).
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hubbub.rest.blob_ranges import serve_blob
from hubbub.runtime import Node

__all__ = ["router"]

router = APIRouter(tags=["simplechat"])


def _disposition(name: str) -> str:
    ascii_name = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name
    )
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


@router.get(
    "/chat/files/{file_id}",
    summary="Download a file posted in the public room (spec 001)",
    responses={
        200: {"content": {"application/octet-stream": {}}},
        206: {"description": "the one byte range a `Range: bytes=a-b` header asked for"},
        404: {"description": "no such file"},
        416: {"description": "a range beyond the end (`Content-Range: bytes */size`)"},
    },
)
async def download(file_id: str, request: Request) -> Response:
    node: Node = request.app.state.node
    meta = await node.blobs.open(file_id)
    headers = {
        "Content-Disposition": _disposition(meta.name),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "Cache-Control": "private, max-age=86400, immutable",
    }
    return await serve_blob(node.blobs, meta, request.headers.get("range"), headers)
