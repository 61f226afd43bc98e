"""`/api/v1/dialogs...`: MTChat's dialog list, one dialog, joining, leaving,
the caller's own settings (archive, pin, notifications), read position and
participants. Each route authenticates (`identity.py`), calls the core and
renders; the rules (who sees what by scope, who may join) are in
`core/dialogs.py`, `core/reads.py`, `core/archive.py` and `core/pins.py`.
"""

from __future__ import annotations

from contextlib import aclosing
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field

from hubbub.clock import iso
from hubbub.core.dialogs import DialogView
from hubbub.core.ports.dialogs import DialogRecord, Participant, ScopeRule
from hubbub.errors import NotFound, ValidationFailed
from hubbub.protocols.mtchat.deps import Body, data, mt_user, no_nul, scope_of
from hubbub.protocols.mtchat.identity import MtUser
from hubbub.protocols.mtchat.views import Names, dialog_json, participant_json
from hubbub.rest.deps import node_of
from hubbub.rest.errors import responses
from hubbub.runtime import Node

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["mtchat"], dependencies=[Depends(no_nul)])

Me = Annotated[MtUser, Depends(mt_user)]
Scope = Annotated[ScopeRule | None, Depends(scope_of)]
_ERR = responses(401, 403, 404, 400)


class JoinBody(Body):
    display_name: str = Field(min_length=1, max_length=256)
    company: str | None = Field(default=None, max_length=256)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=64)


class ReadBody(Body):
    last_read_message_id: str = Field(max_length=64)


class NotificationsBody(Body):
    enabled: bool


async def _item(
    node: Node, me: MtUser, d: DialogRecord, member: bool, archived: set[str], names: Names
) -> dict[str, Any]:
    """One entry of a dialog list, as the SDK keeps it (counts, last message, people)."""
    cid = d.conversation_id
    people = await node.stores.dialogs.participants(cid)
    await names.load(p.user_id for p in people)
    mine = next((p for p in people if p.user_id == me.user_id), None)
    last = await node.stores.history.last_message(cid)
    out = dialog_json(d) | {
        "participants_count": len(people),
        "i_am_participant": member,
        "can_join": not member,
        "unread_count": await node.reads.unread(me.user_id, cid) if member else None,
        "is_archived": cid in archived if member else None,
        "is_pinned": mine.is_pinned if mine else None,
        "notifications_enabled": mine.notifications_enabled if mine else None,
        "last_message_at": iso(last.created_at) if last else None,
        "participants": [
            {"user_id": names.of(p.user_id), "display_name": p.display_name, "company": p.company}
            for p in people
        ],
    }
    if member and last is not None:
        await names.load([last.sender_id])
        system = last.content_type == "system"
        sender = next((p for p in people if p.user_id == last.sender_id), None)
        out["last_message"] = {
            "id": last.id,
            "content": last.content,
            "sent_at": iso(last.created_at),
            "message_type": "system" if system else "user",
        } | (
            {}
            if system
            else {
                "sender_id": names.of(last.sender_id),
                "sender_name": sender.display_name if sender else None,
            }
        )
    return out


def _matches(item: dict[str, Any], search: str | None) -> bool:
    if not search:
        return True
    needle = search.lower()
    if needle in (item["title"] or "").lower():
        return True
    return any(needle in (p["company"] or "").lower() for p in item["participants"])


async def _available_page(
    node: Node,
    me: MtUser,
    scope: ScopeRule | None,
    mine: set[str],
    names: Names,
    search: str | None,
    offset: int,
    limit: int,
) -> list[dict[str, Any]]:
    """One page of `available`, read only as far as it needs (no cap: core/dialogs.py)."""
    items: list[dict[str, Any]] = []
    skipped = 0
    async with aclosing(node.dialogs.available(me.user_id, scope)) as found:
        async for d in found:
            item = None
            if search:
                item = await _item(node, me, d, False, mine, names)
                if not _matches(item, search):
                    continue
            if skipped < offset:
                skipped += 1
                continue
            items.append(item or await _item(node, me, d, False, mine, names))
            if len(items) == limit:
                break
    return items


