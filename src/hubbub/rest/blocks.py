"""`/v1/users/{user_id}/block` and `/v1/blocks`: block and unblock users.

What a block does is decided in `core/blocks.py`; this only maps HTTP to it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel

from hubbub.clock import iso
from hubbub.core.context import Caller
from hubbub.rest.deps import current_caller, node_of
from hubbub.rest.errors import responses

__all__ = ["router"]

router = APIRouter()


class BlockOut(BaseModel):
    user_id: str
    created_at: str


@router.put("/v1/users/{user_id}/block", status_code=204, responses=responses(401, 404, 422))
async def block_user(
    user_id: str, request: Request, caller: Annotated[Caller, Depends(current_caller)]
) -> Response:
    """Block a user (idempotent). While blocked, neither can write to the
    direct conversation of the two, ring the other, add the other to a group,
    or see the other's presence and profile updates. 404: no such user;
    422: yourself."""
    await node_of(request).blocks.block(caller, user_id)
    return Response(status_code=204)


@router.delete("/v1/users/{user_id}/block", status_code=204, responses=responses(401, 404, 422))
async def unblock_user(
    user_id: str, request: Request, caller: Annotated[Caller, Depends(current_caller)]
) -> Response:
    """Lift a block (idempotent: 204 also when there was none)."""
    await node_of(request).blocks.unblock(caller, user_id)
    return Response(status_code=204)


@router.get("/v1/blocks", response_model=list[BlockOut], responses=responses(401))
async def list_blocks(request: Request, caller: Annotated[Caller, Depends(current_caller)]) -> Any:
    """The users the caller blocks, oldest block first."""
    blocks = await node_of(request).blocks.list_for(caller)
    return [BlockOut(user_id=b.blocked_id, created_at=iso(b.created_at)) for b in blocks]
