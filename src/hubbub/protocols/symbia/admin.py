"""`/api/admin/...`: Symbia's admin routes, plus organisations and capabilities.

Conversation routes are open to server admins (`core.admin`, every
conversation) and to organisation admins (their organisations' conversations
only: another's answer 404 like an unknown id, an `orgId` of another 403).
Organisations, their members and capabilities are managed by server admins
only (docs/symbia.md).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from hubbub.clock import iso
from hubbub.protocols.symbia.deps import Me, check_id, no_nul, scope_of
from hubbub.protocols.symbia.models import (
    SymbiaAdminAddParticipantIn,
    SymbiaAdminDetailOut,
    SymbiaAdminListOut,
    SymbiaCapabilityIn,
    SymbiaConversationOut,
    SymbiaOrgIn,
    SymbiaOrgMemberIn,
    SymbiaOrgMemberOut,
    SymbiaOrgOut,
    SymbiaParticipantOut,
    SymbiaStatsOut,
)
from hubbub.protocols.symbia.rows import conversation_row, message_row, participant_row
from hubbub.rest.deps import node_of

__all__ = ["router"]

router = APIRouter(
    prefix="/api/admin", tags=["symbia-admin"], dependencies=[Depends(no_nul), Depends(scope_of)]
)
_ERR: dict[int | str, dict[str, Any]] = {
    400: {"description": "invalid body or parameter"},
    401: {"description": "Authentication required"},
    403: {"description": "Admin access required, or another organization"},
    404: {"description": "not found"},
}
OrgQ = Annotated[str | None, Query(max_length=64)]


@router.get("/conversations", response_model=SymbiaAdminListOut, responses=_ERR)
async def list_all(
    request: Request,
    me: Me,
    orgId: OrgQ = None,
    type: Literal["private", "group"] | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    node = node_of(request)
    scope = await node.tenants.admin_scope(me.caller)
    rows, total = await node.conversation_details.admin_list(scope, orgId, type, limit, offset)
    items = [conversation_row(r) for r in rows]
    return {
        "items": items,
        "conversations": items,
        "total": total,
        "limit": limit,
        "offset": offset,
    }


@router.get("/conversations/{id}", response_model=SymbiaAdminDetailOut, responses=_ERR)
async def detail(request: Request, me: Me, id: str) -> dict[str, Any]:
    """The conversation (also flat, as Symbia spreads it), its participants
    and its first 100 messages."""
    node = node_of(request)
    scope = await node.tenants.admin_scope(me.caller)
    row = await node.conversation_details.admin_get(scope, check_id(id))
    conv = conversation_row(row)
    parts = await node.conversation_details.participants(row.id)
    recent = await node.message_details.recent(row.id, 100)
    return {
        **conv,
        "conversation": conv,
        "participants": [participant_row(p) for p in parts],
        "recentMessages": [message_row(m) for m in recent],
    }


@router.delete("/conversations/{id}", status_code=204, responses=_ERR)
async def delete(request: Request, me: Me, id: str) -> Response:
    node = node_of(request)
    scope = await node.tenants.admin_scope(me.caller)
    row = await node.conversation_details.admin_get(scope, check_id(id))
    await node.conversation_details.remove_all(row.id)
    return Response(status_code=204)


@router.get(
    "/users/{userId}/conversations", response_model=list[SymbiaConversationOut], responses=_ERR
)
async def user_conversations(
    request: Request,
    me: Me,
    userId: str,
) -> list[dict[str, Any]]:
    node = node_of(request)
    scope = await node.tenants.admin_scope(me.caller)
    rows = await node.conversation_details.admin_user_conversations(scope, check_id(userId, "User"))
    return [conversation_row(r) for r in rows]


@router.post(
    "/conversations/{id}/participants",
    status_code=201,
    response_model=SymbiaParticipantOut,
    responses=_ERR,
)
async def add_participant(
    request: Request,
    me: Me,
    id: str,
    body: SymbiaAdminAddParticipantIn,
) -> dict[str, Any]:
    node = node_of(request)
    scope = await node.tenants.admin_scope(me.caller)
    row = await node.conversation_details.admin_get(scope, check_id(id))
    p = await node.conversation_details.add_checked(
        row.id, check_id(body.userId, "User"), body.role
    )
    return participant_row(p)


@router.delete("/conversations/{id}/participants/{userId}", status_code=204, responses=_ERR)
async def remove_participant(
    request: Request,
    me: Me,
    id: str,
    userId: str,
) -> Response:
    node = node_of(request)
    scope = await node.tenants.admin_scope(me.caller)
    row = await node.conversation_details.admin_get(scope, check_id(id))
    await node.conversation_details.remove_checked(row.id, check_id(userId, "Participant"))
    return Response(status_code=204)


@router.get("/stats", response_model=SymbiaStatsOut, responses=_ERR)
async def stats(request: Request, me: Me, orgId: OrgQ = None) -> dict[str, Any]:
    node = node_of(request)
    scope = await node.tenants.admin_scope(me.caller)
    out: dict[str, Any] = await node.conversation_details.stats(scope, orgId)
    out["filters"] = {"orgId": orgId}
    return out


@router.post("/orgs", status_code=201, response_model=SymbiaOrgOut, responses=_ERR)
async def create_org(request: Request, me: Me, body: SymbiaOrgIn) -> dict[str, Any]:
    org = await node_of(request).tenants.create_org(me.caller, body.name, body.id)
    return {"id": org.id, "name": org.name, "created_at": iso(org.created_at)}


@router.get("/orgs", response_model=list[SymbiaOrgOut], responses=_ERR)
async def list_orgs(request: Request, me: Me) -> list[dict[str, Any]]:
    orgs = await node_of(request).tenants.list_orgs(me.caller)
    return [{"id": o.id, "name": o.name, "created_at": iso(o.created_at)} for o in orgs]


@router.get("/orgs/{orgId}/members", response_model=list[SymbiaOrgMemberOut], responses=_ERR)
async def org_members(request: Request, me: Me, orgId: str) -> list[dict[str, Any]]:
    found = await node_of(request).tenants.members(me.caller, orgId)
    return [{"user_id": u, "role": r, "added_at": iso(at)} for u, r, at in found]


@router.post("/orgs/{orgId}/members", status_code=204, responses=_ERR)
async def add_org_member(
    request: Request,
    me: Me,
    orgId: str,
    body: SymbiaOrgMemberIn,
) -> Response:
    await node_of(request).tenants.add_member(
        me.caller, orgId, check_id(body.userId, "User"), body.role
    )
    return Response(status_code=204)


@router.delete("/orgs/{orgId}/members/{userId}", status_code=204, responses=_ERR)
async def remove_org_member(
    request: Request,
    me: Me,
    orgId: str,
    userId: str,
) -> Response:
    await node_of(request).tenants.remove_member(me.caller, orgId, userId)
    return Response(status_code=204)


@router.get("/users/{userId}/capabilities", response_model=list[str], responses=_ERR)
async def capabilities_of(request: Request, me: Me, userId: str) -> list[str]:
    node = node_of(request)
    await node.admin.require(me.caller)
    return await node.capabilities.of(check_id(userId, "User"))


@router.post("/capabilities", status_code=204, responses=_ERR)
async def grant(request: Request, me: Me, body: SymbiaCapabilityIn) -> Response:
    await node_of(request).capabilities.grant(
        me.caller, check_id(body.userId, "User"), body.capability
    )
    return Response(status_code=204)


@router.delete("/capabilities/{userId}/{capability}", status_code=204, responses=_ERR)
async def revoke(
    request: Request,
    me: Me,
    userId: str,
    capability: str,
) -> Response:
    await node_of(request).capabilities.revoke(me.caller, check_id(userId, "User"), capability)
    return Response(status_code=204)
