"""Symbia's part of `/docs/openapi.json`: its three security schemes (four
entries: the session cookie has two names) on every `/api` route that needs
a caller, as Symbia's own document declares them."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

__all__ = ["PUBLIC", "SCHEMES", "add_security"]

SCHEMES: dict[str, dict[str, Any]] = {
    "bearerAuth": {"type": "http", "scheme": "bearer"},
    "apiKeyAuth": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    "cookieAuthToken": {"type": "apiKey", "in": "cookie", "name": "token"},
    "cookieAuthSession": {"type": "apiKey", "in": "cookie", "name": "symbia_session"},
}
# Routes that answer without a caller.
PUBLIC = {
    "/api/health",
    "/api/bootstrap",
    "/api/bootstrap/service",
    "/api/auth/login",
    "/api/auth/logout",
    "/api/auth/session",
    "/api/auth/config",
}


def add_security(app: FastAPI) -> None:
    """Wrap `app.openapi` so the document carries the schemes (built once, cached)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        doc = build()
        doc.setdefault("components", {}).setdefault("securitySchemes", {}).update(SCHEMES)
        for path, ops in doc.get("paths", {}).items():
            if not path.startswith("/api/") or path.startswith("/api/v1") or path in PUBLIC:
                continue
            for op in ops.values():
                if isinstance(op, dict):
                    op["security"] = [{name: []} for name in SCHEMES]
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
