"""`/api/health`, `/api/bootstrap` (and `/api/bootstrap/service`): what the service is."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from hubbub import __version__
from hubbub.protocols.symbia.deps import scope_of
from hubbub.protocols.symbia.models import SymbiaBootstrapOut, SymbiaHealthOut

__all__ = ["CLIENT_EVENTS", "SERVER_EVENTS", "router"]

router = APIRouter(
    prefix="/api",
    tags=["symbia"],
    dependencies=[Depends(scope_of)],
    responses={400: {"description": "an invalid scope header"}},
)

SERVICE = "messaging"
CLIENT_EVENTS = [
    "join:conversation",
    "leave:conversation",
    "message:send",
    "message:edit",
    "message:delete",
    "control:send",
    "typing:start",
    "typing:stop",
    "presence:update",
]
SERVER_EVENTS = [
    "message:new",
    "message:updated",
    "message:deleted",
    "typing:started",
    "typing:stopped",
    "presence:changed",
    "stream.pause",
    "stream.resume",
    "stream.preempt",
    "stream.route",
    "stream.handoff",
    "stream.cancel",
    "stream.priority",
]


@router.get("/health", response_model=SymbiaHealthOut)
async def health() -> dict[str, str]:
    return {"status": "ok", "service": SERVICE}


def _bootstrap() -> dict[str, Any]:
    return {
        "service": SERVICE,
        "version": __version__,
        "description": "Real-time messaging bus for users, agents and services (hubbub)",
        "docsUrls": {"openapi": "/docs/openapi.json", "llms": "/docs/llms.txt"},
        "endpoints": {
            "auth": "/api/auth",
            "rest": "/api/conversations",
            "admin": "/api/admin",
            "websocket": "/socket.io/",
            "plainWebsocket": "/api/ws",
        },
        "authentication": [
            "Bearer token (Authorization: Bearer <token>)",
            "API key (X-API-Key header)",
            "Session cookie (token or symbia_session)",
        ],
        "websocketEvents": {"client": CLIENT_EVENTS, "server": SERVER_EVENTS},
    }


@router.get("/bootstrap", response_model=SymbiaBootstrapOut)
async def bootstrap() -> dict[str, Any]:
    """Service metadata, including the WebSocket event lists."""
    return _bootstrap()


@router.get("/bootstrap/service", response_model=SymbiaBootstrapOut)
async def bootstrap_service() -> dict[str, Any]:
    return _bootstrap()
