"""One Symbia real-time connection, whichever transport carries it.

Socket.IO (`socketio.py`) and the plain `/api/ws` (`wsapi.py`) differ only
in how an event reaches the client (`Emit`); everything else is here:

- **Hub.** The connection joins the node's hub like a `/ws` one (and like
  MTChat's), so it gets exactly its user's events from any node through the
  cluster bus; `events.Translator` renames them. It is also registered under
  `symbia_key(user)`, a hub key only Symbia connections answer to, for the
  events `/ws` has no word for (`participant:online`).
- **Rooms.** On connect the connection is in the room of every conversation
  its user is in: the core addresses each event to the members, so a room is
  membership itself, and a conversation joined later is heard at once.
  `leave:conversation` mutes one on this connection; `join:conversation`
  (participants of the caller's tenants only, REST's `role_of`:
  `{success:false, error:'Not a participant'}`) unmutes it.
- **Queue.** Outgoing events wait in a bounded queue (`send_queue_limit`);
  a client that does not read is cut off as a slow consumer, like on `/ws`.
- **Limits.** Client events share `/ws`'s per-connection rate limit (one
  spec 004 `userChatRateLimited` per refused burst) and frame size limit.
- **Typing.** A connection that closes while typing stops its indicators
  (the others would otherwise wait for the TTL).
- **Acks.** Every client event answers `{success: true, ...}` or
  `{success: false, error, code}`; "not yours" reads as "not found".
- **Unstorable text.** A payload holding U+0000 (or a lone surrogate, which
  Socket.IO's JSON lets through) is a `validation_failed` ack before any
  handler runs: PostgreSQL cannot take it in a query, and SQLite would, so
  refusing it at the edge makes both backends answer alike. An event that
  still fails unexpectedly is logged with its name and answered `internal`;
  the connection stays open (the fuzz finding of issue #12: PostgreSQL's
  DataError escaped `/api/ws`'s loop and the client saw 1006).
- **Closes.** Every close is logged at info with its code, its reason and
  whether the server forced it (never a payload).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from hubbub.core.context import Caller
from hubbub.errors import Forbidden, HubbubError, NotFound, RateLimited, ValidationFailed
from hubbub.ids import new_id
from hubbub.protocols.channels.session import TokenBucket
from hubbub.protocols.symbia import socket_actions
from hubbub.protocols.symbia.events import PARTICIPANTS_CHANNEL, Translator
from hubbub.protocols.symbia.handshake import Who
from hubbub.realtime.outbox import Out
from hubbub.runtime import Node

__all__ = ["CLIENT_EVENTS", "Emit", "SymbiaSocket", "symbia_key", "unstorable_path"]

log = logging.getLogger("hubbub.symbia")

Emit = Callable[[str, Any], Awaitable[None]]
CLIENT_EVENTS = (
    "join:conversation",
    "leave:conversation",
    "message:send",
    "message:edit",
    "message:delete",
    "control:send",
    "typing:start",
    "typing:stop",
    "presence:update",
)
WRITES = frozenset(CLIENT_EVENTS) - {"join:conversation", "leave:conversation"}
MAX_ROOMS_ANNOUNCED = 1000
# The core's words for "not in that conversation" (or it does not exist for you).
NOT_PARTICIPANT = frozenset({"conversation not found", "not a participant in this conversation"})
MAX_MUTED = 1000


def unstorable_path(data: object) -> str | None:
    """Path of the first string in `data` (keys included) that no backend may be
    handed: one holding U+0000, or one that is not UTF-8 (a lone surrogate).
    Iterative: data may be nested as deep as a decoder allows."""
    todo: list[tuple[str, object]] = [("$.data", data)]
    while todo:
        path, value = todo.pop()
        if isinstance(value, str):
            if "\x00" in value or not _utf8(value):
                return path
        elif isinstance(value, dict):
            todo += [(path, k) for k in value]
            todo += [(f"{path}.{k}", v) for k, v in value.items()]
        elif isinstance(value, list):
            todo += [(f"{path}[{i}]", v) for i, v in enumerate(value)]
    return None


def _utf8(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def symbia_key(user_id: str) -> str:
    """The hub key of a user's Symbia connections (no account id has a colon)."""
    return "symbia:" + user_id


class _Alias:
    """The connection as the hub sees it under `symbia_key`."""

    def __init__(self, conn: SymbiaSocket) -> None:
        self.id = conn.id + ":symbia"
        self.user_id = symbia_key(conn.user_id)
        self.token_hash = conn.token_hash
        self.push = conn.push
        self.kick = conn.kick


