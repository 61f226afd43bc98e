"""`/v1/conversations/{id}/members`: add and remove a group's members, change their role.

Rules in core. Spec 000 has no message for it; `/ws` members learn of each
change as `ConversationMemberJoined` / `ConversationMemberLeft` /
`ConversationMemberRoleChanged` (see
`core/group_members.py`). The member list itself is in
`GET /v1/conversations/{id}`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, Field

from hubbub.core.context import Caller
from hubbub.rest.deps import current_caller, node_of
from hubbub.rest.errors import responses

__all__ = ["router"]

router = APIRouter()

_ID = Path(max_length=64)


class AddMemberBody(BaseModel):
    """Exactly one of `user_id` and `username`."""

    user_id: str | None = Field(default=None, max_length=64)
    username: str | None = Field(default=None, max_length=64)
    role: Literal["member", "admin"] = "member"


class RoleBody(BaseModel):
    role: Literal["member", "admin"]


class MembershipOut(BaseModel):
    conversation_id: str
    user_id: str
    role: str


@router.post(
    "/v1/conversations/{conversation_id}/members",
    response_model=MembershipOut,
    status_code=201,
    responses={
        200: {"model": MembershipOut, "description": "already a member: nothing changed"},
        **responses(401, 403, 404, 422),
    },
)
async def add_member(
    body: AddMemberBody,
    request: Request,
    response: Response,
    caller: Annotated[Caller, Depends(current_caller)],
    conversation_id: Annotated[str, _ID],
) -> Any:
    """Add a user to a group (its owner and admins; only the owner adds an admin)."""
    m = await node_of(request).group_members.add(
        caller, conversation_id, body.user_id, body.username, body.role
    )
    response.status_code = 201 if m.created else 200
    return MembershipOut(conversation_id=m.conversation_id, user_id=m.user_id, role=m.role)


@router.delete(
    "/v1/conversations/{conversation_id}/members/{user_id}",
    status_code=204,
    response_class=Response,
    responses=responses(401, 403, 404, 422),
)
async def remove_member(
    request: Request,
    caller: Annotated[Caller, Depends(current_caller)],
    conversation_id: Annotated[str, _ID],
    user_id: Annotated[str, _ID],
) -> Response:
    """Remove a member (204 also when they were not one: nothing changes then)."""
    await node_of(request).group_members.remove(caller, conversation_id, user_id)
    return Response(status_code=204)


@router.patch(
    "/v1/conversations/{conversation_id}/members/{user_id}",
    response_model=MembershipOut,
    responses=responses(401, 403, 404, 422),
)
async def set_member_role(
    body: RoleBody,
    request: Request,
    caller: Annotated[Caller, Depends(current_caller)],
    conversation_id: Annotated[str, _ID],
    user_id: Annotated[str, _ID],
) -> Any:
    """Make a member an admin or an admin a member (the owner only; 200 also when unchanged)."""
    c = await node_of(request).group_members.set_role(caller, conversation_id, user_id, body.role)
    return MembershipOut(conversation_id=c.conversation_id, user_id=c.user_id, role=c.role)
