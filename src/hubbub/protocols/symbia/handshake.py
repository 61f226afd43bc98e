"""Who opens a Symbia real-time connection (Socket.IO or `/api/ws`).

Credentials are tried in Symbia's order (docs/symbia-realtime.md), the first
that resolves wins:

    1. a token: Socket.IO `auth.token`, `Authorization: Bearer`, `/api/ws?token=`
       (a hubbub access token, or an API key: `hbk_...`)
    2. an API key: Socket.IO `auth.apiKey`, `X-API-Key`, `/api/ws?apiKey=`
    3. the cookie `token` (set by `POST /api/auth/login`), then `symbia_session`

Nothing resolving is `Unauthorized("Authentication required")`, which
Socket.IO clients see as `connect_error` with that message. Credentials are
never logged.
"""

from __future__ import annotations

from dataclasses import dataclass

from hubbub.core.apikeys import KEY_PREFIX
from hubbub.core.model import TokenInfo
from hubbub.errors import Unauthorized
from hubbub.runtime import Node

__all__ = ["AUTH_REQUIRED", "Credentials", "Who", "authenticate", "cookie_value"]

AUTH_REQUIRED = "Authentication required"
MAX_CREDENTIAL = 1024
COOKIE_NAMES = ("token", "symbia_session")


@dataclass(frozen=True, slots=True)
class Credentials:
    token: str | None = None
    api_key: str | None = None
    cookie_header: str | None = None


@dataclass(frozen=True, slots=True)
class Who:
    """The authenticated account, as Symbia's events name it."""

    info: TokenInfo
    user_type: str  # user | agent (from the account, never from the client)
    agent_id: str | None  # an agent's username; None for a person


def cookie_value(header: str | None, name: str) -> str | None:
    if not header or len(header) > 8 * MAX_CREDENTIAL:
        return None
    for part in header.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key == name and value:
            return value.strip().strip('"')
    return None


def _usable(value: object) -> str | None:
    if isinstance(value, str) and 0 < len(value.strip()) <= MAX_CREDENTIAL:
        return value.strip()
    return None


async def _resolve(node: Node, secret: str, *, key: bool) -> TokenInfo | None:
    try:
        if key or secret.startswith(KEY_PREFIX):
            return await node.apikeys.authenticate(secret)
        return await node.accounts.authenticate(secret)
    except Unauthorized:
        return None


async def authenticate(node: Node, creds: Credentials) -> Who:
    tries: list[tuple[str, bool]] = []
    if (token := _usable(creds.token)) is not None:
        tries.append((token, False))
    if (api_key := _usable(creds.api_key)) is not None:
        tries.append((api_key, True))
    for name in COOKIE_NAMES:
        if (cookie := _usable(cookie_value(creds.cookie_header, name))) is not None:
            tries.append((cookie, False))
    for secret, is_key in tries:
        info = await _resolve(node, secret, key=is_key)
        if info is None:
            continue
        user = await node.accounts.get_user(info.user_id)
        if user is None or user.deactivated_at is not None:
            continue
        if user.is_agent:
            return Who(info, "agent", user.username)
        return Who(info, "user", None)
    raise Unauthorized(AUTH_REQUIRED)
