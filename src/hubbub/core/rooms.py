"""The public room of spec 001: one conversation anyone may join by name.

The room is a real conversation (kind `room`) in the core: its messages go
through `Messages.send_text`, so they are in the event stream (durable,
ordered, fanned out to every node like any group message) and the chat-event
relay sees them. Everyone who ever joined is a member; `room_users` maps the
client's own `id` (the *handle*) to that member id.

Identity. Spec 001 has no authentication: the handle is the identity, and a
client reconnecting with the same handle is the same user (it takes its
name back, and it is not refused for its own online connection). An
optional hubbub token binds the handle to the account: the member id is the
account's id, only that account may use the handle afterwards, and its
username is reserved (refused to anyone else even while it is offline). A
name is otherwise taken only while another handle holding it is online
anywhere in the cluster. Names compare casefolded (`Alice` = `alice`).

Presence in the room is separate from hubbub presence: one key per member
in the `PresenceRegistry` (`room:<user id>`), counted per connection like
`core/presence.py`, so `userData` is right across nodes and a dead node's
users age out.

Addressing. Every room connection is in the hub under one key, the room's
`listener_key`; the room's messages (`Conversations.audience`) and
`userStatus` go to that key, not to one recipient per member, so a message
costs the same on the bus however many people ever joined. Anonymous members
have the role `guest` and are reached only that way; members who are
accounts are also addressed by id, for their other devices (`/ws`).

Files. A `file` message's bytes are a blob of purpose `room`, served at
`/chat/files/{id}` to whoever has the URL. The room keeps a file while one
of the messages it shows a joiner (its last `--simplechat-history`
undeleted messages) carries it; once its message fell out of that history
or was deleted, and the file is older than `ORPHAN_AFTER_MS`, the
collector (`collect_files`, run by every node) deletes it. Every node must
therefore run with the same `--simplechat-history`.

Joins are serialised on a node (a name is checked and claimed under one
lock); two nodes can still both grant one name in the moment between the
check and the registry write (docs/simplechat.md).
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass

import msgspec

from hubbub.clock import Clock
from hubbub.core.blobs import ORPHAN_AFTER_MS, BlobPolicy, Blobs, check_blob_id
from hubbub.core.context import Caller
from hubbub.core.conversations import Conversations
from hubbub.core.messages import Messages
from hubbub.core.ports import BlobRefStore, PresenceRegistry, RoomStore
from hubbub.core.ports.rooms import JoinOutcome, RoomUser
from hubbub.core.publisher import Publisher
from hubbub.errors import Conflict, Unauthorized, ValidationFailed
from hubbub.ids import new_id

__all__ = ["STATUS_CHANNEL", "STATUS_TYPE", "RoomPolicy", "Rooms"]

log = logging.getLogger("hubbub.rooms")

ROOM_KEY = "room:public"
ROOM_NAME = "public"
STATUS_CHANNEL = "room/status"
STATUS_TYPE = "RoomUserStatus"
MAX_TEXT = 1000
TOUCH_EVERY_MS = 60_000
FILE_URL = "/chat/files/"
SCAN_PAGE = 500
_HANDLE = re.compile(r"^[a-zA-Z0-9-]{1,64}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class RoomPolicy:
    history: int
    user_list_limit: int
    files: BlobPolicy


@dataclass(frozen=True, slots=True)
class Joined:
    """A connection's place in the room."""

    user: RoomUser
    room_id: str


def _taken(message: str) -> Conflict:
    return Conflict(message, code="username_taken")


def check_username(username: str, path: str = "$.username") -> str:
    if not 3 <= len(username) <= 20:
        raise ValidationFailed("must be 3..20 characters", path=path)
    if _CONTROL.search(username) or not username.strip():
        raise ValidationFailed("must not hold control characters or be blank", path=path)
    return username


def check_handle(handle: str, path: str = "$.id") -> str:
    if not _HANDLE.match(handle):
        raise ValidationFailed("must match ^[a-zA-Z0-9-]+$ (at most 64 characters)", path=path)
    return handle


