"""Live notification previews: built on the node where the subscriber is connected.

    hub tap --(a message to a subscribed user)--> queue --> build --> push

A `/ws` connection that sends `Subscribe` on `user/notifications/preview`
is registered here; every other connection never gets a preview, so
ordinary clients are not sent each message twice. The hub shows every frame
it delivers to `on_note` (a hub tap, like MTChat's watchers); with nobody
subscribed on this node that is one dict check, and otherwise one set
lookup per recipient before anything is decoded. So the message path adds
no work where nobody asked for previews, and never a database read per
delivery: each subscriber's config is read once when it subscribes and
then kept current from the `NotificationPreviewConfigUpdated` events, which
every node's hub sees in stream order (a change on another node included).
A conversation's kind and name and a sender's display name are looked up
once per `CACHE_MS` and kept, bounded.

Previews are live only: the message itself is durable and in the feed, so
a device that was away catches up with `SyncRequest`; replaying a pile of
stale previews after reconnecting would show notifications for what the
user may already have read (docs/protocol.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import msgspec

from hubbub.clock import Clock
from hubbub.core.frames import encode_frame
from hubbub.core.mentions import mentioned_names
from hubbub.core.model import Notification
from hubbub.core.notification_previews import (
    CONFIG_CHANNEL,
    CONFIG_TYPE,
    NotificationPreviews,
    PreviewSource,
    build,
    config_of_data,
)
from hubbub.core.ports import AccountStore, ConversationStore, PreviewConfig
from hubbub.realtime.hub import LiveConnection
from hubbub.realtime.outbox import Out

__all__ = ["CHANNEL", "LivePreviews"]

log = logging.getLogger("hubbub.previews")

CHANNEL = "user/notifications/preview"
TYPE = "NotificationPreviewReceived"
MESSAGE_TYPES = frozenset({"ChatMessageReceived", "EncryptedMessageReceived"})
MAX_QUEUE = 10_000  # messages waiting to be previewed; past it the oldest are dropped
MAX_CACHED = 10_000
CACHE_MS = 60_000


class _Head(msgspec.Struct):
    channel: str = ""
    type: str = ""
    data: msgspec.Raw = msgspec.Raw(b"null")


_head = msgspec.json.Decoder(_Head)
_data = msgspec.json.Decoder(dict[str, Any])


@dataclass
class _Subscriber:
    username: str = ""
    config: PreviewConfig | None = None  # None until read (or announced)
    conns: dict[str, LiveConnection] = field(default_factory=dict)


class LivePreviews:
    def __init__(
        self,
        previews: NotificationPreviews,
        conversations: ConversationStore,
        users: AccountStore,
        clock: Clock,
    ) -> None:
        self.previews = previews
        self.conversations = conversations
        self.users = users
        self.clock = clock
        self.subs: dict[str, _Subscriber] = {}
        self._queue: deque[tuple[dict[str, Any], bool, list[str]]] = deque()
        self._wake = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._convs: dict[str, tuple[int, str, str | None]] = {}  # id -> (until, kind, name)
        self._names: dict[str, tuple[int, str]] = {}  # user id -> (until, display name)
        self.built = 0
        self.dropped = 0

    # --- subscriptions ------------------------------------------------------

    async def subscribe(self, conn: LiveConnection) -> PreviewConfig:
        """Register `conn` for its user's previews; the config in force."""
        uid = conn.user_id
        sub = self.subs.setdefault(uid, _Subscriber())
        sub.conns[conn.id] = conn  # first: a change announced while reading is kept
        try:
            loaded = await self.previews.config(uid)
            if not sub.username:
                user = await self.users.get_user(uid)
                sub.username = user.username if user is not None else ""
        except BaseException:
            self.unsubscribe(conn)  # refused (storage down): not half subscribed
            raise
        if sub.config is None or loaded.version > sub.config.version:
            sub.config = loaded
        return sub.config

    def unsubscribe(self, conn: LiveConnection) -> None:
        """Forget `conn` (Unsubscribe, or its connection ended); idempotent."""
        sub = self.subs.get(conn.user_id)
        if sub is not None and sub.conns.pop(conn.id, None) is not None and not sub.conns:
            del self.subs[conn.user_id]

    # --- the hub tap -------------------------------------------------------

    def on_note(self, note: Notification) -> None:
        subs = self.subs
        if note.invalidate:
            for cid in note.invalidate:
                self._convs.pop(cid, None)
        if not subs or not note.frame:
            return
        hit = [u for u in note.recipients if u in subs]
        if not hit:
            return
        try:
            head = _head.decode(note.frame)
            if head.channel == "chat/messages" and head.type in MESSAGE_TYPES:
                encrypted = head.type == "EncryptedMessageReceived"
                self._enqueue(_data.decode(head.data), encrypted, hit)
            elif head.channel == CONFIG_CHANNEL and head.type == CONFIG_TYPE:
                self._config_changed(_data.decode(head.data), hit)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return

    def _config_changed(self, data: dict[str, Any], users: list[str]) -> None:
        cfg = config_of_data(data)
        if cfg is None:
            return
        for uid in users:
            sub = self.subs.get(uid)
            if sub is not None and (sub.config is None or cfg.version > sub.config.version):
                sub.config = cfg

    def _enqueue(self, data: dict[str, Any], encrypted: bool, users: list[str]) -> None:
        if len(self._queue) >= MAX_QUEUE:
            self._queue.popleft()
            self.dropped += 1
        self._queue.append((data, encrypted, users))
        self._wake.set()
        if self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None

    # --- building ------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                data, encrypted, users = self._queue.popleft()
                try:
                    await self._preview(data, encrypted, users)
                except Exception:
                    log.warning("notification preview failed", exc_info=True)

    async def _preview(self, data: dict[str, Any], encrypted: bool, users: list[str]) -> None:
        sender = data.get("sender_id")
        cid = data.get("conversation_id")
        mid = data.get("message_id")
        if not isinstance(sender, str) or not isinstance(cid, str) or not isinstance(mid, str):
            return
        if data.get("type") == "system":
            return  # who joined or left: not a message anyone wrote to the user
        targets = [u for u in users if u != sender and u in self.subs]
        if not targets:
            return
        conv = await self._conversation(cid)
        if conv is None:
            return
        content = data.get("content")
        text = content if isinstance(content, str) and not encrypted else None
        src = PreviewSource(
            message_id=mid,
            sender_id=sender,
            sender_name=await self._name(sender),
            conversation_kind=conv[0],
            conversation_name=conv[1],
            content=text,
            mentioned=frozenset(mentioned_names(text)) if text and "@" in text else frozenset(),
            timestamp=data.get("timestamp") if isinstance(data.get("timestamp"), str) else None,
        )
        now = self.clock.now_ms()
        for uid in targets:
            sub = self.subs.get(uid)
            if sub is None or sub.config is None:
                continue
            preview = build(sub.config, sub.username, src, now)
            if preview is None:
                continue
            out = Out(encode_frame(CHANNEL, TYPE, preview))
            for conn in list(sub.conns.values()):
                conn.push(out)
            self.built += 1

    async def _conversation(self, cid: str) -> tuple[str, str | None] | None:
        now = self.clock.now_ms()
        hit = self._convs.get(cid)
        if hit is not None and hit[0] > now:
            return hit[1], hit[2]
        conv = await self.conversations.get_conversation(cid)
        if conv is None:
            return None
        if len(self._convs) >= MAX_CACHED:
            self._convs.clear()
        self._convs[cid] = (now + CACHE_MS, conv.kind, conv.name)
        return conv.kind, conv.name

    async def _name(self, user_id: str) -> str:
        now = self.clock.now_ms()
        hit = self._names.get(user_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        user = await self.users.get_user(user_id)
        name = (user.display_name or user.username) if user is not None else "Someone"
        if len(self._names) >= MAX_CACHED:
            self._names.clear()
        self._names[user_id] = (now + CACHE_MS, name)
        return name
