"""The `/ws` endpoint: handshake, authentication, the read and write loops.

    client --text--> read loop: size check, rate limit, decode envelope,
                     resolve channel, validate data, handler --> reply
    hub ---Out---> Outbox queue --> Flusher, end of loop turn --> client
                                (a writer task only while the socket is full)

Frames from one connection are handled one at a time, so a sender's
messages keep their order. Every frame with an `id` gets exactly one reply
with `ref`; a bad frame gets a typed error and the connection stays open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import Any

import msgspec
from starlette.websockets import WebSocket, WebSocketDisconnect

from hubbub.core.accounts import check_device_id
from hubbub.core.apikeys import KEY_PREFIX
from hubbub.core.context import Caller
from hubbub.core.frames import encode_frame
from hubbub.core.model import TokenInfo
from hubbub.core.ordering import on_queued
from hubbub.credentials import bearer_token
from hubbub.errors import (
    BadFrame,
    Forbidden,
    HubbubError,
    Internal,
    RateLimited,
    TooLarge,
    Unauthorized,
    Unavailable,
    UnknownChannel,
    ValidationFailed,
)
from hubbub.protocols.channels.additions import client_type
from hubbub.protocols.channels.declarations import (
    Authenticate,
    ClientFrame,
    resolve,
)
from hubbub.protocols.channels.handlers import HANDLERS, PIPELINED, Handler, Reply
from hubbub.protocols.channels.session import Session, TokenBucket
from hubbub.protocols.wsserver import WIRE_EXTENSION
from hubbub.realtime.outbox import Out, Outbox
from hubbub.runtime import Node

__all__ = ["Connection", "origin_allowed", "ws_endpoint"]

log = logging.getLogger("hubbub.ws")

_frame_decoder = msgspec.json.Decoder(ClientFrame)
_decoders: dict[type[Any], msgspec.json.Decoder[Any]] = {}
_MISSING = re.compile(r"missing required field `([^`]+)`")
_AT = re.compile(r" - at `\$([^`]*)`")
# Besides DecodeError, msgspec raises these on hostile input: invalid UTF-8 in a
# binary frame, and nesting deeper than the recursion limit. Bad frames, not bugs.
_UNDECODABLE = (msgspec.DecodeError, UnicodeDecodeError, RecursionError)
# What a read-only API key may send (core/apikeys.py): reads, and the
# bookkeeping of its own sync position.
READ_ONLY_FRAMES = frozenset(
    {
        ("sync/request", "SyncRequest"),
        ("sync/changes", "SyncAck"),
        ("status/response", "RequestStatus"),
    }
)
MAX_PIPELINED = 64  # frames of one connection in flight at once (see _pipeline)


def _decoder(kind: type[Any]) -> msgspec.json.Decoder[Any]:
    dec = _decoders.get(kind)
    if dec is None:
        dec = _decoders[kind] = msgspec.json.Decoder(kind)
    return dec


def validation_error(exc: msgspec.ValidationError, base: str = "$.data") -> ValidationFailed:
    text = str(exc)
    at = _AT.search(text)
    path = base + (at.group(1) if at else "")
    missing = _MISSING.search(text)
    if missing:
        path += "." + missing.group(1)
    message = _AT.sub("", text)
    return ValidationFailed(message, path=path)


def origin_allowed(origin: str | None, host: str | None, allowed: tuple[str, ...]) -> bool:
    """No Origin (native apps, bots) or same-origin pass; others need the allowlist."""
    if origin is None:
        return True
    if "*" in allowed or origin in allowed:
        return True
    bare = origin.split("://", 1)[-1].rstrip("/")
    return host is not None and bare == host


def _device(raw: str | None, path: str) -> str | None:
    """A device id chosen by the client, checked as REST checks it; None: the token's."""
    if not raw:
        return None
    try:
        return check_device_id(raw)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, path=path) from None


