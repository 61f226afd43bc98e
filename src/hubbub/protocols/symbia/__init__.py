"""Spec 002, Symbia messaging: its REST API under `/api` (and, from S2's
modules, Socket.IO at `/socket.io/` and the plain WebSocket `/api/ws`).

Symbia's clients point at hubbub and work unchanged: conversations are core
conversations with a details row, messages core messages with their Symbia
fields, so `/ws` members share them (docs/symbia.md).

    auth.py           who is calling: Bearer, X-API-Key, cookie token / symbia_session
    deps.py           scope headers, id shapes, Symbia's error bodies
    models.py, rows.py  request bodies and response rows
    meta.py           /api/health, /api/bootstrap
    login.py          /api/auth/login|logout|session|me|config
    conversations.py  conversations and participants
    messages.py       messages, edits and their history, control events, runs
    admin.py          /api/admin: conversations, stats, organisations, capabilities
    openapi.py        the security schemes in /docs/openapi.json

    realtime.py       mounts /socket.io/ and /api/ws (app.Edge routes them)
    socketio.py       python-socketio's AsyncServer, asgi mode
    wsapi.py          /api/ws: {"event", "data"} frames
    sockets.py        one connection: hub, rooms, queue, limits, client events
    handshake.py      who is connecting (token, API key, cookies)
    events.py         core frames -> Symbia events
    socket_actions.py message:send / edit / delete, control:send on the core
"""

from __future__ import annotations

from fastapi import FastAPI

from hubbub.protocols.symbia import admin, conversations, login, messages, meta
from hubbub.protocols.symbia.deps import error_body, is_symbia_path, validation_body
from hubbub.protocols.symbia.openapi import add_security
from hubbub.runtime import Node

__all__ = ["error_body", "install", "is_symbia_path", "validation_body"]


def install(app: FastAPI, node: Node) -> None:
    """Mount the `/api` routes (MTChat's `/api/v1/...` are distinct paths)."""
    del node  # the routes find it on `app.state.node`
    for module in (meta, login, messages, conversations, admin):
        app.include_router(module.router)
    add_security(app)
