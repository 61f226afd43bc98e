"""`/api/v1/upload/presign` and `/api/v1/attachments/...`: MTChat's file flow.

    POST /upload/presign {dialog_id, filename, content_type, size}
        -> {upload_url, s3_key, expires_in}      (a participant; checked in core)
    PUT  <upload_url>  body = the file           (signed URL, once, exact size)
    POST /dialogs/{id}/messages {attachments: [{s3_key, ...}]}
    GET  /attachments/{id}/url -> {url, thumbnail_url, expires_in}   (participants)
    GET  <url>                                    (signed URL) -> the bytes

Downloads are served as `attachment` with `nosniff` and a sandboxing CSP, so
an uploaded HTML or SVG file never runs as a page of hubbub's origin.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from pydantic import Field

from hubbub.core.attachments import MAX_ATTACHMENT_BYTES
from hubbub.core.ports.attachments import AttachmentRecord
from hubbub.errors import NotFound, TooLarge
from hubbub.protocols.mtchat.deps import Body, data, mt_user, no_nul
from hubbub.protocols.mtchat.identity import MtUser
from hubbub.protocols.mtchat.urls import (
    DOWNLOAD_TTL_S,
    UPLOAD_TTL_S,
    Signer,
    base_url,
    download_url,
)
from hubbub.protocols.mtchat.views import attachment_json
from hubbub.rest.blob_ranges import serve_blob
from hubbub.rest.deps import node_of
from hubbub.rest.errors import responses
from hubbub.runtime import Node

__all__ = ["files_of", "router"]

router = APIRouter(prefix="/api/v1", tags=["mtchat"], dependencies=[Depends(no_nul)])
Me = Annotated[MtUser, Depends(mt_user)]
_ERR = responses(401, 404, 400)


class PresignBody(Body):
    dialog_id: str = Field(max_length=64)
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=128)
    size: int = Field(ge=0, le=2**40)


def _signer(request: Request) -> Signer:
    signer: Signer = request.app.state.mtchat_signer
    return signer


def _now_s(node: Node) -> int:
    return node.clock.now_ms() // 1000


def _url(request: Request, rec: AttachmentRecord) -> str:
    node = node_of(request)
    return download_url(_signer(request), base_url(request, node.settings), rec.id, _now_s(node))


def _json(request: Request, rec: AttachmentRecord) -> dict[str, Any]:
    url = _url(request, rec)
    return attachment_json(rec.id, rec.filename, rec.content_type, rec.size, url)


async def files_of(request: Request, message_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    found = await node_of(request).attachments.of_messages(message_ids)
    return {mid: [_json(request, r) for r in recs] for mid, recs in found.items()}


@router.post("/upload/presign", responses=responses(401, 404, 413, 400))
async def presign(request: Request, me: Me, body: PresignBody) -> dict[str, Any]:
    node = node_of(request)
    rec = await node.attachments.announce(
        me.user_id, body.dialog_id, body.filename, body.content_type, body.size
    )
    q = _signer(request).query("put", rec.id, _now_s(node), UPLOAD_TTL_S)
    url = f"{base_url(request, node.settings)}/api/v1/attachments/{rec.id}/upload?{q}"
    return data({"upload_url": url, "s3_key": rec.id, "expires_in": UPLOAD_TTL_S})


def _check(request: Request, op: str, attachment_id: str) -> None:
    q = request.query_params
    node = node_of(request)
    if not _signer(request).valid(
        op, attachment_id, q.get("exp", ""), q.get("sig", ""), _now_s(node)
    ):
        raise NotFound("no such upload or download, or its URL expired")


@router.put("/attachments/{attachment_id}/upload", responses=responses(404, 413, 400))
async def upload(request: Request, attachment_id: str) -> dict[str, Any]:
    _check(request, "put", attachment_id)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_ATTACHMENT_BYTES:
        raise TooLarge("file too large")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_ATTACHMENT_BYTES:
            raise TooLarge("file too large")
        chunks.append(chunk)
    await node_of(request).attachments.accept_upload(attachment_id, b"".join(chunks))
    return {"success": True}


@router.get("/attachments/{attachment_id}/url", responses=_ERR)
async def attachment_url(request: Request, me: Me, attachment_id: str) -> dict[str, Any]:
    rec = await node_of(request).attachments.for_download(me.user_id, attachment_id)
    # MTChat's answer names `thumbnail_url` (null: hubbub makes no thumbnails).
    return data({"url": _url(request, rec), "thumbnail_url": None, "expires_in": DOWNLOAD_TTL_S})


@router.get("/attachments/{attachment_id}/content", responses=responses(400, 404))
async def attachment_content(request: Request, attachment_id: str) -> Response:
    _check(request, "get", attachment_id)
    node = node_of(request)
    rec, meta = await node.attachments.content(attachment_id)
    return await serve_blob(
        node.blobs,
        meta,
        request.headers.get("range"),
        {
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(rec.filename)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "Cache-Control": "private, max-age=3600",
        },
    )