class Rooms:
    def __init__(
        self,
        store: RoomStore,
        messages: Messages,
        blobs: Blobs,
        refs: BlobRefStore,
        conversations: Conversations,
        publisher: Publisher,
        registry: PresenceRegistry,
        clock: Clock,
        policy: RoomPolicy,
    ) -> None:
        self.store = store
        self.messages = messages
        self.blobs = blobs
        self.refs = refs
        self.conversations = conversations
        self.publisher = publisher
        self.registry = registry
        self.clock = clock
        self.policy = policy
        self._room: str | None = None
        self._local: dict[str, int] = {}  # member id -> its connections on this node
        self._lock = asyncio.Lock()
        self._touched: dict[str, int] = {}

    async def start(self) -> None:
        await self.room_id()

    async def room_id(self) -> str:
        """The room's conversation (created on first use), whose events are
        addressed to its listener key (`Conversations.audience`)."""
        if self._room is None:
            rid = await self.store.ensure_room(ROOM_KEY, ROOM_NAME, new_id(), self.clock.now_ms())
            self.conversations.listeners[rid] = self.listener_key(rid)
            self._room = rid
        return self._room

    @staticmethod
    def listener_key(room_id: str) -> str:
        """The hub key under which every room connection hears room-wide notices."""
        return f"#room:{room_id}"

    @staticmethod
    def _presence_key(user_id: str) -> str:
        return f"room:{user_id}"

    async def _online_anywhere(self, user_id: str) -> bool:
        if self._local.get(user_id, 0) > 0:
            return True
        try:
            return await self.registry.is_online(self._presence_key(user_id))
        except Exception:  # registry unreachable: what this node knows
            log.warning("presence registry unavailable")
            return False

    async def join(
        self, handle: str, username: str, account_id: str | None, conn_id: str
    ) -> Joined:
        """Take `username` as `handle`; the caller is online in the room from now on."""
        check_handle(handle)
        check_username(username)
        rid = await self.room_id()
        async with self._lock:
            for other in await self.store.named(rid, username.casefold()):
                if other.handle == handle:
                    continue
                if other.account_bound and other.user_id != account_id:
                    raise _taken(f"username {username!r} belongs to an account")
                if await self._online_anywhere(other.user_id):
                    raise _taken(f"username {username!r} is in use")
            now = self.clock.now_ms()
            outcome, user = await self.store.join_room(
                rid, handle, account_id or new_id(), username, account_id is not None, now
            )
            if outcome is JoinOutcome.HANDLE_BOUND:
                if account_id is None:
                    raise Unauthorized("this id belongs to an account: send its token")
                raise ValidationFailed("this id is in use: choose another", path="$.id")
            if outcome is JoinOutcome.ACCOUNT_ELSEWHERE:
                assert user is not None
                raise ValidationFailed(
                    f"this account is in the room as id {user.handle!r}", path="$.id"
                )
            assert user is not None
            if outcome is JoinOutcome.JOINED:
                # A new member: this node must know at once (its first message may
                # follow), the others through the bus.
                self.conversations.invalidate([rid])
                await self.publisher.invalidate([rid])
            first_here = self._local.get(user.user_id, 0) == 0
            announce = first_here and not await self._online_anywhere(user.user_id)
            self._local[user.user_id] = self._local.get(user.user_id, 0) + 1
            try:
                await self.registry.online(self._presence_key(user.user_id))
            except Exception:
                log.warning("presence registry unavailable")
        if announce:
            await self._status(rid, user, True, conn_id)
        return Joined(user, rid)

    async def leave(self, joined: Joined, conn_id: str) -> None:
        """One connection of the member closed."""
        uid = joined.user.user_id
        left = self._local.get(uid, 0) - 1
        try:
            await self.registry.offline(self._presence_key(uid))
        except Exception:
            log.warning("presence registry unavailable")
        if left > 0:
            self._local[uid] = left
            return
        self._local.pop(uid, None)
        self._touched.pop(uid, None)
        await self.store.touch(joined.room_id, uid, self.clock.now_ms())
        if not await self._online_anywhere(uid):
            await self._status(joined.room_id, joined.user, False, conn_id)

    async def _status(self, rid: str, user: RoomUser, online: bool, conn_id: str) -> None:
        data: dict[str, object] = {
            "room_id": rid,
            "handle": user.handle,
            "username": user.username,
            "online": online,
        }
        await self.publisher.ephemeral(
            STATUS_CHANNEL, STATUS_TYPE, data, [self.listener_key(rid)], skip_conn=conn_id
        )

    async def user_list(self, joined: Joined) -> list[dict[str, object]]:
        """Everyone who has been in the room (the most recently active first,
        at most `user_list_limit`), with whether they are online anywhere."""
        users = await self.store.room_users(joined.room_id, self.policy.user_list_limit)
        ids = {u.user_id for u in users}
        here = {u for u in ids if self._local.get(u, 0) > 0}
        try:
            keys = {self._presence_key(u): u for u in ids - here}
            online = here | {keys[k] for k in await self.registry.online_among(keys)}
        except Exception:
            log.warning("presence registry unavailable")
            online = here
        return [
            {
                "id": u.handle,
                "username": u.username,
                "online": u.user_id in online,
                "lastActive": u.last_active,
            }
            for u in users
        ]

    async def history(self, joined: Joined) -> list[bytes]:
        """The event data of the room's most recent messages, oldest first."""
        return await self.store.recent_messages(joined.room_id, self.policy.history)

    def _caller(self, joined: Joined, session_id: str, trace_parent: str | None) -> Caller:
        # No conn_id: the sender gets its own message like everyone (spec 001).
        return Caller(
            joined.user.user_id,
            joined.user.handle,
            None,
            "",
            session_id=session_id,
            trace_parent=trace_parent,
        )

    async def _touch(self, joined: Joined) -> None:
        now = self.clock.now_ms()
        uid = joined.user.user_id
        if now - self._touched.get(uid, 0) >= TOUCH_EVERY_MS:
            self._touched[uid] = now
            await self.store.touch(joined.room_id, uid, now)

    def _sender(self, joined: Joined) -> dict[str, object]:
        return {"sender_name": joined.user.username, "sender_handle": joined.user.handle}

    async def send_text(
        self, joined: Joined, text: str, session_id: str, trace_parent: str | None = None
    ) -> str:
        if not 1 <= len(text) <= MAX_TEXT:
            raise ValidationFailed(f"must be 1..{MAX_TEXT} characters", path="$.text")
        if "\x00" in text:
            raise ValidationFailed("must not contain U+0000", path="$.text")
        res = await self.messages.send_text(
            self._caller(joined, session_id, trace_parent),
            joined.room_id,
            text,
            "text",
            None,
            False,
            None,
            extra=self._sender(joined),
        )
        await self._touch(joined)
        return str(res["message_id"])

    async def send_file(
        self,
        joined: Joined,
        name: str,
        mime: str,
        size: int,
        data_b64: str,
        session_id: str,
        trace_parent: str | None = None,
    ) -> str:
        meta = await self.blobs.upload(
            joined.user.user_id, self.policy.files, name, mime, size, data_b64
        )
        file = {
            "name": meta.name,
            "type": meta.mime,
            "size": meta.size,
            "url": FILE_URL + meta.id,
        }
        res = await self.messages.send_text(
            self._caller(joined, session_id, trace_parent),
            joined.room_id,
            meta.name,
            "file",
            None,
            False,
            None,
            extra={**self._sender(joined), "file": file},
        )
        await self._touch(joined)
        return str(res["message_id"])

    async def shown_files(self) -> set[str]:
        """Blob ids of the files the room's kept history carries."""
        rid = await self.room_id()
        shown: set[str] = set()
        for data in await self.store.recent_messages(rid, self.policy.history):
            file = msgspec.json.decode(data).get("file")
            url = file.get("url") if isinstance(file, dict) else None
            if isinstance(url, str) and url.startswith(FILE_URL):
                shown.add(url[len(FILE_URL) :])
        return shown

    async def collect_files(self, limit: int = 1000) -> int:
        """Delete room files no message of the kept history carries any more
        (fallen out of it, deleted, or never sent); how many went.

        Safe on every node at once: deleting an absent blob is a no-op."""
        shown = await self.shown_files()
        before = self.clock.now_ms() - ORPHAN_AFTER_MS
        purpose = self.policy.files.purpose
        after, gone = "", 0
        while gone < limit:
            page = await self.refs.created_before(purpose, before, after, SCAN_PAGE)
            for blob_id in page:
                if blob_id not in shown and check_blob_id(blob_id) and gone < limit:
                    await self.blobs.delete(blob_id)
                    gone += 1
            if len(page) < SCAN_PAGE:
                break
            after = page[-1]
        return gone
