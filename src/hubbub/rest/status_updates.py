"""`/v1/statuses` and `/v1/users/{user_id}/statuses`: the live statuses a
viewer may see, so a fresh device can list them (`core/status_updates.py`).

Filtered as `StatusCreated` is, at read time: only unexpired statuses of
the caller and of contacts whose status visibility admits the caller. A user
who does not admit the caller, and one who does not exist, both list
nothing. Each status carries the caller's `muted` flag.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from hubbub.core.context import Caller
from hubbub.ids import plausible_id
from hubbub.rest.deps import current_caller, node_of
from hubbub.rest.errors import responses

__all__ = ["router"]

router = APIRouter(tags=["statuses"])


class StatusOut(BaseModel):
    status_id: str
    author_id: str
    content_type: str
    content_url: str | None
    text: str | None
    created_at: str
    expires_at: str
    muted: bool


@router.get("/v1/statuses", response_model=list[StatusOut], responses=responses(401))
async def list_statuses(
    request: Request, caller: Annotated[Caller, Depends(current_caller)]
) -> Any:
    """Every live status the caller may see (their own included), oldest first."""
    return await node_of(request).status_updates.visible_to(caller, None)


@router.get(
    "/v1/users/{user_id}/statuses", response_model=list[StatusOut], responses=responses(401)
)
async def list_user_statuses(
    user_id: str, request: Request, caller: Annotated[Caller, Depends(current_caller)]
) -> Any:
    """The live statuses of one user that the caller may see, oldest first."""
    if not plausible_id(user_id):
        return []
    return await node_of(request).status_updates.visible_to(caller, user_id)
