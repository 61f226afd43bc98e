"""Reading credentials off a request, the same way on every protocol."""

from __future__ import annotations

__all__ = ["bearer_token"]


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, stripped (it may
    be empty: callers decide whether that is a refusal), or None for any other
    header or none at all."""
    if authorization and authorization[:7].lower() == "bearer ":
        return authorization[7:].strip()
    return None
