"""Request helpers of the MTChat routes: the caller, the scope, the `{data}` body."""

from __future__ import annotations

from typing import Any, Self

from fastapi import Request
from pydantic import BaseModel, model_validator

from hubbub.core.ports.dialogs import ScopeRule
from hubbub.credentials import bearer_token
from hubbub.errors import ValidationFailed
from hubbub.protocols.mtchat.identity import MtUser, authenticate, parse_scope
from hubbub.rest.deps import node_of

__all__ = ["Body", "data", "mt_user", "no_nul", "scope_of"]


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, BaseModel):
        return any(_has_nul(v) for v in value.__dict__.values())
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class Body(BaseModel):
    """Request bodies: no string may hold U+0000, which PostgreSQL text cannot
    store (refused on every backend alike, as `/ws` does)."""

    @model_validator(mode="after")
    def _no_nul(self) -> Self:
        if _has_nul(self):
            raise ValueError("strings must not contain U+0000")
        return self


def no_nul(request: Request) -> None:
    """The same for path and query parameters (a router dependency)."""
    for name, value in (*request.path_params.items(), *request.query_params.items()):
        if isinstance(value, str) and "\x00" in value:
            raise ValidationFailed("must not contain U+0000", path=f"$.{name}")


def _bearer(request: Request) -> str | None:
    return bearer_token(request.headers.get("authorization")) or None


async def mt_user(request: Request) -> MtUser:
    return await authenticate(
        node_of(request), _bearer(request), request.query_params.get("user_id")
    )


def scope_of(request: Request) -> ScopeRule | None:
    return parse_scope(request.headers.get("x-scope-config"))


def data(value: Any) -> dict[str, Any]:
    return {"data": value}
