"""Spec 002's plain WebSocket `/api/ws`: Socket.IO's events as JSON frames.

    connect   Authorization: Bearer | ?token=   X-API-Key | ?apiKey=   cookies
              (handshake.py; browsers cannot set headers, hence the query)
              refused: {"event":"connect_error","data":{"message":"Authentication required"}},
              then close 4401
    server    {"event": "message:new", "data": <payload>}   (the same names and
              payloads as on Socket.IO)
    client    {"event": "message:send", "data": <payload>, "id"?: <string|int>}
    reply     {"event": "ack", "ref": <that id or null>, "for": "message:send",
               "data": {"success": ..., ...}}   (the Socket.IO ack, one per client frame)

A frame over `--max-frame-bytes`, or one that is not `{event, data}` JSON,
gets an `ack` with `success: false` (and `code` `too_large` / `bad_frame`);
the connection stays open. Everything else is `sockets.SymbiaSocket`'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import msgspec
from starlette.websockets import WebSocket, WebSocketDisconnect

from hubbub.credentials import bearer_token
from hubbub.errors import HubbubError, Unauthorized, ValidationFailed
from hubbub.protocols.channels.endpoint import origin_allowed
from hubbub.protocols.symbia.events import Translator
from hubbub.protocols.symbia.handshake import (
    AUTH_REQUIRED,
    Credentials,
    authenticate,
    scope_from,
)
from hubbub.protocols.symbia.sockets import SymbiaSocket
from hubbub.runtime import Node

__all__ = ["serve_api_ws"]

log = logging.getLogger("hubbub.symbia")
MAX_REF = 128
_decode = msgspec.json.Decoder(dict[str, Any]).decode
_encode = msgspec.json.Encoder().encode


def _ref(frame: dict[str, Any]) -> str | int | None:
    ref = frame.get("id", frame.get("ref"))
    if isinstance(ref, bool) or not isinstance(ref, str | int):
        return None
    return ref if not isinstance(ref, str) or len(ref) <= MAX_REF else None


async def _receive(ws: WebSocket) -> str | None:
    """The next text frame, None for a binary one (Starlette's `receive_text`
    would raise KeyError on it)."""
    message = await ws.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
    text = message.get("text")
    return text if isinstance(text, str) else None


def _refused(code: int, reason: str) -> None:
    log.info(
        "symbia connection refused", extra={"transport": "api-ws", "code": code, "reason": reason}
    )


async def serve_api_ws(node: Node, translator: Translator, ws: WebSocket) -> None:
    if not origin_allowed(
        ws.headers.get("origin"), ws.headers.get("host"), node.settings.allowed_origins
    ):
        _refused(4403, "origin not allowed")
        await ws.close(4403, "origin not allowed")
        return
    q = ws.query_params
    await ws.accept()
    try:
        creds = Credentials(
            token=bearer_token(ws.headers.get("authorization")) or q.get("token"),
            api_key=ws.headers.get("x-api-key") or q.get("apiKey"),
            cookie_header=ws.headers.get("cookie"),
            scope=scope_from(ws.headers.get),
        )
        who = await authenticate(node, creds)
    except ValidationFailed as exc:  # a scope header: named, as REST names it
        _refused(4400, "bad scope header")
        with contextlib.suppress(Exception):
            refused: dict[str, object] = {"message": exc.message, "path": exc.path}
            await ws.send_text(_encode({"event": "connect_error", "data": refused}).decode())
            await ws.close(4400, "bad scope header")
        return
    except HubbubError as exc:
        if not isinstance(exc, Unauthorized):  # storage unavailable: retry later
            _refused(1011, "service unavailable")
            with contextlib.suppress(Exception):
                await ws.close(1011, "service unavailable")
            return
        _refused(4401, AUTH_REQUIRED)
        with contextlib.suppress(Exception):
            await ws.send_text(
                _encode({"event": "connect_error", "data": {"message": AUTH_REQUIRED}}).decode()
            )
            await ws.close(4401, AUTH_REQUIRED)
        return

    async def emit(event: str, data: Any) -> None:
        frame = {"event": event, **data} if event == "ack" else {"event": event, "data": data}
        await ws.send_text(_encode(frame).decode())

    conn = SymbiaSocket(node, translator, who, emit, "api-ws", ws.headers.get("traceparent"))
    closer: list[asyncio.Task[None]] = []

    def on_kick() -> None:  # revoked, too slow: stop reading too
        assert conn.closing is not None
        closer.append(asyncio.get_running_loop().create_task(ws.close(*conn.closing)))

    conn.on_kick = on_kick
    max_frame = node.settings.max_frame_bytes
    peer_close = 1005
    await conn.open()
    try:
        while conn.closing is None:
            raw = await _receive(ws)
            if raw is None:  # a binary frame: the protocol is JSON text
                refused = {"success": False, "error": "text frames only", "code": "bad_frame"}
                conn.send("ack", {"ref": None, "for": None, "data": refused})
                continue
            if len(raw) > max_frame:
                refused = {"success": False, "error": "frame too large", "code": "too_large"}
                conn.send("ack", {"ref": None, "for": None, "data": refused})
                continue
            try:
                frame = _decode(raw)
            except (msgspec.DecodeError, RecursionError):  # nested past msgspec's depth
                frame = {}
            event = frame.get("event")
            if not isinstance(event, str):
                refused = {"success": False, "error": "{event, data} expected", "code": "bad_frame"}
                conn.send("ack", {"ref": _ref(frame), "for": None, "data": refused})
                continue
            ack = await conn.handle(event, frame.get("data"))
            conn.send("ack", {"ref": _ref(frame), "for": event[:64], "data": ack})
    except WebSocketDisconnect as exc:
        peer_close = exc.code
    except RuntimeError:
        pass
    except Exception:  # a bug: logged, and the client told why (not a bare 1006)
        log.exception("symbia /api/ws loop failed")
        conn.kick(1011, "server error")
    finally:
        code, reason = conn.closing or (peer_close, "closed by the client")
        await conn.close(code, reason)
        for task in closer:
            with contextlib.suppress(Exception):
                await task
