"""Who is calling a Symbia route (and, for S2's sockets, a Symbia connection).

Credentials, in this order (s_shared.md #1, Symbia's own order):

    Authorization: Bearer <token>     a hubbub access token (Socket.IO `auth.token`)
    X-API-Key: <key>                  an API key (`core/apikeys.py`; `auth.apiKey`)
    Cookie: token=<token>             set by `POST /api/auth/login`
    Cookie: symbia_session=<token>    the same kind of value

The first one present decides: a bad bearer token is refused even if a good
cookie follows. A read-only API key may only read. Failures answer 401
`{"error": "Authentication required"}`.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from hubbub.core.context import Caller
from hubbub.core.model import TokenInfo, User
from hubbub.credentials import bearer_token
from hubbub.errors import Forbidden, HubbubError, Unauthorized
from hubbub.protocols.symbia.rows import user_type_of
from hubbub.rest.deps import node_of
from hubbub.runtime import Node

__all__ = ["COOKIE", "SESSION_COOKIE", "SymbiaUser", "optional_user", "resolve", "symbia_user"]

COOKIE = "token"
SESSION_COOKIE = "symbia_session"
REQUIRED = "Authentication required"
_READS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class SymbiaUser:
    """The caller and their account (its kind gives `user_type` / `sender_type`)."""

    caller: Caller
    user: User
    token: str | None = None  # the session token, when one was used (logout ends it)

    @property
    def user_type(self) -> str:
        """Symbia's user | agent (`rows.user_type_of`: services and bots are agents)."""
        return user_type_of(self.user.kind)


async def resolve(
    node: Node,
    *,
    bearer: str | None,
    api_key: str | None,
    cookies: dict[str, str],
    read_only_ok: bool = True,
) -> SymbiaUser:
    """The account behind the first credential present (`Unauthorized` if none works).

    Resolved once per credential for a moment (`core/credential_cache.py`):
    a revocation or deactivation ends it at once on every node the bus
    reaches, and anything else within `TTL_MS`.
    """
    token: str | None = None
    if bearer:
        kind, secret, token = "token", bearer, bearer
    elif api_key:
        kind, secret = "api_key", api_key.strip()
    elif cookies.get(COOKIE) or cookies.get(SESSION_COOKIE):
        token = cookies.get(COOKIE) or cookies.get(SESSION_COOKIE) or ""
        kind, secret = "token", token
    else:
        raise Unauthorized(REQUIRED)

    async def lookup() -> tuple[TokenInfo, User]:
        try:
            if kind == "api_key":
                info = await node.apikeys.authenticate(secret)
            else:
                info = await node.accounts.authenticate(secret)
        except Unauthorized:
            raise Unauthorized(REQUIRED) from None
        user = await node.accounts.get_user(info.user_id)
        if user is None or user.deactivated_at is not None:
            raise Unauthorized(REQUIRED)
        return info, user

    info, user = await node.credentials.resolve(kind, secret, lookup)
    if info.read_only and not read_only_ok:
        raise Forbidden("this API key is read-only")
    caller = Caller(info.user_id, info.device_id, None, info.token_hash, info.kind, info.read_only)
    return SymbiaUser(caller, user, token)


async def symbia_user(request: Request) -> SymbiaUser:
    """The route dependency: the caller, or 401."""
    return await resolve(
        node_of(request),
        bearer=bearer_token(request.headers.get("authorization")) or None,
        api_key=request.headers.get("x-api-key"),
        cookies=dict(request.cookies),
        read_only_ok=request.method in _READS,
    )


async def optional_user(request: Request) -> SymbiaUser | None:
    try:
        return await symbia_user(request)
    except HubbubError:
        return None
