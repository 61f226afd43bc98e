"""MTChat's error statuses and codes on its routes (`/api/v1/...`).

MTChat's handlers answer every validation failure `400` and name what is
missing in upper case (`api/mod.rs`, `ErrorCode`)::

    invalid input                  400 INVALID_INPUT (BAD_REQUEST where MTChat says
                                       so: a bad `type`, too many files, a second join)
    a file type not on the list    400 UNSUPPORTED_FILE_TYPE
    a size out of range, too big   400 FILE_TOO_LARGE
    no such dialog / message /     404 DIALOG_NOT_FOUND / MESSAGE_NOT_FOUND /
    attachment / participant           ATTACHMENT_NOT_FOUND / PARTICIPANT_NOT_FOUND

The body stays `{"error": {"code", "message", "path"?}}` (MTChat's shape;
`path`, hubbub's, names the field). The core raises hubbub's errors; this
module only re-labels them on MTChat's routes, so `/v1` and `/ws` keep
hubbub's codes. "Not yours" stays "does not exist": where MTChat answers
`403 NOT_PARTICIPANT` or `SCOPE_MISMATCH`, hubbub answers the `404` of an
unknown dialog (docs/protocol.md). 401 and 403 keep hubbub's codes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from hubbub.errors import HubbubError, NotFound, TooLarge, ValidationFailed

__all__ = ["PREFIX", "install", "mtchat_body"]

PREFIX = "/api/v1/"
_Handler = Callable[[Request, Any], Awaitable[Response]]

# (word in the error, MTChat's code, MTChat's message), first match wins
_NOT_FOUND = (
    ("attachment", "ATTACHMENT_NOT_FOUND", "Attachment not found"),
    ("upload", "ATTACHMENT_NOT_FOUND", "Attachment not found"),
    ("message", "MESSAGE_NOT_FOUND", "Message not found"),
    ("dialog", "DIALOG_NOT_FOUND", "Dialog not found"),
    ("conversation", "DIALOG_NOT_FOUND", "Dialog not found"),
    ("participant", "PARTICIPANT_NOT_FOUND", "Participant not found"),
    ("user", "PARTICIPANT_NOT_FOUND", "Participant not found"),
)


def _not_found(exc: NotFound) -> tuple[str, str]:
    where = f"{exc.path or ''} {exc.message}".lower()
    for word, code, message in _NOT_FOUND:
        if word in where:
            return code, message
    return "NOT_FOUND", "Not found"


def _invalid_code(path: str | None) -> str:
    field = (path or "").rsplit(".", 1)[-1]
    if field == "content_type":
        return "UNSUPPORTED_FILE_TYPE"
    if field == "size":
        return "FILE_TOO_LARGE"
    if field == "attachments":
        return "BAD_REQUEST"  # "Maximum 10 attachments per message"
    return "INVALID_INPUT"


def mtchat_body(exc: HubbubError) -> tuple[int, dict[str, Any]] | None:
    """The status and body MTChat gives for this error, or None to keep hubbub's."""
    if isinstance(exc, NotFound):
        code, message = _not_found(exc)
        err: dict[str, Any] = {"code": code, "message": message}
    elif isinstance(exc, ValidationFailed):
        # An adapter that knows MTChat's own code gives it (`code="BAD_REQUEST"`).
        code = exc.code if exc.code.isupper() else _invalid_code(exc.path)
        err = {"code": code, "message": exc.message}
    elif isinstance(exc, TooLarge):
        err = {"code": "FILE_TOO_LARGE", "message": exc.message}
    else:
        return None
    if exc.path is not None:
        err["path"] = exc.path
    return (404 if isinstance(exc, NotFound) else 400), {"error": err}


def _schema_error(exc: RequestValidationError) -> JSONResponse:
    """A body or parameter of the wrong shape (MTChat's extractors refuse it too)."""
    first = exc.errors()[0] if exc.errors() else {}
    loc = [str(p) for p in first.get("loc", ()) if p != "body"]
    code, message = _SCHEMA.get(loc[-1] if loc else "", ("INVALID_INPUT", ""))
    err = {
        "code": code,
        "message": message or str(first.get("msg", "invalid")),
        "path": "$." + ".".join(loc) if loc else "$",
    }
    return JSONResponse({"error": err}, status_code=400)


# Fields whose schema errors MTChat words itself (`BadRequest` in its handlers).
_SCHEMA = {
    "type": ("BAD_REQUEST", "Invalid type parameter"),
    "attachments": ("BAD_REQUEST", "Maximum 10 attachments per message"),
}


def install(app: FastAPI) -> None:
    """Wrap the app's handlers: MTChat's labels under `PREFIX`, hubbub's elsewhere."""
    on_error: _Handler = app.exception_handlers[HubbubError]  # type: ignore[assignment]
    on_invalid: _Handler = app.exception_handlers[RequestValidationError]  # type: ignore[assignment]
    on_http: _Handler = app.exception_handlers[StarletteHTTPException]  # type: ignore[assignment]

    async def error(request: Request, exc: HubbubError) -> Response:
        if request.url.path.startswith(PREFIX) and (found := mtchat_body(exc)) is not None:
            return JSONResponse(found[1], status_code=found[0])
        return await on_error(request, exc)

    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        if request.url.path.startswith(PREFIX):
            return _schema_error(exc)
        return await on_invalid(request, exc)

    async def http(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith(PREFIX) and exc.status_code == 400:
            body = {"error": {"code": "INVALID_INPUT", "message": "body is not valid JSON"}}
            return JSONResponse(body, status_code=400)
        return await on_http(request, exc)

    app.add_exception_handler(HubbubError, error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, invalid)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, http)  # type: ignore[arg-type]
