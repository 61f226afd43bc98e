"""CORS for MTChat's routes: its SDK calls them from the host application's page.

The host's page is another origin, and the SDK sends `Authorization` and
`X-Scope-Config`, so the browser asks first (a preflight). Origins are
`--allowed-origins`, the allowlist `/ws` and `/api/v1/ws` check too; with
none configured, no CORS headers are sent (same origin only). Only
`/api/v1/...` and `/health` are covered: hubbub's own API is not opened.
"""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["MtChatCors"]


class MtChatCors:
    def __init__(self, app: ASGIApp, allowed: tuple[str, ...]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=list(allowed),
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["authorization", "content-type", "x-scope-config"],
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and (path.startswith("/api/v1/") or path == "/health"):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
