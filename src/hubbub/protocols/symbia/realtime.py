"""Spec 002's real time, mounted in the node's ASGI app (see `app.Edge`).

    /socket.io/   Socket.IO (socketio.py)
    /api/ws       the plain WebSocket (wsapi.py)

Both are served straight from `Edge`, before FastAPI, like `/ws`. One
`Translator` per node turns core frames into Symbia events for both.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from hubbub.protocols.symbia.events import Translator
from hubbub.protocols.symbia.socketio import SymbiaSocketIO
from hubbub.protocols.symbia.wsapi import serve_api_ws
from hubbub.runtime import Node

__all__ = ["API_WS_PATH", "SOCKETIO_PREFIX", "SymbiaRealtime", "install_realtime"]

SOCKETIO_PREFIX = "/socket.io"
API_WS_PATH = "/api/ws"


class SymbiaRealtime:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.translator = Translator(node)
        self.socketio = SymbiaSocketIO(node, self.translator)

    def serves(self, scope: Scope) -> bool:
        path: str = scope.get("path", "")
        if path == SOCKETIO_PREFIX or path.startswith(SOCKETIO_PREFIX + "/"):
            return scope["type"] in ("http", "websocket")
        return path == API_WS_PATH and scope["type"] == "websocket"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == API_WS_PATH:
            await serve_api_ws(self.node, self.translator, WebSocket(scope, receive, send))
            return
        await self.socketio.app(scope, receive, send)


def install_realtime(app: FastAPI, node: Node) -> SymbiaRealtime:
    realtime = SymbiaRealtime(node)
    app.state.symbia_realtime = realtime

    async def api_ws(ws: WebSocket) -> None:  # when the app is served without `Edge`
        await serve_api_ws(node, realtime.translator, ws)

    app.add_api_websocket_route(API_WS_PATH, api_ws)
    return realtime
