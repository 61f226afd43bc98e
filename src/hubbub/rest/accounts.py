"""`/v1/auth/*` and `/v1/users/*`: the account contract of DESIGN.md."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel, Field

from hubbub.clock import iso
from hubbub.core.context import Caller
from hubbub.core.model import User
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


@router.get("/v1/users", response_model=list[UserOut], responses=responses(401, 422))
async def find_users(
    request: Request, caller: Annotated[Caller, Depends(current_caller)], username: str = ""
) -> Any:
    if not username:
        raise ValidationFailed("username query parameter is required", path="$.query.username")
    user = await node_of(request).accounts.find_by_username(username)
    return [user_out(user, own=user.id == caller.user_id)] if user else []


@router.get("/v1/users/{user_id}", response_model=UserOut, responses=responses(401, 404, 422))
async def get_user(
    user_id: str, request: Request, caller: Annotated[Caller, Depends(current_caller)]
) -> Any:
    user = await node_of(request).accounts.get_user(user_id)
    if user is None:
        raise NotFound("user not found")
    return user_out(user, own=user.id == caller.user_id)


@router.get(
    "/v1/users/{user_id}/keys", response_model=list[KeyOut], responses=responses(401, 404, 422)
)
async def get_keys(
    user_id: str, request: Request, caller: Annotated[Caller, Depends(current_caller)]
) -> Any:
    """Public keys of a user, newest (current) first."""
    return await node_of(request).keys.fetch(user_id)