def _conversation_id(data: object) -> str:
    """A bare string id (Symbia's clients), or `{conversationId}`."""
    if isinstance(data, dict):
        data = data.get("conversationId")
    if not isinstance(data, str) or not data or len(data) > 64:
        raise ValidationFailed("a conversation id expected", path="$.data")
    return data


class SymbiaSocket:
    def __init__(
        self,
        node: Node,
        translator: Translator,
        who: Who,
        emit: Emit,
        transport: str,
        trace: str | None,
    ) -> None:
        self.id = new_id()
        self.node = node
        self.translator = translator
        self.who = who
        base = who.caller
        self.user_id = base.user_id
        self.token_hash = base.token_hash
        self.transport = transport
        self.trace = trace
        self.caller = Caller(
            base.user_id,
            base.device_id,
            None,  # Symbia tells the sender's own connections too (`message:new`)
            base.token_hash,
            base.kind,
            base.read_only,
            session_id=self.id,
            trace_parent=trace,
        )
        self.emit = emit
        self.queue: deque[Out | tuple[str, Any]] = deque()
        self.limit = node.settings.send_queue_limit
        self.wake = asyncio.Event()
        self.closing: tuple[int, str] | None = None
        self.on_kick: Callable[[], None] | None = None
        self.muted: set[str] = set()
        # Conversations this connection said it is typing in: stopped when it closes.
        self.typing_in: set[str] = set()
        self.bucket = TokenBucket(node.settings.rate_per_second, node.settings.rate_burst)
        self._limited = False
        self._alias = _Alias(self)
        self._writer: asyncio.Task[None] | None = None
        self._opening: asyncio.Task[None] | None = None
        self._joined = False
        self._closed = False
        translator.remember_kind(self.user_id, who.kind, who.agent_id)

    # -- what the hub calls ---------------------------------------------------
    def push(self, out: Out) -> None:
        if self.closing is not None:
            return
        if len(self.queue) >= self.limit:
            self.node.metrics.slow_consumers.inc()
            self.kick(1013, "slow consumer")
            return
        self.queue.append(out)
        self.wake.set()

    def kick(self, code: int, reason: str) -> None:
        if self.closing is None:
            self.closing = (code, reason)
            if self.on_kick is not None:
                self.on_kick()
        self.wake.set()

    def send(self, event: str, data: Any) -> None:
        """An event of this connection's own (a reply): queued with the rest, in order."""
        self.queue.append((event, data))
        self.wake.set()

    # -- lifecycle ------------------------------------------------------------
    def start(self) -> None:
        """`open` in its own task (Socket.IO: after the handshake has been answered);
        `close` waits for it, so presence cannot count a closed connection."""
        self._opening = asyncio.get_running_loop().create_task(self.open())

    async def open(self) -> None:
        node = self.node
        if self._closed:
            return  # the client went away before the connection was set up
        node.hub.add(self)
        node.hub.add(self._alias)
        self._joined = True
        self._writer = asyncio.get_running_loop().create_task(self._write_loop())
        node.chat_events.connected(self.user_id, self.id, self.transport, self.trace)
        try:
            await node.presence.connected(self.user_id)
            await self._announce_online()
        except HubbubError:
            log.warning("symbia connection setup incomplete")

    async def _announce_online(self) -> None:
        """`participant:online` to the other members of each of the user's conversations."""
        convs = await self.node.conversations.list_for(self.caller)
        # Not the public room (spec 001): everyone is in it, and it has its own user list.
        convs = [c for c in convs if c.kind != "room"]
        for conv in convs[:MAX_ROOMS_ANNOUNCED]:
            others = [symbia_key(m.user_id) for m in conv.members if m.user_id != self.user_id]
            if others:
                data: dict[str, object] = {"conversation_id": conv.id, "user_id": self.user_id}
                await self.node.publisher.ephemeral(
                    PARTICIPANTS_CHANNEL, "ParticipantOnline", data, others
                )

    async def close(self, code: int, reason: str) -> None:
        node = self.node
        self._closed = True
        if self._opening is not None:
            with contextlib.suppress(Exception):
                await self._opening
        if not self._joined:
            return
        self._joined = False
        node.hub.remove(self)
        node.hub.remove(self._alias)
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._writer
        for cid in list(self.typing_in):
            if node.typing.is_typing(cid, self.user_id):  # not lapsed already
                with contextlib.suppress(Exception):
                    await node.typing.stop(self.caller, cid)
        forced = self.closing is not None
        code, reason = self.closing or (code, reason)
        log.info(
            "symbia connection closed",
            extra={
                "user_id": self.user_id,
                "connection_id": self.id,
                "transport": self.transport,
                "code": code,
                "reason": reason,
                "forced": forced,
            },
        )
        node.chat_events.disconnected(
            self.user_id,
            self.id,
            self.transport,
            self.trace,
            code=code,
            reason=reason,
            forced=forced,
        )
        try:
            await node.presence.disconnected(self.user_id)
        except Exception:
            log.warning("presence update on close failed")

    async def _write_loop(self) -> None:
        try:
            await self._write()
        except Exception as exc:  # the transport failed under us (or a bug): close, said why
            log.warning("symbia write failed", extra={"error": type(exc).__name__})
            self.kick(1011, "server error")

    async def _write(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.queue and self.closing is None:
                item = self.queue.popleft()
                if isinstance(item, Out):
                    event = await self.translator.translate(item.payload)
                    if event is None or (event[2] is not None and event[2] in self.muted):
                        continue
                    await self.emit(event[0], event[1])
                else:
                    await self.emit(item[0], item[1])
            if self.closing is not None:
                return

    # -- client events --------------------------------------------------------
    def admit(self) -> dict[str, Any] | None:
        """The rate limit: None if the event may run, else the refusal."""
        wait_ms = self.bucket.take()
        if not wait_ms:
            self._limited = False
            return None
        if not self._limited:
            self._limited = True  # one chat event per refused burst
            self.node.chat_events.rate_limited(
                self.user_id, self.id, self.transport, self.trace, wait_ms
            )
        return refusal(RateLimited("slow down", retry_after_ms=wait_ms))

    async def handle(self, event: str, data: Any) -> dict[str, Any]:
        """Run one client event; returns its ack."""
        refused = self.admit()
        if refused is not None:
            return refused
        try:
            if event not in CLIENT_EVENTS:
                return {"success": False, "error": "Unknown event", "code": "bad_frame"}
            if event in WRITES and self.caller.read_only:
                raise Forbidden("this API key is read-only")
            bad = unstorable_path(data)
            if bad is not None:
                raise ValidationFailed("strings must be UTF-8 without U+0000", path=bad)
            return await self._run(event, data)
        except HubbubError as exc:
            return refusal(exc)
        except RecursionError:  # data nested past what a decoder or validator walks
            return refusal(ValidationFailed("nested too deeply", path="$.data"))
        except Exception:  # a bug: logged (the event's name, never its data), the socket kept
            log.exception("symbia event failed", extra={"event": event[:64]})
            return {"success": False, "error": "internal error", "code": "internal"}

    async def _run(self, event: str, data: Any) -> dict[str, Any]:
        node, caller = self.node, self.caller
        if event == "join:conversation":
            cid = await socket_actions.join(node, caller, data)
            self.muted.discard(cid)
            return {"success": True}
        if event == "leave:conversation":
            cid = _conversation_id(data)
            if len(self.muted) < MAX_MUTED:
                self.muted.add(cid)
            return {"success": True}
        if event == "typing:start":
            cid = _conversation_id(data)
            until = await node.typing.start(caller, cid)
            if len(self.typing_in) < MAX_MUTED:
                self.typing_in.add(cid)
            return {"success": True, "expiresAt": until}
        if event == "typing:stop":
            cid = _conversation_id(data)
            self.typing_in.discard(cid)
            await node.typing.stop(caller, cid)
            return {"success": True}
        if event == "presence:update":
            status = data.get("status") if isinstance(data, dict) else data
            await node.presence.set_status(caller, status if isinstance(status, str) else "")
            return {"success": True, "status": status}
        scope = self.who.scope
        if event == "message:send":
            return await socket_actions.send(node, caller, scope, data)
        if event == "message:edit":
            return await socket_actions.edit(node, caller, data)
        if event == "message:delete":
            return await socket_actions.delete(node, caller, data)
        return await socket_actions.control(node, caller, scope, data)


def refusal(exc: HubbubError) -> dict[str, Any]:
    """A typed error as an ack; Symbia's own wording where its clients expect one."""
    error = exc.message
    if exc.message.lower() in NOT_PARTICIPANT:
        error = "Not a participant"
    elif isinstance(exc, NotFound) and exc.message == "message not found":
        error = "Message not found"
    out: dict[str, Any] = {"success": False, "error": error, "code": exc.code}
    path = getattr(exc, "path", None)
    if path:
        out["path"] = path
    if exc.retry_after_ms is not None:
        out["retryAfterMs"] = exc.retry_after_ms
    return out
