"""`/v1/api-keys`: the caller's API keys. Managing keys needs a signed-in
session (a bearer token), never an API key."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from hubbub.clock import iso
from hubbub.core.context import Caller
from hubbub.core.ports.apikeys import ApiKey
from hubbub.rest.deps import client_ip, node_of, session_caller
from hubbub.rest.errors import responses

__all__ = ["router"]

router = APIRouter(prefix="/v1/api-keys", tags=["api-keys"])
SessionCaller = Annotated[Caller, Depends(session_caller)]


class KeyBody(BaseModel):
    name: str = Field(max_length=64, description="a label, to recognise it later")
    read_only: bool = Field(default=False, description="REST GET and /ws sync/status only")


class ApiKeyOut(BaseModel):
    key_id: str
    name: str
    read_only: bool
    created_at: str
    last_used_at: str | None = Field(description="refreshed at most once a minute")


class NewApiKeyOut(ApiKeyOut):
    key: str = Field(description="shown once: send it as `X-API-Key`; only its hash is stored")


def key_out(k: ApiKey) -> dict[str, Any]:
    return {
        "key_id": k.id,
        "name": k.name,
        "read_only": k.read_only,
        "created_at": iso(k.created_at),
        "last_used_at": iso(k.last_used_at) if k.last_used_at is not None else None,
    }


@router.post(
    "", status_code=201, response_model=NewApiKeyOut, responses=responses(401, 403, 409, 422)
)
async def create_key(body: KeyBody, request: Request, caller: SessionCaller) -> Any:
    key, record = await node_of(request).apikeys.create(
        caller.user_id,
        body.name,
        read_only=body.read_only,
        actor=caller.user_id,
        address=client_ip(request),
    )
    return NewApiKeyOut(key=key, **key_out(record))


@router.get("", response_model=list[ApiKeyOut], responses=responses(401, 403))
async def list_keys(request: Request, caller: SessionCaller) -> Any:
    """The caller's live keys, oldest first (never the key itself)."""
    return [key_out(k) for k in await node_of(request).apikeys.list(caller)]


@router.delete("/{key_id}", status_code=204, responses=responses(401, 403, 404, 422))
async def revoke_key(key_id: str, request: Request, caller: SessionCaller) -> Response:
    """Revoke a key: refused from now on, and its live connections close
    with 4401 on every node. Another user's key id is a 404 like an unknown one."""
    await node_of(request).apikeys.revoke(caller, key_id, client_ip(request))
    return Response(status_code=204)
