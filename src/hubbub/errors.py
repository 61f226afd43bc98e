"""One error hierarchy for the whole server.

Core services raise these; each adapter turns them into its own wire form
(an `Error` frame on `/ws`, an HTTP status on REST) only at the edge, the way
Synapse carries an `errcode` up to the REST layer. The codes are part of the
public protocol and never change meaning::

    HubbubError
     +-- BadFrame            bad_frame          400
     +-- UnknownChannel      unknown_channel    404
     +-- ValidationFailed    validation_failed  422  (carries the field path)
     +-- Unauthorized        unauthorized       401
     +-- Forbidden           forbidden          403
     +-- NotFound            not_found          404
     +-- Conflict            conflict           409
     +-- RateLimited         rate_limited       429  (carries retry_after_ms)
     +-- TooLarge            too_large          413
     +-- Unavailable         unavailable        503
     +-- Internal            internal           500

A protocol whose spec names its own codes for one of these cases passes
`code=` (spec 001's `username_taken` is a `Conflict`, its `not_initialized`
a `BadFrame`); the class, and so the HTTP status, stays the same.
"""

from __future__ import annotations

__all__ = [
    "BadFrame",
    "Conflict",
    "Forbidden",
    "HubbubError",
    "Internal",
    "NotFound",
    "RateLimited",
    "TooLarge",
    "Unauthorized",
    "Unavailable",
    "UnknownChannel",
    "ValidationFailed",
]


class HubbubError(Exception):
    code = "internal"
    status = 500

    def __init__(
        self,
        message: str = "",
        *,
        path: str | None = None,
        retry_after_ms: int | None = None,
        code: str | None = None,
    ) -> None:
        if code is not None:
            self.code = code
        super().__init__(message or self.code)
        self.message = message or self.code.replace("_", " ")
        self.path = path
        self.retry_after_ms = retry_after_ms

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"code": self.code, "message": self.message}
        if self.path is not None:
            out["path"] = self.path
        if self.retry_after_ms is not None:
            out["retry_after_ms"] = self.retry_after_ms
        return out


class BadFrame(HubbubError):
    code = "bad_frame"
    status = 400


class UnknownChannel(HubbubError):
    code = "unknown_channel"
    status = 404


class ValidationFailed(HubbubError):
    code = "validation_failed"
    status = 422


class Unauthorized(HubbubError):
    code = "unauthorized"
    status = 401


class Forbidden(HubbubError):
    code = "forbidden"
    status = 403


class NotFound(HubbubError):
    code = "not_found"
    status = 404


class Conflict(HubbubError):
    code = "conflict"
    status = 409


class RateLimited(HubbubError):
    code = "rate_limited"
    status = 429


class TooLarge(HubbubError):
    code = "too_large"
    status = 413


class Unavailable(HubbubError):
    code = "unavailable"
    status = 503


class Internal(HubbubError):
    code = "internal"
    status = 500
