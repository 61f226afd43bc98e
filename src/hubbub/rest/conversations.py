"""`/v1/conversations`: open a direct chat (spec 000 has no channel for it), list."""

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


def conversation_out(c: Conversation) -> ConversationOut:
    return ConversationOut(
        conversation_id=c.id,
        kind=c.kind,
        name=c.name,
        creator_id=c.creator_id,
        created_at=iso(c.created_at),
        members=[MemberOut(user_id=m.user_id, role=m.role) for m in c.members],
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
    return [conversation_out(c) for c in await node_of(request).conversations.list_for(caller)]


@router.get(
    "/v1/conversations/{conversation_id}",
    response_model=ConversationOut,
    responses=responses(401, 404, 422),
)
async def get_conversation(
    conversation_id: str, request: Request, caller: Annotated[Caller, Depends(current_caller)]
) -> Any:
    return conversation_out(await node_of(request).conversations.get_for(caller, conversation_id))
