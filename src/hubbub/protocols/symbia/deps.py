"""Request helpers of the Symbia routes: the caller, the scope headers, ids, errors.

Symbia answers errors as `{"error": "<message>"}` (plus `path` when a field
is at fault, which Symbia's own bodies lack), with its statuses: a bad body
or parameter is 400, not hubbub's 422; 401 is always
`{"error": "Authentication required"}`.

Scope headers (`X-Org-Id`, `X-Service-Id`, `X-Env` / `X-Environment`,
`X-Data-Class`, `X-Policy-Ref`) are validated on every request, written to
the structured log for audit (ids and labels only, never content), and
stored with what the request creates.
"""

from __future__ import annotations

import logging
import uuid
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from hubbub.core.conversation_details import scoping
from hubbub.core.ports.conversation_details import Scoping
from hubbub.errors import HubbubError, NotFound, ValidationFailed
from hubbub.protocols.symbia.auth import REQUIRED, SymbiaUser, symbia_user

__all__ = [
    "Me",
    "Scope",
    "check_id",
    "error_body",
    "is_symbia_path",
    "no_nul",
    "scope_of",
    "validation_body",
]

log = logging.getLogger("hubbub.symbia")

Me = Annotated[SymbiaUser, Depends(symbia_user)]


def is_symbia_path(path: str) -> bool:
    """`/api/...` is Symbia's, except MTChat's `/api/v1/...`."""
    return path.startswith("/api/") and not path.startswith("/api/v1/") and path != "/api/v1"


def error_body(exc: HubbubError) -> JSONResponse:
    if exc.status == 401:
        return JSONResponse({"error": REQUIRED}, status_code=401)
    status = 400 if isinstance(exc, ValidationFailed) else exc.status
    body: dict[str, Any] = {"error": exc.message, "code": exc.code}
    if exc.path:
        body["path"] = exc.path
    headers = None
    if exc.retry_after_ms is not None:
        headers = {"Retry-After": str(-(-exc.retry_after_ms // 1000))}
    return JSONResponse(body, status_code=status, headers=headers)


def validation_body(exc: RequestValidationError) -> JSONResponse:
    first = exc.errors()[0] if exc.errors() else {}
    loc = [str(p) for p in first.get("loc", ()) if p != "body"]
    path = "$." + ".".join(loc) if loc else "$"
    msg = str(first.get("msg", "invalid"))
    return JSONResponse({"error": msg, "code": "validation_failed", "path": path}, status_code=400)


async def no_nul(request: Request) -> None:
    """Path and query parameters holding U+0000 are refused (a router dependency).

    `async` like `scope_of`: FastAPI runs a plain `def` dependency in its
    thread pool, a thread hop per request for a few string checks."""
    for name, value in (*request.path_params.items(), *request.query_params.items()):
        if isinstance(value, str) and "\x00" in value:
            raise ValidationFailed("must not contain U+0000", path=f"$.{name}")


def check_id(value: str, what: str = "Conversation") -> str:
    """Symbia's ids are UUIDs: anything else is simply not found (as Symbia answers)."""
    try:
        return str(uuid.UUID(value)) if len(value) <= 64 else _missing(what)
    except ValueError:
        return _missing(what)


def _missing(what: str) -> str:
    raise NotFound(f"{what} not found")


def _header(request: Request, *names: str) -> str | None:
    for name in names:
        value = request.headers.get(name)
        if value is not None:
            return value.strip()
    return None


async def scope_of(request: Request) -> Scoping:
    scope = scoping(
        _header(request, "x-org-id"),
        _header(request, "x-service-id"),
        _header(request, "x-env", "x-environment"),
        _header(request, "x-data-class"),
        _header(request, "x-policy-ref"),
    )
    if any((scope.org_id, scope.service_id, scope.env, scope.policy_ref)) or (
        scope.data_class != "none"
    ):
        log.info(
            "symbia scoped request",
            extra={
                "method": request.method,
                "route": request.scope.get("route").path  # type: ignore[union-attr]
                if request.scope.get("route") is not None
                else request.url.path,
                "org_id": scope.org_id,
                "service_id": scope.service_id,
                "env": scope.env,
                "data_class": scope.data_class,
                "policy_ref": scope.policy_ref,
            },
        )
    return scope


Scope = Annotated[Scoping, Depends(scope_of)]
