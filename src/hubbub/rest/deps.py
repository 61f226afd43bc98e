"""Request-scoped helpers: the node, and the authenticated caller."""

from __future__ import annotations

from fastapi import Request

from hubbub.core.apikeys import require_session
from hubbub.core.context import Caller
from hubbub.core.throttle import client_address
from hubbub.credentials import bearer_token
from hubbub.errors import Forbidden, Unauthorized
from hubbub.runtime import Node

__all__ = ["admin_caller", "bearer", "client_ip", "current_caller", "node_of", "session_caller"]


def node_of(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


def bearer(request: Request) -> str:
    token = bearer_token(request.headers.get("authorization"))
    if not token:
        raise Unauthorized("missing bearer token")
    return token


_READS = frozenset({"GET", "HEAD", "OPTIONS"})


async def current_caller(request: Request) -> Caller:
    """The bearer token's user, or the `X-API-Key`'s (a read-only key may only read)."""
    node = node_of(request)
    key = request.headers.get("x-api-key")
    if key is not None and not request.headers.get("authorization"):
        info = await node.apikeys.authenticate(key.strip())
        if info.read_only and request.method not in _READS:
            raise Forbidden("this API key is read-only")
    else:
        info = await node.accounts.authenticate(bearer(request))
    return Caller(info.user_id, info.device_id, None, info.token_hash, info.kind, info.read_only)


async def session_caller(request: Request) -> Caller:
    """A signed-in session (a token): API keys may not manage credentials."""
    caller = await current_caller(request)
    require_session(caller)
    return caller


def client_ip(request: Request) -> str:
    """The client's address: `X-Forwarded-For` counts only from `--trusted-proxies`."""
    node = node_of(request)
    peer = request.client.host if request.client else None
    return client_address(
        peer, request.headers.get("x-forwarded-for"), node.settings.trusted_proxies
    )


async def admin_caller(request: Request) -> Caller:
    """An authenticated server admin (`core.admin.require_admin`), else 403."""
    caller = await current_caller(request)
    await node_of(request).admin.require(caller)
    return caller