@router.get("/dialogs", responses=_ERR)
async def list_dialogs(
    request: Request,
    me: Me,
    scope: Scope,
    type: Literal["participating", "available"] = "participating",
    search: Annotated[str | None, Query(max_length=256)] = None,
    archived: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> dict[str, Any]:
    node = node_of(request)
    names = Names(node)
    mine = await node.archive.archived_of(me.user_id)
    if type == "available":
        return data(await _available_page(node, me, scope, mine, names, search, offset, limit))
    found = [(d, True) for d in await node.dialogs.participating(me.user_id, scope)]
    if archived is not None:
        found = [(d, m) for d, m in found if (d.conversation_id in mine) == archived]
    items = []
    for d, member in found:
        item = await _item(node, me, d, member, mine, names)
        if _matches(item, search):
            items.append(item)
    return data(items[offset : offset + limit])


@router.get("/dialogs/by-object/{object_type}/{object_id}", responses=_ERR)
async def dialog_by_object(
    request: Request, me: Me, scope: Scope, object_type: str, object_id: str
) -> dict[str, Any]:
    node = node_of(request)
    views = await node.dialogs.by_object(me.user_id, scope, object_type, object_id)
    if not views:
        raise NotFound("dialog not found")
    v = next((v for v in views if v.is_member), views[0])
    mine = await node.archive.archived_of(me.user_id)
    return data(await _item(node, me, v.dialog, v.is_member, mine, Names(node)))


@router.get("/dialogs/by-object/{object_type}/{object_id}/list", responses=_ERR)
async def dialogs_by_object(
    request: Request,
    me: Me,
    scope: Scope,
    object_type: str,
    object_id: str,
    archived: bool | None = None,
    search: Annotated[str | None, Query(max_length=256)] = None,
) -> dict[str, Any]:
    node = node_of(request)
    names = Names(node)
    mine = await node.archive.archived_of(me.user_id)
    out = []
    for v in await node.dialogs.by_object(me.user_id, scope, object_type, object_id):
        cid = v.dialog.conversation_id
        if v.is_member and archived is not None and (cid in mine) != archived:
            continue
        item = await _item(node, me, v.dialog, v.is_member, mine, names)
        if _matches(item, search):
            rest = {k: val for k, val in item.items() if k not in dialog_json(v.dialog)}
            out.append({"dialog": dialog_json(v.dialog)} | rest)
    return data(out)


async def _view(request: Request, me: MtUser, scope: ScopeRule | None, cid: str) -> DialogView:
    return await node_of(request).dialogs.view(me.user_id, cid, scope)


@router.get("/dialogs/{dialog_id}", responses=_ERR)
async def get_dialog(request: Request, me: Me, scope: Scope, dialog_id: str) -> dict[str, Any]:
    node = node_of(request)
    v = await _view(request, me, scope, dialog_id)
    mine = await node.archive.archived_of(me.user_id)
    return data(await _item(node, me, v.dialog, v.is_member, mine, Names(node)))


@router.post("/dialogs/{dialog_id}/join", responses=_ERR)
async def join_dialog(
    request: Request, me: Me, scope: Scope, dialog_id: str, body: JoinBody
) -> dict[str, Any]:
    profile = Participant(me.user_id, body.display_name, body.company, body.email, body.phone)
    if not await node_of(request).dialogs.join(me.caller, dialog_id, scope, profile):
        raise ValidationFailed("Already a participant", code="BAD_REQUEST")  # as MTChat
    return {"status": "joined", "dialog_id": dialog_id}


@router.post("/dialogs/{dialog_id}/leave", responses=_ERR)
async def leave_dialog(request: Request, me: Me, dialog_id: str) -> dict[str, Any]:
    await node_of(request).dialogs.leave(me.caller, dialog_id)
    return {"status": "left", "dialog_id": dialog_id}


@router.post("/dialogs/{dialog_id}/archive", responses=_ERR)
async def archive_dialog(request: Request, me: Me, dialog_id: str) -> dict[str, Any]:
    await node_of(request).archive.set_archived(me.caller, dialog_id, True)
    return {"success": True}


@router.post("/dialogs/{dialog_id}/unarchive", responses=_ERR)
async def unarchive_dialog(request: Request, me: Me, dialog_id: str) -> dict[str, Any]:
    await node_of(request).archive.set_archived(me.caller, dialog_id, False)
    return {"success": True}


@router.post("/dialogs/{dialog_id}/pin", responses=_ERR)
async def pin_dialog(request: Request, me: Me, dialog_id: str) -> dict[str, Any]:
    await node_of(request).pins.set_pinned(me.caller, dialog_id, True)
    return {"success": True}


@router.post("/dialogs/{dialog_id}/unpin", responses=_ERR)
async def unpin_dialog(request: Request, me: Me, dialog_id: str) -> dict[str, Any]:
    await node_of(request).pins.set_pinned(me.caller, dialog_id, False)
    return {"success": True}


@router.post("/dialogs/{dialog_id}/notifications", responses=_ERR)
async def set_notifications(
    request: Request, me: Me, dialog_id: str, body: NotificationsBody
) -> dict[str, Any]:
    node = node_of(request)
    await node.dialogs.set_preference(me.caller, dialog_id, "notifications_enabled", body.enabled)
    return {"success": True}


@router.post("/dialogs/{dialog_id}/read", responses=_ERR)
async def mark_read(request: Request, me: Me, dialog_id: str, body: ReadBody) -> dict[str, Any]:
    await node_of(request).reads.mark_read(me.caller, dialog_id, body.last_read_message_id)
    return {"success": True}


@router.get("/dialogs/{dialog_id}/participants", responses=_ERR)
async def list_participants(
    request: Request, me: Me, scope: Scope, dialog_id: str
) -> dict[str, Any]:
    node = node_of(request)
    people, member = await node.dialogs.participants(me.user_id, dialog_id, scope)
    names = Names(node)
    await names.load(p.user_id for p in people)
    online = await node.presence.visible_online_among(me.user_id, {p.user_id for p in people})
    out = []
    for p in people:
        row = participant_json(dialog_id, p, names) | {"is_online": p.user_id in online}
        if member:
            pos = await node.reads.position(p.user_id, dialog_id)
            row["last_read_message_id"] = pos[0] if pos else None
        out.append(row)
    return data(out)
