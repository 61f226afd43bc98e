"""`/api/conversations...`: conversations and their participants.

Thin: each route checks the id's shape (a malformed id is 404, as Symbia
answers), calls `core/conversation_details.py` and renders rows (`rows.py`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from hubbub.protocols.symbia.deps import Me, Scope, check_id, no_nul, scope_of
from hubbub.protocols.symbia.models import (
    SymbiaAddParticipantIn,
    SymbiaConversationIn,
    SymbiaConversationOut,
    SymbiaConversationWithParticipantsOut,
    SymbiaParticipantOut,
    SymbiaUpdateIn,
)
from hubbub.protocols.symbia.rows import conversation_row, participant_row
from hubbub.rest.deps import node_of

__all__ = ["router"]

router = APIRouter(
    prefix="/api/conversations", tags=["symbia"], dependencies=[Depends(no_nul), Depends(scope_of)]
)
_ERR: dict[int | str, dict[str, Any]] = {
    400: {"description": "invalid body or parameter"},
    401: {"description": "Authentication required"},
    403: {"description": "not a participant, or not allowed"},
    404: {"description": "Conversation not found"},
}


@router.get("", response_model=list[SymbiaConversationOut], responses=_ERR)
async def list_conversations(
    request: Request,
    me: Me,
    scope: Scope,
    orgId: Annotated[str | None, Query(max_length=64)] = None,
) -> list[dict[str, Any]]:
    """The caller's conversations, most recently active first (`orgId` or
    `X-Org-Id`: that organisation's only)."""
    rows = await node_of(request).conversation_details.list_for(me.caller, orgId or scope.org_id)
    return [conversation_row(r) for r in rows]


@router.post(
    "", status_code=201, response_model=SymbiaConversationWithParticipantsOut, responses=_ERR
)
async def create_conversation(
    request: Request, me: Me, scope: Scope, body: SymbiaConversationIn
) -> dict[str, Any]:
    node = node_of(request)
    if body.orgId is not None:
        scope.org_id = body.orgId
    row, parts = await node.conversation_details.create(
        me.caller,
        body.type,
        body.name,
        body.description,
        body.metadata,
        [p.userId for p in body.participants or ()],
        scope,
    )
    return {**conversation_row(row), "participants": [participant_row(p) for p in parts]}


@router.get("/{id}", response_model=SymbiaConversationWithParticipantsOut, responses=_ERR)
async def get_conversation(request: Request, me: Me, id: str) -> dict[str, Any]:
    row, parts = await node_of(request).conversation_details.get_for(me.caller, check_id(id))
    return {**conversation_row(row), "participants": [participant_row(p) for p in parts]}


@router.patch("/{id}", response_model=SymbiaConversationOut, responses=_ERR)
async def update_conversation(
    request: Request,
    me: Me,
    id: str,
    body: SymbiaUpdateIn,
) -> dict[str, Any]:
    row = await node_of(request).conversation_details.update(
        me.caller, check_id(id), body.name, body.description, body.metadata
    )
    return conversation_row(row)


@router.delete("/{id}", status_code=204, responses=_ERR)
async def delete_conversation(request: Request, me: Me, id: str) -> Response:
    await node_of(request).conversation_details.delete(me.caller, check_id(id))
    return Response(status_code=204)


@router.post("/{id}/join", status_code=201, response_model=SymbiaParticipantOut, responses=_ERR)
async def join(request: Request, me: Me, id: str) -> dict[str, Any]:
    p = await node_of(request).conversation_details.join(me.caller, check_id(id))
    return participant_row(p)


@router.post("/{id}/leave", status_code=204, responses=_ERR)
async def leave(request: Request, me: Me, id: str) -> Response:
    await node_of(request).conversation_details.leave(me.caller, check_id(id))
    return Response(status_code=204)


@router.post(
    "/{id}/participants", status_code=201, response_model=SymbiaParticipantOut, responses=_ERR
)
async def add_participant(
    request: Request,
    me: Me,
    id: str,
    body: SymbiaAddParticipantIn,
) -> dict[str, Any]:
    """Owner or admin only; `userType` is ignored (the account says what it is)."""
    p = await node_of(request).conversation_details.add_participant(
        me.caller, check_id(id), check_id(body.userId, "User")
    )
    return participant_row(p)


@router.delete("/{id}/participants/{userId}", status_code=204, responses=_ERR)
async def remove_participant(
    request: Request,
    me: Me,
    id: str,
    userId: str,
) -> Response:
    await node_of(request).conversation_details.remove_participant(
        me.caller, check_id(id), check_id(userId, "Participant")
    )
    return Response(status_code=204)
