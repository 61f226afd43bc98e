"""`/v1/conversations`: open a direct chat (spec 000 has no channel for it), list.

Each conversation says whether the caller archived or pinned it (their own
flags, `core/archive.py`, `core/pins.py`), so a client draws its list in one
request and follows `chat/archive` / `chat/pins` from there.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from hubbub.clock import iso
from hubbub.core.context import Caller
from hubbub.core.model import Conversation
from hubbub.rest.deps import current_caller, node_of
from hubbub.rest.errors import responses

__all__ = ["router"]

router = APIRouter()


class DirectBody(BaseModel):
    user_id: str = Field(max_length=64)


class DirectOut(BaseModel):
    conversation_id: str


class MemberOut(BaseModel):
    user_id: str
    role: str


class ConversationOut(BaseModel):
    conversation_id: str
    kind: str
    name: str | None
    creator_id: str | None
    created_at: str
    members: list[MemberOut]
    archived: bool = Field(False, description="archived by the caller (until a new message)")
    pinned: bool = Field(False, description="pinned by the caller")


def conversation_out(
    c: Conversation,
    archived: set[str] | frozenset[str] = frozenset(),
    pinned: set[str] | frozenset[str] = frozenset(),
) -> ConversationOut:
    return ConversationOut(
        conversation_id=c.id,
        kind=c.kind,
        name=c.name,
        creator_id=c.creator_id,
        created_at=iso(c.created_at),
        members=[MemberOut(user_id=m.user_id, role=m.role) for m in c.members],
        archived=c.id in archived,
        pinned=c.id in pinned,
    )


@router.post(
    "/v1/conversations/direct",
    response_model=DirectOut,
    responses={201: {"model": DirectOut, "description": "created"}, **responses(401, 404, 422)},
)
async def open_direct(
    body: DirectBody,
    request: Request,
    response: Response,
    caller: Annotated[Caller, Depends(current_caller)],
) -> Any:
    cid, created = await node_of(request).conversations.open_direct(caller, body.user_id)
    response.status_code = 201 if created else 200
    return DirectOut(conversation_id=cid)


@router.get("/v1/conversations", response_model=list[ConversationOut], responses=responses(401))
async def list_conversations(
    request: Request, caller: Annotated[Caller, Depends(current_caller)]
) -> Any:
    node = node_of(request)
    archived = await node.archive.archived_of(caller.user_id)
    pinned = await node.pins.pinned_of(caller.user_id)
    found = await node.conversations.list_for(caller)
    return [conversation_out(c, archived, pinned) for c in found]


@router.get(
    "/v1/conversations/{conversation_id}",
    response_model=ConversationOut,
    responses=responses(401, 404, 422),
)
async def get_conversation(
    conversation_id: str, request: Request, caller: Annotated[Caller, Depends(current_caller)]
) -> Any:
    node = node_of(request)
    conv = await node.conversations.get_for(caller, conversation_id)
    archived = await node.archive.archived_of(caller.user_id)
    pinned = await node.pins.pinned_of(caller.user_id)
    return conversation_out(conv, archived, pinned)
