"""Request helpers of the MTChat routes: the caller, the scope, the `{data}` body."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from hubbub.core.ports.dialogs import ScopeRule
from hubbub.protocols.mtchat.identity import MtUser, authenticate, parse_scope
from hubbub.rest.deps import node_of

__all__ = ["data", "mt_user", "scope_of"]


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer " and auth[7:].strip():
        return auth[7:].strip()
    return None


async def mt_user(request: Request) -> MtUser:
    return await authenticate(
        node_of(request), _bearer(request), request.query_params.get("user_id")
    )


def scope_of(request: Request) -> ScopeRule | None:
    return parse_scope(request.headers.get("x-scope-config"))


def data(value: Any) -> dict[str, Any]:
    return {"data": value}
