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
from hubbub.rest.deps import bearer, client_ip, current_caller, node_of, session_caller
from hubbub.rest.errors import responses
from hubbub.runtime import Node

__all__ = ["router"]

router = APIRouter()


class RegisterBody(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)
    display_name: str | None = Field(default=None, max_length=128)
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=254)
    device_id: str | None = Field(default=None, max_length=128)
    registration_token: str | None = Field(
        default=None,
        max_length=256,
        description="needed when the server runs `--registration token` (the default), "
        "except for its very first account, which becomes the server admin",
    )


class LoginBody(BaseModel):
    username: str | None = Field(default=None, max_length=64)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    password: str = Field(max_length=1024)
    device_id: str | None = Field(default=None, max_length=128)
    totp_code: str | None = Field(
        default=None, max_length=16, description="the 6-digit code, when two-factor is on"
    )
    recovery_code: str | None = Field(
        default=None, max_length=64, description="a one-time recovery code instead of totp_code"
    )


class ConfirmBody(BaseModel):
    password: str = Field(max_length=1024)


class TokenOut(BaseModel):
    user_id: str
    token: str
    device_id: str | None = None
    is_admin: bool | None = Field(
        default=None, description="on registration: whether this account is a server admin"
    )


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


async def _screen(node: Node, caller: Caller, user: User) -> User:
    """`user` as the caller may see it: blocks, then the presence and info-text
    visibility settings."""
    seen = await node.presence_settings.screen(
        caller.user_id, await node.blocks.screen(caller, user)
    )
    return await node.info_visibility.screen(caller.user_id, seen)


DeviceHeader = Annotated[str | None, Header(alias="X-Device-Id", max_length=128)]


@router.post(
    "/v1/auth/register",
    status_code=201,
    response_model=TokenOut,
    response_model_exclude_none=True,
    responses=responses(403, 409, 422, 429),
)
async def register(body: RegisterBody, request: Request, x_device_id: DeviceHeader = None) -> Any:
    """Create an account under the server's registration policy (403 when
    closed, or when a registration token is needed and missing or spent)."""
    node = node_of(request)
    user, token = await node.signin.register(
        body.username,
        body.password,
        body.display_name,
        body.phone,
        body.email,
        device_id=body.device_id or x_device_id,
        registration_token=body.registration_token,
        address=client_ip(request),
    )
    return TokenOut(user_id=user.id, token=token, is_admin=user.is_admin)


@router.post(
    "/v1/auth/login",
    response_model=TokenOut,
    response_model_exclude_none=True,
    responses=responses(401, 403, 422, 429),
)
async def login(body: LoginBody, request: Request, x_device_id: DeviceHeader = None) -> Any:
    """Sign in. Failed attempts slow down and lock out per address and per
    account (429 `rate_limited` with `retry_after_ms`, docs/security.md). With
    two-factor on, a missing or wrong code is a 401 whose `path` is
    `$.totp_code`."""
    node = node_of(request)
    uid, token = await node.signin.login(
        body.password,
        username=body.username,
        email=body.email,
        phone=body.phone,
        device_id=body.device_id or x_device_id,
        totp_code=body.totp_code,
        recovery_code=body.recovery_code,
        address=client_ip(request),
    )
    return TokenOut(user_id=uid, token=token)


@router.post("/v1/auth/deactivate", status_code=204, responses=responses(401, 403, 422, 429))
async def deactivate_self(
    body: ConfirmBody, request: Request, caller: Annotated[Caller, Depends(session_caller)]
) -> Response:
    """Deactivate the caller's own account (password required): every
    device and API key is signed out at once on every node, and signing in
    is refused until an admin reactivates it."""
    node = node_of(request)
    await node.accounts.verify_password(caller, body.password, client_ip(request))
    await node.accounts.deactivate(caller.user_id)
    await node.audit.record(
        "account.deactivate",
        actor=caller.user_id,
        target=caller.user_id,
        address=client_ip(request),
    )
    return Response(status_code=204)


@router.post("/v1/auth/deletion-request", status_code=204, responses=responses(401, 403, 422, 429))
async def request_deletion(
    body: ConfirmBody, request: Request, caller: Annotated[Caller, Depends(session_caller)]
) -> Response:
    """Deactivate the account for good and erase its profile (display name,
    info text, email, phone, password). What is kept, and why, is in
    docs/security.md: the id and username (never reused), messages already
    delivered to others, and the audit log."""
    node = node_of(request)
    await node.accounts.verify_password(caller, body.password, client_ip(request))
    await node.accounts.deactivate(caller.user_id, erase=True)
    await node.audit.record(
        "account.deletion_request",
        actor=caller.user_id,
        target=caller.user_id,
        address=client_ip(request),
    )
    return Response(status_code=204)


@router.post("/v1/auth/logout", status_code=204, responses=responses(401))
async def logout(request: Request) -> Response:
    node = node_of(request)
    caller = await current_caller(request)
    await node.accounts.logout(bearer(request))
    await node.audit.record(
        "logout", actor=caller.user_id, target=caller.user_id, address=client_ip(request)
    )
    return Response(status_code=204)


@router.get("/v1/auth/tokens", response_model=list[SessionOut], responses=responses(401, 403))
async def list_tokens(request: Request, caller: Annotated[Caller, Depends(session_caller)]) -> Any:
    """The caller's signed-in devices (live tokens), oldest first."""
    return [session_out(t, caller) for t in await node_of(request).accounts.list_tokens(caller)]


@router.delete(
    "/v1/auth/tokens/{token_id}", status_code=204, responses=responses(401, 403, 404, 422)
)
async def revoke_token(
    token_id: str, request: Request, caller: Annotated[Caller, Depends(session_caller)]
) -> Response:
    """Sign a device out: its token is refused from now on, and its live
    connections, on every node, are closed with 4401. Another user's token id
    is answered 404 like an unknown one."""
    node = node_of(request)
    await node.accounts.revoke_token(caller, token_id)
    await node.audit.record(
        "token.revoke", actor=caller.user_id, target=token_id, address=client_ip(request)
    )
    return Response(status_code=204)


@router.post("/v1/auth/password", status_code=204, responses=responses(401, 403, 422, 429))
async def change_password(
    body: PasswordBody, request: Request, caller: Annotated[Caller, Depends(session_caller)]
) -> Response:
    """Change the password (the current one is required; 403 if wrong) and sign
    out every other device; the token of this request stays valid."""
    node = node_of(request)
    ended = await node.accounts.change_password(
        caller, body.current_password, body.new_password, client_ip(request)
    )
    await node.audit.record(
        "account.password_change",
        actor=caller.user_id,
        target=caller.user_id,
        address=client_ip(request),
        sessions_ended=ended,
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
    return [user_out(await _screen(node, caller, user), own=user.id == caller.user_id)]


@router.get("/v1/users/{user_id}", response_model=UserOut, responses=responses(401, 404, 422))
async def get_user(
    user_id: str, request: Request, caller: Annotated[Caller, Depends(current_caller)]
) -> Any:
    node = node_of(request)
    user = await node.accounts.get_user(user_id)
    if user is None:
        raise NotFound("user not found")
    return user_out(await _screen(node, caller, user), own=user.id == caller.user_id)


@router.get(
    "/v1/users/{user_id}/keys", response_model=list[KeyOut], responses=responses(401, 404, 422)
)
async def get_keys(
    user_id: str, request: Request, caller: Annotated[Caller, Depends(current_caller)]
) -> Any:
    """Public keys of a user, newest (current) first."""
    return await node_of(request).keys.fetch(user_id)
