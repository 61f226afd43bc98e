"""A connection to the public room (spec 001): init, then text and files.

    client --text--> size check, rate limit, decode (tagged by `type`)
                     init  --> Rooms.join --> userData, history
                     text  --> Rooms.send_text --> message to everyone
                     file  --> Rooms.send_file --> message (+ file) to everyone
    hub --Out--> RoomListener.push --translate--> Outbox --> client

Every violation gets `{"type":"error","code","message","path"?}` and the
connection stays open: `bad_frame` (not JSON, not an object, unknown type),
`validation_failed` (a field breaks the seed's constraints; `path` names it),
`not_initialized`, `username_taken`, `too_large`, `rate_limited` (with
`retryAfterMs`), `unauthorized` (a bad token on init). The frame limit and
rate limit are those of `/ws` (`--max-frame-bytes`, raised to fit the
largest allowed file; `--rate-per-second`, `--rate-burst`).

Live frames that arrive between joining and sending the history are held
back and sent after it, minus those the history already holds, so a client
sees every message once. Texts are pipelined (the next frame is read once
this one's write is queued, `core/ordering.py`), so a sender is not held to
one message per commit; its messages still commit and arrive in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import Any

import msgspec
from starlette.websockets import WebSocket, WebSocketDisconnect

from hubbub.core.model import TokenInfo
from hubbub.core.ordering import on_queued
from hubbub.core.rooms import Joined
from hubbub.credentials import bearer_token
from hubbub.errors import (
    BadFrame,
    HubbubError,
    Internal,
    RateLimited,
    TooLarge,
    Unauthorized,
    ValidationFailed,
)
from hubbub.protocols.channels.endpoint import origin_allowed
from hubbub.protocols.channels.session import TokenBucket
from hubbub.protocols.simplechat.frames import (
    ClientMessage,
    ErrorOut,
    FileMessage,
    HistoryOut,
    InitMessage,
    TextMessage,
    UserDataOut,
)
from hubbub.protocols.simplechat.translate import message_of, translate
from hubbub.protocols.wsserver import WIRE_EXTENSION
from hubbub.realtime.outbox import Out, Outbox
from hubbub.runtime import Node

__all__ = ["RoomConnection"]

log = logging.getLogger("hubbub.simplechat")

_decoder = msgspec.json.Decoder(ClientMessage)
_encode = msgspec.json.Encoder().encode
_UNDECODABLE = (msgspec.DecodeError, UnicodeDecodeError, RecursionError)
_AT = re.compile(r" - at `\$([^`]*)`")
_MISSING = re.compile(r"missing required field `([^`]+)`")
MAX_PIPELINED = 64  # texts of one connection in flight at once


def _refusal(exc: msgspec.ValidationError) -> HubbubError:
    """A decode error as the seed's error: the envelope's fault or a field's."""
    text = str(exc)
    at = _AT.search(text)
    path = "$" + (at.group(1) if at else "")
    missing = _MISSING.search(text)
    if missing:
        path += "." + missing.group(1)
    message = _AT.sub("", text)
    if path in ("$", "$.type"):
        return BadFrame(f"{message}: expected an object with type init, text or file")
    return ValidationFailed(message, path=path)


def _size(raw: str | bytes) -> int:
    if isinstance(raw, bytes) or raw.isascii():
        return len(raw)
    return len(raw.encode("utf-8", "surrogatepass"))


class RoomListener:
    """What the hub sees of a room connection (`LiveConnection`): it is in
    the hub under the room's listener key, to which the room's messages and
    `userStatus` are addressed (`core/rooms.py`). `token_hash` lets a
    sign-out of a token-bound member close it."""

    def __init__(self, conn: RoomConnection, key: str, token_hash: str) -> None:
        self.conn = conn
        self.id = conn.outbox.id
        self.user_id = key
        self.token_hash = token_hash

    def push(self, out: Out) -> None:
        self.conn.deliver(out)

    def kick(self, code: int, reason: str) -> None:
        self.conn.outbox.kick(code, reason)


