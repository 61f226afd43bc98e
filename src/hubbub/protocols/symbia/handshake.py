"""Who opens a Symbia real-time connection (Socket.IO or `/api/ws`).

The credentials themselves are read by `auth.resolve`, the one reader of the
REST routes too (same accounts, keys, deactivation rule, same `SymbiaUser`);
what is the sockets' own is where each credential comes from and the order
they are tried in (docs/symbia-realtime.md), the first that resolves wins:

    1. a token: Socket.IO `auth.token`, `Authorization: Bearer`, `/api/ws?token=`
       (a hubbub access token, or an API key: `hbk_...`)
    2. an API key: Socket.IO `auth.apiKey`, `X-API-Key`, `/api/ws?apiKey=`
    3. the cookie `token` (set by `POST /api/auth/login`), then `symbia_session`

A handshake may fall through to the next credential (unlike a REST request,
whose first credential decides) because Socket.IO clients send `auth.token`
and `auth.apiKey` together and Symbia's server tries them in turn.

Nothing resolving is `Unauthorized("Authentication required")`, which
Socket.IO clients see as `connect_error` with that message. The scope
headers of the handshake (`X-Org-Id`, ...) are validated as REST validates
them and scope what the connection writes. Credentials are never logged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from hubbub.core.apikeys import KEY_PREFIX
from hubbub.core.context import Caller
from hubbub.core.conversation_details import scoping
from hubbub.core.model import AccountKind
from hubbub.core.ports.conversation_details import Scoping
from hubbub.errors import Unauthorized
from hubbub.protocols.symbia.auth import COOKIE, REQUIRED, SESSION_COOKIE, SymbiaUser, resolve
from hubbub.runtime import Node

__all__ = ["AUTH_REQUIRED", "Credentials", "Who", "authenticate", "cookie_value", "scope_from"]

AUTH_REQUIRED = REQUIRED
MAX_CREDENTIAL = 1024
COOKIE_NAMES = (COOKIE, SESSION_COOKIE)


@dataclass(frozen=True, slots=True)
class Credentials:
    token: str | None = None
    api_key: str | None = None
    cookie_header: str | None = None
    scope: Scoping = field(default_factory=Scoping)


@dataclass(frozen=True, slots=True)
class Who:
    """The authenticated account, as Symbia's events name it, and the handshake's scope."""

    me: SymbiaUser
    scope: Scoping

    @property
    def caller(self) -> Caller:
        return self.me.caller

    @property
    def user_type(self) -> str:  # user | agent (from the account, never from the client)
        return self.me.user_type

    @property
    def kind(self) -> AccountKind:  # user | agent | service | bot
        return self.me.user.kind

    @property
    def agent_id(self) -> str | None:  # an agent's, service's or bot's username; None for a person
        return self.me.user.username if self.me.user.automated else None


def cookie_value(header: str | None, name: str) -> str | None:
    if not header or len(header) > 8 * MAX_CREDENTIAL:
        return None
    for part in header.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key == name and value:
            return value.strip().strip('"')
    return None


def scope_from(header: Callable[[str], str | None]) -> Scoping:
    """The scope headers of a handshake (`header(name)` reads one, lower-case name)."""

    def get(*names: str) -> str | None:
        for name in names:
            value = header(name)
            if value is not None:
                return value.strip()
        return None

    return scoping(
        get("x-org-id"),
        get("x-service-id"),
        get("x-env", "x-environment"),
        get("x-data-class"),
        get("x-policy-ref"),
    )


def _usable(value: object) -> str | None:
    if isinstance(value, str) and 0 < len(value.strip()) <= MAX_CREDENTIAL:
        return value.strip()
    return None


async def _one(node: Node, kind: str, secret: str) -> SymbiaUser | None:
    """One credential through REST's reader: `bearer`, `key`, or a cookie's name."""
    try:
        if kind == "key" or secret.startswith(KEY_PREFIX):
            return await resolve(node, bearer=None, api_key=secret, cookies={})
        if kind == "bearer":
            return await resolve(node, bearer=secret, api_key=None, cookies={})
        return await resolve(node, bearer=None, api_key=None, cookies={kind: secret})
    except Unauthorized:
        return None


async def authenticate(node: Node, creds: Credentials) -> Who:
    tries: list[tuple[str, str]] = []
    if (token := _usable(creds.token)) is not None:
        tries.append(("bearer", token))
    if (api_key := _usable(creds.api_key)) is not None:
        tries.append(("key", api_key))
    for name in COOKIE_NAMES:
        if (cookie := _usable(cookie_value(creds.cookie_header, name))) is not None:
            tries.append((name, cookie))
    for kind, secret in tries:
        me = await _one(node, kind, secret)
        if me is not None:
            return Who(me, creds.scope)
    raise Unauthorized(AUTH_REQUIRED)
