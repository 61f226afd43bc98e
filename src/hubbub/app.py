"""The ASGI app: REST, `/ws`, probes and documents, around one `Node`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from hubbub import __version__
from hubbub.config import Settings
from hubbub.errors import HubbubError
from hubbub.protocols import mtchat, symbia
from hubbub.protocols.channels.endpoint import Connection, ws_endpoint
from hubbub.protocols.simplechat import files as simplechat_files
from hubbub.protocols.simplechat.endpoint import RoomConnection
from hubbub.protocols.symbia.realtime import SymbiaRealtime, install_realtime
from hubbub.rest import (
    accounts,
    admin,
    apikeys,
    blobs,
    blocks,
    broadcasts,
    contact_discovery,
    conversations,
    group_members,
    moderation_reports,
    ops,
    status_updates,
    totp,
    webclient,
)
from hubbub.runtime import Node

__all__ = ["ROOM_PATHS", "Edge", "create_app"]

ROOM_PATHS = ("/", "/chat")


class Edge:
    """The ASGI entry point: WebSockets go straight to their endpoints, the rest
    to FastAPI: `/ws` (spec 000), and `/` and `/chat` (spec 001, the public
    room, unless `--simplechat false`). Only WebSocket upgrades are routed
    here, so a plain GET of `/` stays free for the web client.

    A WebSocket lives as long as its client, and every framework layer it
    passes through (FastAPI's dependency wrapper and exit stack, Starlette's
    middleware and router) keeps a coroutine frame alive for it: a few KiB per
    idle connection, which is what bounds how many connections a node holds
    (docs/performance.md). `/ws` needs none of them.
    """

    def __init__(self, app: FastAPI, node: Node) -> None:
        self.app = app
        self.node = node
        # Spec 002's /socket.io/ (HTTP long-polling and WebSocket) and /api/ws.
        self.symbia: SymbiaRealtime | None = getattr(app.state, "symbia_realtime", None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.symbia is not None and self.symbia.serves(scope):
            await self.symbia(scope, receive, send)
            return
        if scope["type"] == "websocket":
            path = scope["path"]
            if path == "/ws":
                await Connection(self.node, WebSocket(scope, receive, send)).run()
                return
            if path in ROOM_PATHS and self.node.settings.simplechat:
                await RoomConnection(self.node, WebSocket(scope, receive, send)).run()
                return
        await self.app(scope, receive, send)


def create_app(settings: Settings, node: Node | None = None) -> FastAPI:
    node = node or Node(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await node.start()
        try:
            yield
        finally:
            await node.close()

    app = FastAPI(
        title="hubbub",
        version=__version__,
        description="Self-hostable real-time messaging server: REST API. "
        "The realtime protocol is documented in /docs/asyncapi.json.",
        openapi_url="/docs/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.node = node

    @app.exception_handler(HubbubError)
    async def on_error(request: Request, exc: HubbubError) -> JSONResponse:
        if symbia.is_symbia_path(request.url.path):
            return symbia.error_body(exc)  # Symbia's `{"error": "..."}`, its statuses
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        if exc.retry_after_ms is not None:
            headers = {"Retry-After": str(-(-exc.retry_after_ms // 1000))}
        return JSONResponse({"error": exc.as_dict()}, status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        """Schema errors get the same body shape as every other error."""
        if symbia.is_symbia_path(request.url.path):
            return symbia.validation_body(exc)
        first = exc.errors()[0] if exc.errors() else {}
        loc = [str(p) for p in first.get("loc", ()) if p != "body"]
        path = "$." + ".".join(loc) if loc else "$"
        err = {"code": "validation_failed", "message": first.get("msg", "invalid"), "path": path}
        body = {"error": err, "detail": jsonable_encoder(exc.errors())}
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> Response:
        """A body FastAPI cannot even decode (e.g. not UTF-8) is invalid like bad JSON."""
        if exc.status_code == 400 and symbia.is_symbia_path(request.url.path):
            return JSONResponse({"error": "body is not valid JSON", "path": "$"}, status_code=400)
        if exc.status_code == 400:
            err = {"code": "validation_failed", "message": "body is not valid JSON", "path": "$"}
            return JSONResponse({"error": err}, status_code=422)
        return await http_exception_handler(request, exc)

    app.include_router(accounts.router)
    app.include_router(admin.router)
    app.include_router(apikeys.router)
    app.include_router(totp.router)
    app.include_router(blocks.router)
    app.include_router(blobs.router)
    app.include_router(broadcasts.router)
    app.include_router(conversations.router)
    app.include_router(group_members.router)
    app.include_router(moderation_reports.router)
    app.include_router(contact_discovery.router)
    app.include_router(ops.router)
    app.include_router(status_updates.router)
    app.include_router(webclient.router)
    app.add_api_websocket_route("/ws", ws_endpoint)
    if settings.simplechat:
        app.include_router(simplechat_files.router)

        async def room_endpoint(ws: WebSocket) -> None:
            await RoomConnection(node, ws).run()

        for path in ROOM_PATHS:
            app.add_api_websocket_route(path, room_endpoint)
    mtchat.install(app, node)
    install_realtime(app, node)
    symbia.install(app, node)
    return app
