"""`/api/v1/dialogs/{id}/messages...`: MTChat's message list, send, get, edit, delete.

Sending goes through `core/messages.py` like a `/ws` message (so `/ws`
members get `ChatMessageReceived`), with the content sanitised to an HTML
allowlist first (`html.py`) and stored as type `html`. Editing and deleting
are `core/edits.py`; the page is `core/history.py`, with the caller's first
unread message on the first page (no cursor), as MTChat sends it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import Field

from hubbub.errors import NotFound, Unavailable, ValidationFailed
from hubbub.ids import new_id
from hubbub.protocols.mtchat.deps import Body, data, mt_user, no_nul
from hubbub.protocols.mtchat.html import sanitise
from hubbub.protocols.mtchat.identity import MtUser
from hubbub.protocols.mtchat.uploads import files_of
from hubbub.protocols.mtchat.views import Names, message_json
from hubbub.rest.deps import node_of
from hubbub.rest.errors import responses

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["mtchat"], dependencies=[Depends(no_nul)])

Me = Annotated[MtUser, Depends(mt_user)]
_ERR = responses(401, 403, 404, 400)
MAX_HTML = 64 * 1024
_REPLY_PATH = "$.reply_to"


class AttachmentIn(Body):
    s3_key: str = Field(max_length=512)
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=128)
    size: int = Field(ge=0)


class SendBody(Body):
    content: str = Field(default="", max_length=MAX_HTML)
    reply_to: str | None = Field(default=None, max_length=64)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=10)


class EditBody(Body):
    content: str = Field(max_length=MAX_HTML)


def _clean(content: str, *, may_be_empty: bool = False) -> str:
    cleaned = sanitise(content)
    if not cleaned.strip() and not may_be_empty:
        raise ValidationFailed("content is empty once sanitised", path="$.content")
    return cleaned


@router.get("/dialogs/{dialog_id}/messages", responses=_ERR)
async def list_messages(
    request: Request,
    me: Me,
    dialog_id: str,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    before: Annotated[str | None, Query(max_length=64)] = None,
    after: Annotated[str | None, Query(max_length=64)] = None,
    around: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    node = node_of(request)
    page = await node.history.page(me.user_id, dialog_id, limit, before, after, around)
    names = Names(node)
    await names.load(m.sender_id for m in page.messages)
    first_unread = None
    if before is None and after is None and around is None:
        first_unread = await node.reads.first_unread(me.user_id, dialog_id)
    files = await files_of(request, [m.id for m in page.messages])
    return data(
        {
            "messages": [message_json(m, names, files) for m in page.messages],
            "first_unread_message_id": first_unread,
            "has_more_before": page.has_more_before,
            "has_more_after": page.has_more_after,
        }
    )


@router.post("/dialogs/{dialog_id}/messages", responses=_ERR)
async def send_message(request: Request, me: Me, dialog_id: str, body: SendBody) -> dict[str, Any]:
    node = node_of(request)
    keys = [a.s3_key for a in body.attachments]
    content = _clean(body.content, may_be_empty=bool(keys))
    mid = new_id()
    # Bound before the send, so the message never lists a file another send took.
    files = await node.attachments.reserve(me.user_id, dialog_id, keys, mid) if keys else []
    # The files ride on the message's event, so `message.new` lists them (`events.py`).
    listed = [
        {"id": f.id, "filename": f.filename, "content_type": f.content_type, "size": f.size}
        for f in files
    ]
    try:
        sent = await node.messages.send_text(
            me.caller,
            dialog_id,
            content,
            "html",
            None,
            False,
            None,
            {"attachments": listed} if listed else None,
            reply_to=body.reply_to,
            reply_path=_REPLY_PATH,
            message_id=mid,
        )
    except Unavailable:
        raise  # the commit is in doubt: kept bound (collected if the message never was)
    except BaseException as exc:
        if keys:
            await node.attachments.release(keys, mid)
        if isinstance(exc, ValidationFailed) and exc.path == _REPLY_PATH:
            # MTChat names a message it cannot find MESSAGE_NOT_FOUND (`errors.py`).
            raise NotFound("message replied to not found", path=_REPLY_PATH) from None
        raise
    msg = await node.history.message(me.user_id, dialog_id, sent["message_id"])
    names = Names(node)
    await names.load([msg.sender_id])
    return data(message_json(msg, names, await files_of(request, [msg.id])))


@router.get("/dialogs/{dialog_id}/messages/{message_id}", responses=_ERR)
async def get_message(request: Request, me: Me, dialog_id: str, message_id: str) -> dict[str, Any]:
    node = node_of(request)
    msg = await node.history.message(me.user_id, dialog_id, message_id)
    names = Names(node)
    await names.load([msg.sender_id])
    return data(message_json(msg, names, await files_of(request, [msg.id])))


@router.put("/dialogs/{dialog_id}/messages/{message_id}", responses=_ERR)
async def edit_message(
    request: Request, me: Me, dialog_id: str, message_id: str, body: EditBody
) -> dict[str, Any]:
    node = node_of(request)
    msg = await node.edits.edit(me.caller, dialog_id, message_id, _clean(body.content))
    names = Names(node)
    await names.load([msg.sender_id])
    return data(message_json(msg, names, await files_of(request, [msg.id])))


@router.delete("/dialogs/{dialog_id}/messages/{message_id}", status_code=204, responses=_ERR)
async def delete_message(request: Request, me: Me, dialog_id: str, message_id: str) -> Response:
    await node_of(request).edits.delete(me.caller, dialog_id, message_id)
    return Response(status_code=204)
