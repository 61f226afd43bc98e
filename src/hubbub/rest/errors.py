"""The REST error body, declared once so OpenAPI documents every error a route returns.

Every failure is `{"error": {"code", "message", "path"?, "retry_after_ms"?}}`
(see `hubbub.errors`); schema errors found by FastAPI also keep its `detail`
list. `responses(401, 404)` gives a route's `responses=` for those statuses.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

__all__ = ["ErrorDetail", "ErrorOut", "ValidationErrorOut", "responses"]


class ErrorDetail(BaseModel):
    code: str
    message: str
    path: str | None = None
    retry_after_ms: int | None = None


class ErrorOut(BaseModel):
    error: ErrorDetail


class ValidationErrorOut(BaseModel):
    error: ErrorDetail
    detail: list[dict[str, Any]] | None = None


_WHEN = {
    400: "bad request: the body or a parameter is invalid (MTChat's and Symbia's status)",
    401: "unauthorized: missing, invalid or revoked bearer token (or bad credentials)",
    403: "forbidden",
    404: "not_found: no such id, or one the caller may not see (same answer)",
    409: "conflict: already taken",
    413: "too_large: the body or the announced size is over the limit",
    422: "validation_failed: the body or a parameter is invalid (`path` names it)",
    429: "rate_limited: too many attempts; `retry_after_ms` says when to try again",
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        s: {"model": ValidationErrorOut if s in (400, 422) else ErrorOut, "description": _WHEN[s]}
        for s in statuses
    }
