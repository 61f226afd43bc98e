"""`/v1/contact-discovery`: whether contact sync finds the caller (hubbub's opt-out).

What contact sync does is decided in `core/contact_sync.py`; this only maps
HTTP to it. Off, nobody's `StartContactSync` ever matches the caller's
phone or e-mail, as if they had registered neither.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, StrictBool

from hubbub.core.context import Caller
from hubbub.rest.deps import current_caller, node_of
from hubbub.rest.errors import responses

__all__ = ["router"]

router = APIRouter()


class DiscoveryIn(BaseModel):
    discoverable: StrictBool  # "no" or 0 is a mistake, not false


class DiscoveryOut(BaseModel):
    discoverable: bool
    updated_at: str | None


@router.get("/v1/contact-discovery", response_model=DiscoveryOut, responses=responses(401))
async def get_discovery(
    request: Request, caller: Annotated[Caller, Depends(current_caller)]
) -> Any:
    """Whether other users' contact syncs can find the caller (default true;
    `updated_at` null until first set)."""
    return await node_of(request).contact_sync.discoverability(caller)


@router.put(
    "/v1/contact-discovery", response_model=DiscoveryOut, responses=responses(401, 403, 422)
)
async def put_discovery(
    body: DiscoveryIn, request: Request, caller: Annotated[Caller, Depends(current_caller)]
) -> Any:
    """Let contact sync find the caller by phone or e-mail, or not (idempotent)."""
    return await node_of(request).contact_sync.set_discoverable(caller, body.discoverable)
