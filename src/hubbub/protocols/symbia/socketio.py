"""Spec 002's Socket.IO at `/socket.io/`: python-socketio's AsyncServer (asgi).

    handshake  auth {token | apiKey}, Authorization / X-API-Key, cookies
               (handshake.py); refused: connect_error "Authentication required"
    Origin     checked like /ws (`origin_allowed`, --allowed-origins)
    events     client events -> SymbiaSocket.handle -> the Socket.IO ack
               server events <- the node's hub (sockets.py, events.py)

python-socketio's own manager is the in-memory default and is used only to
write to this node's sockets (`emit(..., to=sid)`): what reaches a socket
comes from the hub, cluster-wide through hubbub's bus, so there is no second
pub/sub (no Redis or Kombu manager). Events of one socket are handled in
order (`async_handlers=False`), so a client's messages keep their order.
Engine.IO keeps its own unbounded send queue per socket: a socket whose
queue passes `send_queue_limit` is cut off as a slow consumer.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import socketio

from hubbub.errors import HubbubError, Unauthorized, ValidationFailed
from hubbub.protocols.channels.endpoint import origin_allowed
from hubbub.protocols.symbia.events import Translator
from hubbub.protocols.symbia.handshake import (
    AUTH_REQUIRED,
    Credentials,
    authenticate,
    scope_from,
)
from hubbub.protocols.symbia.sockets import CLIENT_EVENTS, SymbiaSocket
from hubbub.runtime import Node

__all__ = ["SymbiaSocketIO"]

log = logging.getLogger("hubbub.symbia")


class SymbiaSocketIO:
    """The AsyncServer, its ASGI app, and the sockets it holds on this node."""

    def __init__(self, node: Node, translator: Translator) -> None:
        self.node = node
        self.translator = translator
        allowed = node.settings.allowed_origins

        def cors(origin: str | None, environ: dict[str, Any]) -> bool:
            return origin_allowed(origin, environ.get("HTTP_HOST"), allowed)

        self.sio = socketio.AsyncServer(
            async_mode="asgi",
            cors_allowed_origins=cors,
            max_http_buffer_size=node.settings.max_frame_bytes,
            async_handlers=False,
            logger=False,
            engineio_logger=False,
        )
        self.app = socketio.ASGIApp(self.sio, socketio_path="socket.io")
        self.sockets: dict[str, SymbiaSocket] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.sio.on("connect", self._connect)
        self.sio.on("disconnect", self._disconnect)
        for name in CLIENT_EVENTS:
            self.sio.on(name, self._handler(name))

    def _handler(self, name: str) -> Any:
        async def handle(sid: str, data: Any = None, *_rest: Any) -> dict[str, Any]:
            conn = self.sockets.get(sid)
            if conn is None:
                return {"success": False, "error": AUTH_REQUIRED, "code": "unauthorized"}
            return await conn.handle(name, data)

        return handle

    async def _connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        auth = auth if isinstance(auth, dict) else {}
        header = environ.get("HTTP_AUTHORIZATION")
        bearer = header[7:] if isinstance(header, str) and header[:7].lower() == "bearer " else None
        try:
            creds = Credentials(
                token=auth.get("token") or bearer,
                api_key=auth.get("apiKey") or environ.get("HTTP_X_API_KEY"),
                cookie_header=environ.get("HTTP_COOKIE"),
                scope=scope_from(lambda h: environ.get("HTTP_" + h.upper().replace("-", "_"))),
            )
            who = await authenticate(self.node, creds)
        except ValidationFailed as exc:  # a scope header: named, as REST names it
            log.info(
                "symbia connection refused",
                extra={"transport": "socket.io", "reason": "bad scope header"},
            )
            raise socketio.exceptions.ConnectionRefusedError(exc.message, exc.path) from None
        except Unauthorized:
            log.info(
                "symbia connection refused",
                extra={"transport": "socket.io", "reason": AUTH_REQUIRED},
            )
            raise socketio.exceptions.ConnectionRefusedError(AUTH_REQUIRED) from None
        except HubbubError as exc:  # storage unavailable: the client retries later
            log.warning("symbia handshake failed", extra={"error": exc.code})
            raise socketio.exceptions.ConnectionRefusedError("Service unavailable") from None

        async def emit(event: str, data: Any) -> None:
            await self.sio.emit(event, data, to=sid)
            if self._backlog(sid) > self.node.settings.send_queue_limit:
                conn.kick(1013, "slow consumer")

        conn = SymbiaSocket(
            self.node, self.translator, who, emit, "socket.io", environ.get("HTTP_TRACEPARENT")
        )
        conn.on_kick = lambda: self._spawn(self.sio.disconnect(sid))
        self.sockets[sid] = conn
        # Set up once the server has answered CONNECT: the handshake stays
        # quick, and no event is written before the client is connected.
        conn.start()

    def _backlog(self, sid: str) -> int:
        """Packets waiting in Engine.IO's queue of that socket (0 if unknown)."""
        try:
            eio_sid = self.sio.manager.eio_sid_from_sid(sid, "/")
            sock = self.sio.eio.sockets.get(eio_sid)
            return int(sock.queue.qsize()) if sock is not None else 0
        except Exception:
            return 0

    async def _disconnect(self, sid: str, *_reason: Any) -> None:
        conn = self.sockets.pop(sid, None)
        if conn is not None:
            await conn.close(1000, "closed by the client")

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