class Connection:
    def __init__(self, node: Node, ws: WebSocket) -> None:
        self.node = node
        self.ws = ws
        s = node.settings
        self.bucket = TokenBucket(s.rate_per_second, s.rate_burst)
        self.max_frame = s.max_frame_bytes
        self.session: Session | None = None
        self._pre_auth: list[bytes] = []
        # Back-pressure on input: while this many replies and events wait to be
        # written, the reader stops reading the client's frames (see _read_loop).
        self._backlog = max(1, s.send_queue_limit // 2)
        # Pipelined frames in flight (see _pipeline): the last one's reply-sent future.
        self._tail: asyncio.Future[None] | None = None
        self._inflight = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._peer_close = 1006  # the client's close code, once it sent one
        self._limited = False  # rate-limited since the last accepted frame

    # -- output ---------------------------------------------------------------
    def send(self, frame: bytes) -> None:
        if self.session is not None:
            self.session.outbox.push(Out(frame))
        else:
            self._pre_auth.append(frame)

    def error(self, exc: HubbubError, ref: str | None, channel: str = "") -> None:
        self.node.metrics.errors.labels(exc.code).inc()
        self.send(encode_frame(channel, "Error", exc.as_dict(), ref=ref))

    def reply(self, r: Reply, ref: str | None) -> None:
        self.send(encode_frame(r.channel, r.type, r.data, ref=ref))
        for channel, type_, data in r.extra_frames:
            self.send(encode_frame(channel, type_, data))

    async def _flush_pre_auth(self) -> None:
        for frame in self._pre_auth:
            await self.ws.send_text(frame.decode())
        self._pre_auth.clear()

    # -- lifecycle ------------------------------------------------------------
    async def run(self) -> None:
        s = self.node.settings
        if not origin_allowed(
            self.ws.headers.get("origin"), self.ws.headers.get("host"), s.allowed_origins
        ):
            await self.ws.close(code=1008, reason="origin not allowed")
            return
        await self.ws.accept()
        token = bearer_token(self.ws.headers.get("authorization"))
        api_key = self.ws.headers.get("x-api-key")
        try:
            device = _device(self.ws.headers.get("x-device-id"), "$.headers.x-device-id")
            if token is not None:
                info = await self.node.accounts.authenticate(token)
                ref = None
            elif api_key is not None:
                info = await self.node.apikeys.authenticate(api_key.strip())
                ref = None
            else:
                info, frame_device, ref = await self._await_authenticate()
                device = frame_device or device
        except Unauthorized as exc:
            self.error(exc, getattr(exc, "ref", None))
            await self._flush_pre_auth()
            await self.ws.close(code=4401, reason="unauthorized")
            return
        except ValidationFailed as exc:
            self.error(exc, None)
            await self._flush_pre_auth()
            await self.ws.close(code=1008, reason="invalid device id")
            return
        except (WebSocketDisconnect, TimeoutError):
            if not self._pre_auth:
                with contextlib.suppress(Exception):
                    await self.ws.close(code=4401, reason="authentication timeout")
            return
        await self._serve(info, device, ref)

    async def _await_authenticate(self) -> tuple[TokenInfo, str | None, str | None]:
        deadline = asyncio.get_running_loop().time() + self.node.settings.auth_timeout_s
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError
            msg = await asyncio.wait_for(self.ws.receive(), timeout=remaining)
            if msg["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(msg.get("code", 1000))
            raw = msg.get("text") or msg.get("bytes") or b""
            try:
                frame = _frame_decoder.decode(raw)
            except msgspec.ValidationError as exc:
                self.error(BadFrame(str(exc)), None)
                await self._flush_pre_auth()
                continue
            except _UNDECODABLE:
                self.error(BadFrame("frame is not valid JSON"), None)
                await self._flush_pre_auth()
                continue
            if frame.type != "Authenticate":
                self.error(Unauthorized("send Authenticate first"), frame.id, frame.channel)
                await self._flush_pre_auth()
                continue
            try:
                auth = _decoder(Authenticate).decode(frame.data)
                device = _device(auth.device_id, "$.data.device_id")
            except msgspec.ValidationError as exc:
                self.error(validation_error(exc), frame.id)
                await self._flush_pre_auth()
                continue
            except _UNDECODABLE:
                self.error(BadFrame("data is not valid JSON"), frame.id)
                await self._flush_pre_auth()
                continue
            except ValidationFailed as exc:
                self.error(exc, frame.id)
                await self._flush_pre_auth()
                continue
            try:
                if auth.token.startswith(KEY_PREFIX):  # an API key (browsers set no headers)
                    info = await self.node.apikeys.authenticate(auth.token)
                else:
                    info = await self.node.accounts.authenticate(auth.token)
            except Unauthorized as exc:
                exc.ref = frame.id  # type: ignore[attr-defined]
                raise
            return info, device, frame.id

    async def _serve(self, info: TokenInfo, device: str | None, ref: str | None) -> None:
        node = self.node
        wire = self.ws.scope.get("extensions", {}).get(WIRE_EXTENSION)
        outbox = Outbox(
            info.user_id,
            info.token_hash,
            node.settings.send_queue_limit,
            node.flusher,
            wire,
            self.ws.send_text,
        )
        trace = self.ws.headers.get("traceparent")
        caller = Caller(
            info.user_id,
            device or info.device_id,
            outbox.id,
            info.token_hash,
            info.kind,
            info.read_only,
            session_id=outbox.id,
            trace_parent=trace,
        )
        self.session = Session(node, caller, outbox)
        joined = False
        reader: asyncio.Task[None] | None = None
        try:
            head = await node.stores.events.max_pos()
            self.send(
                encode_frame(
                    "",
                    "Authenticated",
                    {"user_id": caller.user_id, "device_id": caller.device_id, "head_seq": head},
                    ref=ref,
                )
            )
            for frame in self._pre_auth:
                outbox.push(Out(frame))
            self._pre_auth.clear()
            node.hub.add(outbox, everyone=True)
            node.metrics.connections.inc()
            joined = True
            node.chat_events.connected(caller.user_id, outbox.id, caller.device_id, trace)
            log.debug("connected", extra={"user_id": caller.user_id, "device_id": caller.device_id})
            # One task reads; a kick (revoked, too slow) cancels it. Writes need no
            # task (see realtime/outbox.py).
            reader = asyncio.create_task(self._read_loop())
            outbox.on_close = reader.cancel
            # A logout racing this handshake may have sent its revocation before the
            # hub knew this connection: look again now that any later one will kick it.
            if not await self._still_valid(info):
                outbox.kick(4401, "token revoked")
            for data in await node.presence.connected(caller.user_id):
                outbox.push(Out(encode_frame("user/presence", "PresenceStatusUpdated", data)))
            await asyncio.wait((reader,))
            exc = None if reader.cancelled() else reader.exception()
            if exc is not None and not isinstance(exc, WebSocketDisconnect | OSError):
                # (a peer that vanished mid-send is a normal end)
                log.warning("connection loop failed", exc_info=exc)
                outbox.kick(1011, "server error")
        except HubbubError as exc:  # storage unavailable while setting up: retry later
            log.warning("connection setup failed", extra={"error": exc.code})
            outbox.kick(1011, "server error: reconnect later")
        except Exception:
            log.exception("connection failed")
            outbox.kick(1011, "server error")
        finally:
            outbox.on_close = None
            outbox.stop_writer()
            if reader is not None and not reader.done():
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await reader
            if joined:
                node.hub.remove(outbox)
                node.live_previews.unsubscribe(outbox)
                node.metrics.connections.dec()
            if outbox.overflowed:
                node.metrics.slow_consumers.inc()
            code, reason = outbox.closing or (1000, "")
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(code=code, reason=reason), timeout=2)
            if joined:
                forced = outbox.closing is not None
                node.chat_events.disconnected(
                    caller.user_id,
                    outbox.id,
                    caller.device_id,
                    trace,
                    code=code if forced else self._peer_close,
                    reason=reason if forced else "closed by the client",
                    forced=forced,
                )
                with contextlib.suppress(Exception):
                    await node.presence.disconnected(caller.user_id)

    async def _still_valid(self, info: TokenInfo) -> bool:
        if info.kind == "api_key":
            return await self.node.apikeys.is_live(info.token_hash)
        return await self.node.stores.accounts.lookup_token(info.token_hash) is not None

    async def _read_loop(self) -> None:
        ws, frames_in = self.ws, self.node.metrics.frames_in
        assert self.session is not None
        outbox = self.session.outbox
        queue, backlog = outbox.queue, self._backlog
        while True:
            # A client that sends faster than it reads its replies (a pipelined
            # burst, a flood answered `rate_limited`) is not read further until
            # the writer catches up; without this, a burst handled in one go
            # filled the queue before the writer ran and was cut off as a slow
            # consumer. That cut-off is for events the client cannot keep up with.
            if len(queue) >= backlog:
                await outbox.wait_below(backlog)
            msg = await ws.receive()
            if msg["type"] == "websocket.disconnect":
                self._peer_close = int(msg.get("code") or 1005)
                return
            raw: str | bytes | None = msg.get("text")
            if raw is None:
                raw = msg.get("bytes") or b""
            frames_in.inc()
            await self.handle(raw)

    async def handle(self, raw: str | bytes) -> None:
        try:
            frame = self._envelope(raw)
            handler, msg, params, pipelined = await self.prepare(frame)
        except _Refused as refused:
            # Its reply waits for the pipelined frames before it, like any other.
            await self._in_turn()
            self.error(refused.error, refused.ref, refused.channel)
            return
        if pipelined and self._inflight < MAX_PIPELINED:
            await self._pipeline(frame, handler, msg, params)
            return
        await self._in_turn()
        self._emit(frame, await self._run(frame, handler, msg, params))

    def _envelope(self, raw: str | bytes) -> ClientFrame:
        """Size, rate and envelope checks: the frame, or `_Refused` with its `ref` if found."""
        if _size(raw) > self.max_frame:
            raise _Refused(TooLarge(f"frame exceeds {self.max_frame} bytes"), _peek_id(raw))
        wait_ms = self.bucket.take()
        if wait_ms:
            if not self._limited and self.session is not None:
                self._limited = True  # one chat event per burst refused, not per frame
                c = self.session.caller
                self.node.chat_events.rate_limited(
                    c.user_id, c.session_id, c.device_id, c.trace_parent, wait_ms
                )
            raise _Refused(RateLimited("slow down", retry_after_ms=wait_ms), _peek_id(raw))
        self._limited = False
        try:
            frame: ClientFrame = _frame_decoder.decode(raw)
        except msgspec.ValidationError as exc:
            raise _Refused(BadFrame(_strip(exc)), _peek_id(raw)) from None
        except _UNDECODABLE:
            raise _Refused(BadFrame("frame is not valid JSON"), _peek_id(raw)) from None
        return frame

    async def _run(
        self, frame: ClientFrame, handler: Handler, msg: Any, params: dict[str, str]
    ) -> Reply | HubbubError:
        assert self.session is not None
        try:
            return await handler(self.session, msg, params)
        except HubbubError as exc:
            return exc
        except Exception:
            log.exception("handler failed", extra={"channel": frame.channel, "type": frame.type})
            return Internal("internal error")

    def _emit(self, frame: ClientFrame, result: Reply | HubbubError | None) -> None:
        if isinstance(result, HubbubError):
            self.error(result, frame.id, frame.channel)
        elif result is not None and frame.id is not None:
            self.reply(result, frame.id)
        elif result is not None:
            for channel, type_, data in result.extra_frames:
                self.send(encode_frame(channel, type_, data))

    async def _in_turn(self) -> None:
        """Wait until every pipelined frame before this one has sent its reply."""
        tail = self._tail
        if tail is not None and not tail.done():
            await asyncio.shield(tail)

    async def _pipeline(
        self, frame: ClientFrame, handler: Handler, msg: Any, params: dict[str, str]
    ) -> None:
        """Run a one-write handler concurrently; read on once its write is queued.

        Writes join the group commit in frame order (the next frame is read
        only after this one's write is queued, see `core/ordering.py`), and
        replies go out in frame order (each waits for the one before).
        """
        loop = asyncio.get_running_loop()
        prev, done = self._tail, loop.create_future()
        self._tail = done
        advance = loop.create_future()

        def go_on() -> None:
            if not advance.done():
                advance.set_result(None)

        async def run() -> None:
            on_queued.set(go_on)  # this task's own context
            try:
                result = await self._run(frame, handler, msg, params)
                if prev is not None and not prev.done():
                    await asyncio.shield(prev)
                self._emit(frame, result)
            finally:
                self._inflight -= 1
                done.set_result(None)
                go_on()

        self._inflight += 1
        task = loop.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        await advance

    async def prepare(self, frame: ClientFrame) -> tuple[Handler, Any, dict[str, str], bool]:
        """Everything before the handler: routing and validation, all typed errors."""
        try:
            return await self._route(frame)
        except HubbubError as exc:
            raise _Refused(exc, frame.id, frame.channel) from None

    async def _route(self, frame: ClientFrame) -> tuple[Handler, Any, dict[str, str], bool]:
        assert self.session is not None
        if frame.type == "Authenticate":
            raise BadFrame("already authenticated")
        if frame.type in ("Subscribe", "Unsubscribe"):
            found = resolve(frame.channel)
            sub = HANDLERS.get((found[0].name, frame.type)) if found is not None else None
            if found is not None and sub is not None:
                return sub, None, found[1], False
            await self._in_turn()
            raise await self.subscription(frame)
        found = resolve(frame.channel)
        if found is None:
            raise UnknownChannel(f"unknown channel {frame.channel!r}")
        decl, params = found
        decoded_as = client_type(decl)  # the spec's Struct, or hubbub's with added fields
        if decl.client_message != frame.type or decoded_as is None:
            raise BadFrame(f"{frame.type!r} is not a client message of {decl.name!r}")
        key = (decl.name, frame.type)
        handler = HANDLERS.get(key)
        if handler is None:
            raise Unavailable(f"{decl.name} is not served yet")
        if self.session.caller.read_only and key not in READ_ONLY_FRAMES:
            raise Forbidden("this API key is read-only")
        try:
            msg = _decoder(decoded_as).decode(frame.data)
        except msgspec.ValidationError as exc:
            raise validation_error(exc) from None
        except _UNDECODABLE:
            raise BadFrame("data is not valid JSON") from None
        if b"\\u0000" in bytes(frame.data):
            nul = _nul_path(msg)
            if nul is not None:
                raise ValidationFailed("strings must not contain U+0000", path=nul)
        return handler, msg, params, key in PIPELINED

    async def subscription(self, frame: ClientFrame) -> HubbubError:
        found = resolve(frame.channel)
        if found is None:
            return UnknownChannel(f"unknown channel {frame.channel!r}")
        return Unavailable(f"{found[0].name} has no subscribable stream yet")


def _strip(exc: Exception) -> str:
    return _AT.sub(lambda m: f" at $.{m.group(1).lstrip('.')}" if m.group(1) else "", str(exc))


def _nul_path(msg: msgspec.Struct) -> str | None:
    """Path of the first string in `msg` holding U+0000, which PostgreSQL text
    cannot store (rejected on every backend, so they behave alike). Iterative:
    data may be nested as deep as the decoder allows."""
    todo: list[tuple[str, Any]] = [("$.data", msg)]
    while todo:
        path, value = todo.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return path
        elif isinstance(value, msgspec.Struct):
            todo += [(f"{path}.{f}", getattr(value, f)) for f in value.__struct_fields__]
        elif isinstance(value, dict):
            todo += [(path, k) for k in value]
            todo += [(f"{path}.{k}", v) for k, v in value.items()]
        elif isinstance(value, list):
            todo += [(f"{path}[{i}]", v) for i, v in enumerate(value)]
    return None


class _Refused(Exception):
    """A frame answered with an error before any handler ran."""

    def __init__(self, error: HubbubError, ref: str | None, channel: str = "") -> None:
        self.error, self.ref, self.channel = error, ref, channel


class _IdOnly(msgspec.Struct):
    id: Any = None


_id_decoder = msgspec.json.Decoder(_IdOnly)


def _peek_id(raw: str | bytes) -> str | None:
    """Best-effort `id` of a frame we cannot fully decode, so the error carries `ref`.

    Decodes into a one-field Struct, so the rest of the frame is skipped, not built.
    """
    try:
        fid = _id_decoder.decode(raw).id
    except _UNDECODABLE:  # also ValidationError: not an object
        return None
    return fid if isinstance(fid, str) else None


def _size(raw: str | bytes) -> int:
    """Size in bytes as sent: text frames arrive decoded, and UTF-8 may use 4 bytes a char."""
    if isinstance(raw, bytes) or raw.isascii():
        return len(raw)
    return len(raw.encode("utf-8", "surrogatepass"))


async def ws_endpoint(ws: WebSocket) -> None:
    node: Node = ws.app.state.node
    await Connection(node, ws).run()
