"""`/api/v1/ws`: MTChat's WebSocket.

    connect ?token=<jwt> | ?token=<hubbub token> | ?user_id= (trusted mode)
      -> {"type":"connected","employee_id":...}, then events (events.py)
    client: ping -> pong (and presence refreshed), subscribe / unsubscribe {dialog_id}
            (nothing when accepted); anything else, a binary frame or JSON too
            deep to decode included, -> error {message}, the connection kept

The connection joins the node's hub like a `/ws` one, so it gets exactly the
events of the conversations its user is in, from any node. `subscribe` adds
a dialog the user may see by scope but has not joined (the scope comes from
`?scope_config=` or an `X-Scope-Config` header: browsers cannot set headers
on a WebSocket); watchers are kept per node and shown every frame the hub
delivers (`Watchers`). Outgoing frames wait in a bounded queue; a client that
does not read is cut off (1013) like a slow `/ws` consumer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import Any

import msgspec
from starlette.websockets import WebSocket, WebSocketDisconnect

from hubbub.core.model import Notification
from hubbub.core.ports.dialogs import ScopeRule
from hubbub.errors import HubbubError
from hubbub.ids import new_id
from hubbub.protocols.channels.endpoint import origin_allowed
from hubbub.protocols.mtchat.events import conversation_of, people_of, translate
from hubbub.protocols.mtchat.identity import MtUser, authenticate, parse_scope
from hubbub.protocols.mtchat.urls import Signer, base_url, download_url
from hubbub.protocols.mtchat.views import Names
from hubbub.realtime.outbox import Out
from hubbub.runtime import Node

__all__ = ["MtConnection", "Watchers", "mtchat_ws"]

log = logging.getLogger("hubbub.mtchat")

MAX_FRAME = 4096
MAX_WATCHED = 100
_decode = msgspec.json.Decoder(dict[str, Any]).decode
_encode = msgspec.json.Encoder().encode


class Watchers:
    """Connections watching a dialog they are not in, on this node."""

    def __init__(self) -> None:
        self.by_conversation: dict[str, dict[str, MtConnection]] = {}

    def add(self, conversation_id: str, conn: MtConnection) -> None:
        self.by_conversation.setdefault(conversation_id, {})[conn.id] = conn

    def remove(self, conversation_id: str, conn: MtConnection) -> None:
        conns = self.by_conversation.get(conversation_id)
        if conns is not None:
            conns.pop(conn.id, None)
            if not conns:
                del self.by_conversation[conversation_id]

    def on_note(self, note: Notification) -> None:
        if not self.by_conversation:
            return
        cid = conversation_of(note.frame)
        conns = self.by_conversation.get(cid) if cid else None
        if not conns:
            return
        out = Out(note.frame)
        for conn in list(conns.values()):
            if conn.user_id not in note.recipients:
                conn.push(out)


class MtConnection:
    """What the hub sees of an MTChat WebSocket: push frames, or kick it."""

    def __init__(self, node: Node, ws: WebSocket, me: MtUser, scope: ScopeRule | None) -> None:
        self.id = new_id()
        self.user_id = me.user_id
        self.token_hash = me.token_hash
        self.me = me
        self.node = node
        self.ws = ws
        self.scope = scope
        self.names = Names(node)
        self.signer: Signer = ws.app.state.mtchat_signer
        self.base = base_url(ws, node.settings)
        self.queue: deque[bytes | Out] = deque()
        self.limit = node.settings.send_queue_limit
        self.wake = asyncio.Event()
        self.closing: tuple[int, str] | None = None
        self.watching: set[str] = set()
        # Dialogs this user has archived: a new message in one brings it back,
        # which the store needs no write for; this connection says so.
        self.archived: set[str] = set()

    def push(self, out: Out) -> None:
        if self.closing is not None:
            return
        if len(self.queue) >= self.limit:
            self.kick(1013, "slow consumer")
            return
        self.queue.append(out)
        self.wake.set()

    def send(self, event: dict[str, Any]) -> None:
        self.queue.append(_encode(event))
        self.wake.set()

    def kick(self, code: int, reason: str) -> None:
        if self.closing is None:
            self.closing = (code, reason)
        self.wake.set()

    async def writer(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.queue and self.closing is None:
                item = self.queue.popleft()
                if isinstance(item, Out):
                    await self.names.load(people_of(item.payload))
                    event = translate(item.payload, self.names, self.url_of)
                    if event is None:
                        continue
                    extras = self._archive_state(event)
                    if extras is None:
                        continue
                    for extra in extras:
                        await self.ws.send_text(_encode(extra).decode())
                    frame = _encode(event)
                else:
                    frame = item
                await self.ws.send_text(frame.decode())
            if self.closing is not None:
                with contextlib.suppress(Exception):
                    await self.ws.close(self.closing[0], self.closing[1])
                return

    def url_of(self, attachment_id: str) -> str:
        now_s = self.node.clock.now_ms() // 1000
        return download_url(self.signer, self.base, attachment_id, now_s)

    def _archive_state(self, event: dict[str, Any]) -> list[dict[str, Any]] | None:
        """Follow the user's archive; `dialog.unarchived` before a message that revives one.

        The core announces that revival too, just after the message
        (`Archive.revive`); told already, this connection drops it (None)."""
        kind, cid = event["type"], str(event.get("dialog_id"))
        if kind == "dialog.archived":
            self.archived.add(cid)
        elif kind == "dialog.unarchived":
            if cid not in self.archived:
                return None
            self.archived.discard(cid)
        elif kind == "message.new" and cid in self.archived:
            self.archived.discard(cid)
            return [{"type": "dialog.unarchived", "dialog_id": cid}]
        return []

    async def handle(self, raw: str | bytes, watchers: Watchers) -> None:
        """Answer one client frame: MTChat's frames are JSON objects in text
        frames, so a binary frame is as malformed as bad JSON (typed, never
        a dropped connection)."""
        if isinstance(raw, bytes):
            self.send({"type": "error", "message": "Invalid message format"})
            return
        if len(raw) > MAX_FRAME:
            self.send({"type": "error", "message": "frame too large"})
            return
        try:
            msg = _decode(raw)
        except (msgspec.DecodeError, RecursionError):  # nested past msgspec's depth
            self.send({"type": "error", "message": "Invalid message format"})
            return
        kind = msg.get("type")
        if kind == "ping":
            await self.node.heartbeats.ping(self.id)
            self.node.wake_heartbeats()  # a lapsed connection is watched again
            self.send({"type": "pong"})
        elif kind in ("subscribe", "unsubscribe"):
            cid = msg.get("dialog_id")
            if not isinstance(cid, str) or len(cid) > 64:
                self.send({"type": "error", "message": "dialog_id required"})
            elif kind == "unsubscribe":
                self.watching.discard(cid)
                watchers.remove(cid, self)
            else:
                await self._subscribe(cid, watchers)
        else:
            self.send({"type": "error", "message": "Invalid message format"})

    async def _subscribe(self, cid: str, watchers: Watchers) -> None:
        try:
            view = await self.node.dialogs.view(self.user_id, cid, self.scope)
        except HubbubError:
            self.send({"type": "error", "message": "dialog not found"})
            return
        if view.is_member or cid in self.watching:
            return  # its events come anyway
        if len(self.watching) >= MAX_WATCHED:
            self.send({"type": "error", "message": f"at most {MAX_WATCHED} subscriptions"})
            return
        self.watching.add(cid)
        watchers.add(cid, self)


async def mtchat_ws(ws: WebSocket) -> None:
    node: Node = ws.app.state.node
    watchers: Watchers = ws.app.state.mtchat_watchers
    q = ws.query_params
    if not origin_allowed(
        ws.headers.get("origin"), ws.headers.get("host"), node.settings.allowed_origins
    ):
        await ws.close(4403, "origin not allowed")
        return
    try:
        me = await authenticate(node, q.get("token"), q.get("user_id"))
        scope = parse_scope(q.get("scope_config") or ws.headers.get("x-scope-config"))
    except HubbubError as exc:
        await ws.close(4401 if exc.status == 401 else 4403, exc.message[:100])
        return
    await ws.accept()
    conn = MtConnection(node, ws, me, scope)
    try:
        conn.archived = await node.archive.archived_of(me.user_id)
    except Exception:
        log.warning("archive state unavailable")
    node.hub.add(conn)
    writer = asyncio.get_running_loop().create_task(conn.writer())
    # Spec 004: every connection of every protocol is a chat event.
    trace = ws.headers.get("traceparent")
    node.chat_events.connected(me.user_id, conn.id, "mtchat", trace)
    peer_close = 1005
    try:
        conn.send({"type": "connected", "employee_id": me.external_id})
        await node.heartbeats.open(conn.id, me.user_id)
        node.wake_heartbeats()
        while conn.closing is None:
            msg = await ws.receive()
            if msg["type"] == "websocket.disconnect":
                peer_close = int(msg.get("code") or 1005)
                break
            text: str | None = msg.get("text")
            await conn.handle(text if text is not None else msg.get("bytes") or b"", watchers)
    except WebSocketDisconnect as exc:
        peer_close = exc.code
    except RuntimeError:
        pass
    finally:
        forced = conn.closing is not None
        code, reason = conn.closing or (peer_close, "closed by the client")
        node.chat_events.disconnected(
            me.user_id, conn.id, "mtchat", trace, code=code, reason=reason, forced=forced
        )
        node.hub.remove(conn)
        for cid in conn.watching:
            watchers.remove(cid, conn)
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await writer
        try:
            await node.heartbeats.close(conn.id)
        except Exception:
            log.warning("presence update on close failed")
