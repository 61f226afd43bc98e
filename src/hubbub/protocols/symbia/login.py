"""`/api/auth/...`: sign in with a hubbub account's email and password.

`POST /api/auth/login` goes through `core/signin.py` like `/v1/auth/login`
(throttled, audited, second factor when enrolled: `totpCode`), issues an
ordinary hubbub access token and sets it as cookie `token` (HttpOnly,
SameSite=Lax, Secure over https). `POST /api/auth/logout` ends that token
and clears the cookies. `GET /api/auth/session` always answers 200.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import Field

from hubbub.core.context import Caller
from hubbub.errors import Unauthorized
from hubbub.protocols.symbia.auth import COOKIE, SESSION_COOKIE, SymbiaUser, optional_user
from hubbub.protocols.symbia.deps import Me, scope_of
from hubbub.protocols.symbia.models import (
    SymbiaAuthConfigOut,
    SymbiaLoginIn,
    SymbiaLoginOut,
    SymbiaLogoutOut,
    SymbiaMeOut,
    SymbiaSessionOut,
)
from hubbub.rest.deps import client_ip, node_of
from hubbub.runtime import Node

__all__ = ["router", "user_json"]

router = APIRouter(
    prefix="/api/auth",
    tags=["symbia"],
    dependencies=[Depends(scope_of)],
    responses={400: {"description": "an invalid body or scope header"}},
)
INVALID = "Invalid email or password"


class SymbiaLoginBody(SymbiaLoginIn):
    totpCode: str | None = Field(default=None, max_length=16)


async def user_json(node: Node, me: SymbiaUser) -> dict[str, Any]:
    orgs = await node.tenants.orgs_of(me.user.id)
    caps = await node.capabilities.of(me.user.id)
    return {
        "id": me.user.id,
        "email": me.user.email,
        "name": me.user.display_name or me.user.username,
        "username": me.user.username,
        "type": me.user_type,
        "organizations": [{"id": o, "role": r} for o, r in sorted(orgs.items())],
        "entitlements": [f"cap:{c}" for c in caps],
        "isSuperAdmin": me.user.is_admin,
    }


_BAD: dict[int | str, dict[str, Any]] = {400: {"description": "invalid body"}}


@router.post(
    "/login",
    response_model=SymbiaLoginOut,
    responses={
        **_BAD,
        401: {"description": INVALID},
        403: {"description": "deactivated"},
        429: {"description": "too many attempts"},
    },
)
async def login(body: SymbiaLoginBody, request: Request) -> Any:
    node = node_of(request)
    try:
        uid, token = await node.signin.login(
            body.password,
            email=body.email,
            device_id="symbia",
            totp_code=body.totpCode,
            address=client_ip(request),
        )
    except Unauthorized:
        return JSONResponse({"error": INVALID, "message": INVALID}, status_code=401)
    user = await node.accounts.get_user(uid)
    assert user is not None
    me = SymbiaUser(Caller(uid, "symbia"), user, token)
    out = JSONResponse({"user": await user_json(node, me), "token": token})
    out.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return out


@router.post("/logout", response_model=SymbiaLogoutOut)
async def logout(request: Request) -> Response:
    """Ends the session token the request carries (bearer or cookie), if any."""
    node = node_of(request)
    me = await optional_user(request)
    if me is not None and me.token is not None:
        await node.accounts.logout(me.token)
    out = JSONResponse({"ok": True})
    secure = request.url.scheme == "https"
    for name in (COOKIE, SESSION_COOKIE):
        out.delete_cookie(name, path="/", httponly=True, samesite="lax", secure=secure)
    return out


@router.get("/session", response_model=SymbiaSessionOut, response_model_exclude_none=True)
async def session(request: Request) -> dict[str, Any]:
    me = await optional_user(request)
    if me is None:
        return {"authenticated": False}
    return {"authenticated": True, "user": await user_json(node_of(request), me)}


@router.get(
    "/me", response_model=SymbiaMeOut, responses={401: {"description": "Authentication required"}}
)
async def me_route(request: Request, me: Me) -> dict[str, Any]:
    user = await user_json(node_of(request), me)
    return {"user": user, "organizations": user["organizations"]}


@router.get("/config", response_model=SymbiaAuthConfigOut)
async def config() -> dict[str, str]:
    return {"loginUrl": "/api/auth/login", "logoutUrl": "/api/auth/logout"}
