"""`/v1/auth/*` and `/v1/users/*`: the account contract of DESIGN.md, plus the
caller's signed-in devices (`/v1/auth/tokens`) and password change."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel, Field

from hubbub.clock import iso
from hubbub.core.context import Caller
from hubbub.core.model import TokenInfo, User
from hubbub.errors import NotFound, ValidationFailed
from hubbub.rest.deps import bearer, current_caller, node_of
from hubbub.rest.errors import responses

__all__ = ["router"]

router = APIRouter()


class RegisterBody(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)
    display_name: str | None = Field(default=None, max_length=128)
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=254)
    device_id: str | None = Field(default=None, max_length=128)


class LoginBody(BaseModel):
    username: str | None = Field(default=None, max_length=64)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    password: str = Field(max_length=1024)
    device_id: str | None = Field(default=None, max_length=128)


class TokenOut(BaseModel):
    user_id: str
    token: str
    device_id: str | None = None


class SessionOut(BaseModel):
    """One signed-in device: never the token or its hash."""

    token_id: str
    device_id: str
    created_at: str
    last_used_at: str | None = Field(description="refreshed at most once a minute; null if unknown")
    current: bool = Field(description="the token this request was made with")


class PasswordBody(BaseModel):
    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)


class UserOut(BaseModel):
    user_id: str
    username: str
    display_name: str
    info_text: str
    info_text_updated_at: str | None
    last_seen_at: str | None
    phone: str | None = None
    email: str | None = None


class KeyOut(BaseModel):
    user_id: str
    key_id: str
    public_key: str
    algorithm: str
    timestamp: str


def session_out(info: TokenInfo, caller: Caller) -> SessionOut:
    return SessionOut(
        token_id=info.token_id,
        device_id=info.device_id,
        created_at=iso(info.created_at),
        last_used_at=iso(info.last_used_at) if info.last_used_at is not None else None,
        current=info.token_hash == caller.token_hash,
    )


def user_out(user: User, *, own: bool) -> UserOut:
    return UserOut(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        info_text=user.info_text,
        info_text_updated_at=iso(user.info_text_updated_at) if user.info_text_updated_at else None,
        last_seen_at=iso(user.last_seen_at) if user.last_seen_at else None,
        phone=user.phone if own else None,
        email=user.email if own else None,
    )


DeviceHeader = Annotated[str | None, Header(alias="X-Device-Id", max_length=128)]


@router.post(
    "/v1/auth/register", status_code=201, response_model=TokenOut, responses=responses(409, 422)
)
async def register(body: RegisterBody, request: Request, x_device_id: DeviceHeader = None) -> Any:
    node = node_of(request)
    uid, token = await node.accounts.register(
        body.username,
        body.password,
        body.display_name,
        body.phone,
        body.email,
        body.device_id or x_device_id,
    )
    return TokenOut(user_id=uid, token=token)


@router.post("/v1/auth/login", response_model=TokenOut, responses=responses(401, 422))
async def login(body: LoginBody, request: Request, x_device_id: DeviceHeader = None) -> Any:
    node = node_of(request)
    uid, token = await node.accounts.login(
        body.password,
        username=body.username,
        email=body.email,
        phone=body.phone,
        device_id=body.device_id or x_device_id,
    )
    return TokenOut(user_id=uid, token=token)


@router.post("/v1/auth/logout", status_code=204, responses=responses(401))
async def logout(request: Request) -> Response:
    await node_of(request).accounts.logout(bearer(request))
    return Response(status_code=204)


@router.get("/v1/auth/tokens", response_model=list[SessionOut], responses=responses(401))
async def list_tokens(request: Request, caller: Annotated[Caller, Depends(current_caller)]) -> Any:
    """The caller's signed-in devices (live tokens), oldest first."""
    return [session_out(t, caller) for t in await node_of(request).accounts.list_tokens(caller)]


@router.delete("/v1/auth/tokens/{token_id}", status_code=204, responses=responses(401, 404, 422))
async def revoke_token(
    token_id: str, request: Request, caller: Annotated[Caller, Depends(current_caller)]
) -> Response:
    """Sign a device out: its token is refused from now on, and its live
    connections, on every node, are closed with 4401. Another user's token id
    is answered 404 like an unknown one."""
    await node_of(request).accounts.revoke_token(caller, token_id)
    return Response(status_code=204)


@router.post("/v1/auth/password", status_code=204, responses=responses(401, 403, 422))
async def change_password(
    body: PasswordBody, request: Request, caller: Annotated[Caller, Depends(current_caller)]
) -> Response:
    """Change the password (the current one is required; 403 if wrong) and sign
    out every other device; the token of this request stays valid."""
    await node_of(request).accounts.change_password(
        caller, body.current_password, body.new_password
    )
    return Response(status_code=204)


@router.get("/v1/users", response_model=list[UserOut], responses=responses(401, 422))
async def find_users(
    request: Request, caller: Annotated[Caller, Depends(current_caller)], username: str = ""
) -> Any:
    if not username:
        raise ValidationFailed("username query parameter is required", path="$.query.username")
    node = node_of(request)
    user = await node.accounts.find_by_username(username)
    if user is None:
        return []
    return [user_out(await node.blocks.screen(caller, user), own=user.id == caller.user_id)]


@router.get("/v1/users/{user_id}", response_model=UserOut, responses=responses(401, 404, 422))
async def get_user(
    user_id: str, request: Request, caller: Annotated[Caller, Depends(current_caller)]
) -> Any:
    node = node_of(request)
    user = await node.accounts.get_user(user_id)
    if user is None:
        raise NotFound("user not found")
    return user_out(await node.blocks.screen(caller, user), own=user.id == caller.user_id)


@router.get(
    "/v1/users/{user_id}/keys", response_model=list[KeyOut], responses=responses(401, 404, 422)
)
async def get_keys(
    user_id: str, request: Request, caller: Annotated[Caller, Depends(current_caller)]
) -> Any:
    """Public keys of a user, newest (current) first."""
    return await node_of(request).keys.fetch(user_id)