class RoomConnection:
    def __init__(self, node: Node, ws: WebSocket) -> None:
        self.node = node
        self.ws = ws
        s = node.settings
        self.bucket = TokenBucket(s.rate_per_second, s.rate_burst)
        self.max_frame = s.simplechat_max_frame_bytes
        self._backlog = max(1, s.send_queue_limit // 2)
        self.outbox = Outbox("", "", s.send_queue_limit, node.flusher, None, ws.send_text)
        self.joined: Joined | None = None
        self.info: TokenInfo | None = None
        self.trace_parent = ws.headers.get("traceparent")
        self._held: list[tuple[Out, str | None]] | None = None
        self._listeners: list[RoomListener] = []
        self._limited = False
        self._peer_close = 1006
        self._inflight = 0
        self._tasks: set[asyncio.Task[None]] = set()

    # -- output ---------------------------------------------------------------
    def send(self, payload: bytes) -> None:
        self.outbox.push(Out(payload))

    def error(self, exc: HubbubError) -> None:
        self.node.metrics.errors.labels(exc.code).inc()
        self.send(_encode(ErrorOut(exc.code, exc.message, exc.path, exc.retry_after_ms)))

    def deliver(self, out: Out) -> None:
        joined = self.joined
        if joined is None:
            return
        found = translate(out, joined.room_id)
        if found is None:
            return
        if self._held is not None:
            self._held.append(found)
        else:
            self.outbox.push(found[0])

    # -- lifecycle ------------------------------------------------------------
    async def run(self) -> None:
        s = self.node.settings
        if not origin_allowed(
            self.ws.headers.get("origin"), self.ws.headers.get("host"), s.allowed_origins
        ):
            await self.ws.close(code=1008, reason="origin not allowed")
            return
        await self.ws.accept()
        wire = self.ws.scope.get("extensions", {}).get(WIRE_EXTENSION)
        self.outbox = Outbox("", "", s.send_queue_limit, self.node.flusher, wire, self.ws.send_text)
        reader = asyncio.create_task(self._read_loop())
        self.outbox.on_close = reader.cancel
        try:
            await asyncio.wait((reader,))
            exc = None if reader.cancelled() else reader.exception()
            if exc is not None and not isinstance(exc, WebSocketDisconnect | OSError):
                log.warning("room connection failed", exc_info=exc)
                self.outbox.kick(1011, "server error")
        finally:
            self.outbox.on_close = None
            self.outbox.stop_writer()
            if not reader.done():
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await reader
            for listener in self._listeners:
                self.node.hub.remove(listener)
            if self.outbox.overflowed:
                self.node.metrics.slow_consumers.inc()
            code, reason = self.outbox.closing or (1000, "")
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(code=code, reason=reason), timeout=2)
            if self.joined is not None:
                forced = self.outbox.closing is not None
                self.node.chat_events.disconnected(
                    self.joined.user.user_id,
                    self.outbox.id,
                    self.joined.user.handle,
                    self.trace_parent,
                    code=code if forced else self._peer_close,
                    reason=reason if forced else "closed by the client",
                    forced=forced,
                )
                with contextlib.suppress(Exception):
                    await self.node.rooms.leave(self.joined, self.outbox.id)

    async def _read_loop(self) -> None:
        ws, outbox, backlog = self.ws, self.outbox, self._backlog
        while True:
            if len(outbox.queue) >= backlog:
                await outbox.wait_below(backlog)
            msg = await ws.receive()
            if msg["type"] == "websocket.disconnect":
                self._peer_close = int(msg.get("code") or 1005)
                return
            raw: str | bytes | None = msg.get("text")
            if raw is None:
                raw = msg.get("bytes") or b""
            self.node.metrics.frames_in.inc()
            try:
                await self.handle(raw)
            except HubbubError as exc:
                self.error(exc)
            except Exception:
                log.exception("room frame failed")
                self.error(Internal("internal error"))

    async def handle(self, raw: str | bytes) -> None:
        if _size(raw) > self.max_frame:
            raise TooLarge(f"frame exceeds {self.max_frame} bytes")
        wait_ms = self.bucket.take()
        if wait_ms:
            if not self._limited and self.joined is not None:
                u = self.joined.user  # one chat event per burst refused, not per frame
                self.node.chat_events.rate_limited(
                    u.user_id, self.outbox.id, u.handle, self.trace_parent, wait_ms
                )
            self._limited = True
            raise RateLimited("slow down", retry_after_ms=wait_ms)
        self._limited = False
        try:
            msg: Any = _decoder.decode(raw)
        except msgspec.ValidationError as exc:
            raise _refusal(exc) from None
        except _UNDECODABLE:
            raise BadFrame("frame is not valid JSON") from None
        trace = msg.traceparent or self.trace_parent
        match msg:
            case InitMessage():
                await self._init(msg)
            case TextMessage():
                joined = self._joined()
                if self._inflight < MAX_PIPELINED:
                    await self._pipeline(joined, msg.text, trace)
                else:
                    await self.node.rooms.send_text(joined, msg.text, self.outbox.id, trace)
            case FileMessage():
                f = msg.file
                await self.node.rooms.send_file(
                    self._joined(), f.name, f.type, f.size, f.data, self.outbox.id, trace
                )

    async def _pipeline(self, joined: Joined, text: str, trace: str | None) -> None:
        """Send a text concurrently; read on once its write has its place in the order.

        As `/ws` does (`core/ordering.py`): the group-commit queue runs in
        order, so a sender's messages keep their order although the next frame
        is read before this one committed. Files are not pipelined: their blob
        is written before their message, and that first write would let a
        later frame's message overtake them.
        """
        loop = asyncio.get_running_loop()
        advance: asyncio.Future[None] = loop.create_future()

        def go_on() -> None:
            if not advance.done():
                advance.set_result(None)

        async def run() -> None:
            on_queued.set(go_on)  # this task's own context
            try:
                await self.node.rooms.send_text(joined, text, self.outbox.id, trace)
            except HubbubError as exc:
                self.error(exc)
            except Exception:
                log.exception("room text failed")
                self.error(Internal("internal error"))
            finally:
                self._inflight -= 1
                go_on()

        self._inflight += 1
        task = loop.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        await advance

    def _joined(self) -> Joined:
        if self.joined is None:
            raise BadFrame("send init first", code="not_initialized")
        return self.joined

    async def _init(self, msg: InitMessage) -> None:
        if self.joined is not None:
            raise BadFrame("already initialised")
        node = self.node
        token = msg.token or bearer_token(self.ws.headers.get("authorization"))
        info = None
        if token:
            try:
                info = await node.accounts.authenticate(token)
            except Unauthorized:
                raise Unauthorized("token not valid") from None
        account = info.user_id if info is not None else None
        joined = await node.rooms.join(msg.id, msg.username, account, self.outbox.id)
        self.info = info
        self.joined = joined
        trace = msg.traceparent or self.trace_parent
        node.chat_events.connected(joined.user.user_id, self.outbox.id, msg.id, trace)
        self._held = []
        token_hash = info.token_hash if info is not None else ""
        self._listeners = [RoomListener(self, node.rooms.listener_key(joined.room_id), token_hash)]
        for listener in self._listeners:
            node.hub.add(listener)
        shown: set[str] = set()
        try:
            users = await node.rooms.user_list(joined)
            history = await node.rooms.history(joined)
            self.send(_encode(UserDataOut(users)))
            messages: list[msgspec.Raw] = []
            for data in history:
                found = message_of(data, joined.room_id)
                if found is not None:
                    shown.add(found[1])
                    messages.append(msgspec.Raw(_encode(found[0])))
            self.send(_encode(HistoryOut(messages)))
        finally:
            held, self._held = self._held, None
            for out, mid in held or ():
                if mid is None or mid not in shown:
                    self.outbox.push(out)
