"""`/v1/blobs/{blob_id}`: downloading a voice note's audio, and signed URLs for it.

Who may download what is decided in `core/blob_access.py`: members of the
blob's conversation, with `Authorization: Bearer` (or `X-API-Key`), or with
a signed URL from `POST /v1/blobs/{blob_id}/url` (for `<audio src>`, which
sends no header). Served `nosniff` and sandboxed, so a blob never runs as a
page of this origin. The body streams (`rest/blob_ranges.py`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from hubbub.clock import iso
from hubbub.core.context import Caller
from hubbub.rest.blob_ranges import serve_blob
from hubbub.rest.deps import current_caller, node_of
from hubbub.rest.errors import responses

__all__ = ["router"]

router = APIRouter(tags=["blobs"])


class SignedUrlOut(BaseModel):
    url: str
    expires_at: str


_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "Cache-Control": "private, max-age=300",
}


@router.get(
    "/v1/blobs/{blob_id}",
    responses={
        200: {"content": {"audio/ogg": {}}, "description": "the blob's bytes, as uploaded"},
        206: {"description": "the one byte range a `Range: bytes=a-b` header asked for"},
        416: {"description": "a range beyond the end (`Content-Range: bytes */size`)"},
        **responses(401, 403, 404),
    },
)
async def download_blob(
    blob_id: str,
    request: Request,
    u: Annotated[str | None, Query(max_length=64)] = None,
    exp: Annotated[str | None, Query(max_length=16)] = None,
    sig: Annotated[str | None, Query(max_length=128)] = None,
) -> Response:
    """A blob's bytes, with its Content-Type. Members of its conversation only:
    with a bearer token, or with the `u`, `exp` and `sig` of a signed URL
    (403 when the signature is wrong or expired). 404: no such blob, or one
    the caller may not see (same answer). One `Range: bytes=a-b` is honoured."""
    node = node_of(request)
    if sig is not None or exp is not None or u is not None:
        meta = await node.blob_access.open_signed(blob_id, u or "", exp or "", sig or "")
    else:
        meta = await node.blob_access.open_for(await current_caller(request), blob_id)
    headers = {**_HEADERS, "Content-Disposition": f'inline; filename="{meta.name}"'}
    return await serve_blob(node.blobs, meta, request.headers.get("range"), headers)


@router.post("/v1/blobs/{blob_id}/url", response_model=SignedUrlOut, responses=responses(401, 404))
async def sign_blob_url(
    blob_id: str, request: Request, caller: Annotated[Caller, Depends(current_caller)]
) -> SignedUrlOut:
    """A short-lived URL of the blob that works without a header (`<audio src>`),
    bound to the caller: valid for `--blob-url-ttl-s` and while the caller is
    a member of the blob's conversation."""
    signed = await node_of(request).blob_access.mint(caller, blob_id)
    return SignedUrlOut(url=signed.url, expires_at=iso(signed.expires_at_ms))
