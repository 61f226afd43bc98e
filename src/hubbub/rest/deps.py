"""Request-scoped helpers: the node, and the authenticated caller."""

from __future__ import annotations

from fastapi import Request

from hubbub.core.context import Caller
from hubbub.errors import Unauthorized
from hubbub.runtime import Node

__all__ = ["bearer", "current_caller", "node_of"]


def node_of(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


def bearer(request: Request) -> str:
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() != "bearer " or not auth[7:].strip():
        raise Unauthorized("missing bearer token")
    return auth[7:].strip()


async def current_caller(request: Request) -> Caller:
    info = await node_of(request).accounts.authenticate(bearer(request))
    return Caller(info.user_id, info.device_id, None, info.token_hash)
