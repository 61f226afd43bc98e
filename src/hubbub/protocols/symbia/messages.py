"""`/api/conversations/{id}/messages...`, `/control`, `/runs`: messages and stream control.

Sending is `core/message_details.py` (the core message plus its Symbia
fields, one unit); editing and deleting are `core/edits.py` (a hubbub
addition: Symbia's REST has neither, its sockets do), and so is an edited
message's history (`GET .../messages/{messageId}/history`). Listing moves
the caller's read position to the newest message it returns (Symbia's
`last_read_at`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from hubbub.clock import iso
from hubbub.errors import ValidationFailed
from hubbub.protocols.symbia.deps import Me, Scope, check_id, no_nul, scope_of
from hubbub.protocols.symbia.models import (
    SymbiaControlIn,
    SymbiaEditIn,
    SymbiaHistoryOut,
    SymbiaMessageIn,
    SymbiaMessageOut,
    SymbiaRunOut,
)
from hubbub.protocols.symbia.rows import message_row, run_row
from hubbub.rest.deps import node_of

__all__ = ["router"]

router = APIRouter(
    prefix="/api/conversations", tags=["symbia"], dependencies=[Depends(no_nul), Depends(scope_of)]
)
_ERR: dict[int | str, dict[str, Any]] = {
    400: {"description": "invalid body or parameter"},
    401: {"description": "Authentication required"},
    403: {"description": "not a participant, or not allowed"},
    404: {"description": "Conversation (or message, run) not found"},
    409: {"description": "the run's state refuses it (run_paused, run_cancelled, ...)"},
}


def _ms(value: str | None, path: str) -> int | None:
    if value is None:
        return None
    try:
        at = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise ValidationFailed("an ISO 8601 timestamp", path=path) from None
    if at.tzinfo is None:
        raise ValidationFailed("an ISO 8601 timestamp with a time zone", path=path)
    try:
        return int(at.timestamp() * 1000)
    except (OverflowError, OSError, ValueError):
        raise ValidationFailed("out of range", path=path) from None


@router.get("/{id}/messages", response_model=list[SymbiaMessageOut], responses=_ERR)
async def list_messages(
    request: Request,
    me: Me,
    id: str,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[str | None, Query(max_length=64)] = None,
    after: Annotated[str | None, Query(max_length=64)] = None,
) -> list[dict[str, Any]]:
    """Oldest first by `sequence`: the first `limit` (default 50), the last
    `limit` created before `before`, or the first created after `after`."""
    node = node_of(request)
    cid = check_id(id)
    page = await node.message_details.page(
        me.caller, cid, limit, _ms(before, "$.query.before"), _ms(after, "$.query.after")
    )
    if page and before is None:
        await node.reads.mark_read(me.caller, cid, page[-1].id)
    return [message_row(m) for m in page]


@router.post("/{id}/messages", status_code=201, response_model=SymbiaMessageOut, responses=_ERR)
async def send_message(
    request: Request,
    me: Me,
    scope: Scope,
    id: str,
    body: SymbiaMessageIn,
) -> dict[str, Any]:
    """A client `id` is an idempotency key: a retry answers the first message."""
    view = await node_of(request).message_details.send(
        me.caller, check_id(id), **body.core_args(), scope=scope, sender_type=me.user.kind
    )
    return message_row(view)


@router.post("/{id}/control", status_code=201, response_model=SymbiaMessageOut, responses=_ERR)
async def send_control(
    request: Request,
    me: Me,
    scope: Scope,
    id: str,
    body: SymbiaControlIn,
) -> dict[str, Any]:
    """A control event on run `runId` (required), committed as a message of
    content type `event`; its effect on the run is enforced (docs/symbia.md)."""
    view = await node_of(request).message_details.control(
        me.caller, check_id(id), **body.core_args(), scope=scope, sender_type=me.user.kind
    )
    return message_row(view)


@router.get("/{id}/runs", response_model=list[SymbiaRunOut], responses=_ERR)
async def list_runs(request: Request, me: Me, id: str) -> list[dict[str, Any]]:
    """The current state of every run of the conversation, oldest first."""
    runs = await node_of(request).message_details.runs(me.caller, check_id(id))
    return [run_row(r) for r in runs]


@router.get("/{id}/runs/{runId}", response_model=SymbiaRunOut, responses=_ERR)
async def get_run(
    request: Request,
    me: Me,
    id: str,
    runId: str,
) -> dict[str, Any]:
    run = await node_of(request).message_details.run(me.caller, check_id(id), runId)
    return run_row(run)


async def _view(request: Request, mid: str) -> dict[str, Any]:
    view = await node_of(request).message_details.store.view(mid)
    assert view is not None
    return message_row(view)


@router.patch("/{id}/messages/{messageId}", response_model=SymbiaMessageOut, responses=_ERR)
async def edit_message(
    request: Request,
    me: Me,
    id: str,
    messageId: str,
    body: SymbiaEditIn,
) -> dict[str, Any]:
    """Sender only; the replaced text is kept in the message's history."""
    node = node_of(request)
    cid, mid = check_id(id), check_id(messageId, "Message")
    await node.conversation_details.role_of(me.caller, cid)
    await node.edits.edit(me.caller, cid, mid, body.content)
    return await _view(request, mid)


@router.delete("/{id}/messages/{messageId}", status_code=204, responses=_ERR)
async def delete_message(
    request: Request,
    me: Me,
    id: str,
    messageId: str,
) -> Response:
    node = node_of(request)
    cid, mid = check_id(id), check_id(messageId, "Message")
    await node.conversation_details.role_of(me.caller, cid)
    await node.edits.delete(me.caller, cid, mid)
    return Response(status_code=204)


@router.get("/{id}/messages/{messageId}/history", response_model=SymbiaHistoryOut, responses=_ERR)
async def message_history(
    request: Request,
    me: Me,
    id: str,
    messageId: str,
) -> dict[str, Any]:
    """Every version of a message, oldest first, with the times each was
    shown; the last is the current text. Any participant may read it."""
    node = node_of(request)
    cid, mid = check_id(id), check_id(messageId, "Message")
    await node.conversation_details.role_of(me.caller, cid)
    msg, versions = await node.edits.versions(me.caller, cid, mid)
    out = [
        {
            "version": i + 1,
            "content": v.content,
            "valid_from": iso(v.valid_from),
            "replaced_at": iso(v.replaced_at),
        }
        for i, v in enumerate(versions)
    ]
    out.append(
        {
            "version": len(versions) + 1,
            "content": msg.content or "",
            "valid_from": iso(msg.edited_at if msg.edited_at is not None else msg.created_at),
            "replaced_at": None,
        }
    )
    return {"message": await _view(request, mid), "versions": out}
