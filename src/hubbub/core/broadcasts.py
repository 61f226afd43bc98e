"""Broadcasts: announcements to everyone or a segment, and named channels.

    POST /v1/broadcasts                    (server admins)  -> broadcast/messages
    POST /v1/broadcast-channels/{id}/messages  (publishers) -> broadcast/{id}

Storage: a broadcast is ONE event (scope `b`, target = its audience), never
one per recipient. The audience is `all`, `seg:admins` (active server admins),
`seg:<name>` (a segment: a user list admins keep) or `ch:<channel id>`; the
feed includes an event for every user, for admins or the segment's members
(both read when the feed is read), or for the channel's subscribers after
the position at which they subscribed, and leaves out a broadcast whose
`expires_at` has passed.

Live delivery is one bus notification whatever the audience's size: `all`
goes to the hub-wide key `EVERYONE` (every `/ws` connection of this node is
registered under it, `realtime/hub.py`), a segment or channel to its user
ids. It happens right after the commit, when `expires_at` is still ahead.

Subscriptions (`Subscribe` on `broadcast/{channel_id}`) belong to the user,
not the connection: every device of a subscriber gets the channel live, and
the feed (SyncRequest) holds what was published after subscribing, until
`Unsubscribe`. Priority is a label carried to clients, not an order.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from hubbub.clock import Clock, iso, parse_iso
from hubbub.core.admin import require_admin
from hubbub.core.context import Caller
from hubbub.core.frames import event
from hubbub.core.model import StoredEvent
from hubbub.core.ports import AccountStore, BroadcastStore
from hubbub.core.ports.broadcasts import BroadcastChannel, BroadcastRecord
from hubbub.core.publisher import Publisher
from hubbub.errors import Forbidden, NotFound, ValidationFailed
from hubbub.ids import plausible_id

__all__ = ["EVERYONE", "PRIORITIES", "SEGMENTS", "Broadcasts"]

EVERYONE = "*"  # the hub's key for every /ws connection
PRIORITIES = ("low", "normal", "high", "urgent")
SEGMENTS = ("all", "admins")
MAX_TITLE = 200
MAX_CONTENT = 10_000
MAX_PAYLOAD = 16_384  # bytes of JSON
MAX_CLIENT_ID = 128
MAX_LIFETIME_MS = 366 * 24 * 3600_000
CHANNEL_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
MAX_STATUS = 32


def _audience_of(segment: str) -> str:
    return "all" if segment == "all" else f"seg:{segment}"


def _text(value: str, field: str, limit: int) -> str:
    value = value.strip()
    if not value or len(value) > limit:
        raise ValidationFailed(f"must be 1-{limit} characters", path=f"$.{field}")
    return value


class Broadcasts:
    def __init__(
        self,
        store: BroadcastStore,
        accounts: AccountStore,
        publisher: Publisher,
        clock: Clock,
    ) -> None:
        self.store = store
        self.accounts = accounts
        self.publisher = publisher
        self.clock = clock

    # -- validation shared by both kinds -------------------------------------------

    def _expiry(self, expires_at: str | None) -> int | None:
        if expires_at is None:
            return None
        try:
            due = parse_iso(expires_at)
        except ValueError:
            raise ValidationFailed("not an RFC 3339 time", path="$.expires_at") from None
        now = self.clock.now_ms()
        if not now < due <= now + MAX_LIFETIME_MS:
            raise ValidationFailed("must be in the future and within a year", path="$.expires_at")
        return due

    @staticmethod
    def _check_common(priority: str, client_request_id: str | None) -> None:
        if priority not in PRIORITIES:
            raise ValidationFailed(f"one of {', '.join(PRIORITIES)}", path="$.priority")
        if client_request_id is not None and not 1 <= len(client_request_id) <= MAX_CLIENT_ID:
            raise ValidationFailed(
                f"must be 1-{MAX_CLIENT_ID} characters", path="$.client_request_id"
            )

    @staticmethod
    def channel_id_ok(channel_id: str) -> bool:
        return CHANNEL_ID.fullmatch(channel_id) is not None

    async def _is_admin(self, caller: Caller) -> bool:
        try:
            await require_admin(self.accounts, caller)
        except Forbidden:
            return False
        return True

    # -- publishing ----------------------------------------------------------------

    async def announce(
        self,
        caller: Caller,
        *,
        title: str,
        content: str,
        priority: str = "normal",
        segment: str = "all",
        expires_at: str | None = None,
        client_request_id: str | None = None,
    ) -> dict[str, Any]:
        """An announcement on `broadcast/messages`; server admins only."""
        await require_admin(self.accounts, caller)
        title = _text(title, "title", MAX_TITLE)
        content = _text(content, "content", MAX_CONTENT)
        self._check_common(priority, client_request_id)
        if segment not in SEGMENTS and not (
            self.channel_id_ok(segment) and await self.store.segment_members(segment)
        ):
            raise ValidationFailed("all, admins, or a segment that has members", path="$.segment")
        due = self._expiry(expires_at)
        now = self.clock.now_ms()

        def make(bid: str) -> Any:
            return event(
                "b",
                _audience_of(segment),
                "broadcast/messages",
                "BroadcastMessageReceived",
                {
                    "message_id": bid,
                    "sender_id": caller.user_id,
                    "title": title,
                    "content": content,
                    "priority": priority,
                    "timestamp": iso(now),
                    "expires_at": iso(due) if due is not None else None,
                    "segment": segment,
                },
            )

        rec, stored = await self.store.publish(
            caller.user_id, client_request_id, _audience_of(segment), due, now, make
        )
        await self._push(stored, due)
        return self._result(rec)

    async def publish(
        self,
        caller: Caller,
        channel_id: str,
        *,
        title: str,
        payload: dict[str, Any],
        priority: str = "normal",
        expires_at: str | None = None,
        client_request_id: str | None = None,
    ) -> dict[str, Any]:
        """A message on `broadcast/{channel_id}`: its publishers, or an admin."""
        if not self.channel_id_ok(channel_id):
            raise NotFound("broadcast channel not found")
        if not await self._is_admin(caller):
            # A stranger learns nothing about which channels exist.
            if not await self.store.is_publisher(channel_id, caller.user_id):
                raise Forbidden("only this channel's publishers")
        if await self.store.get_channel(channel_id) is None:
            raise NotFound("broadcast channel not found")
        title = _text(title, "title", MAX_TITLE)
        if len(msgspec.json.encode(payload)) > MAX_PAYLOAD:
            raise ValidationFailed(f"at most {MAX_PAYLOAD} bytes of JSON", path="$.payload")
        self._check_common(priority, client_request_id)
        due = self._expiry(expires_at)
        now = self.clock.now_ms()
        audience = f"ch:{channel_id}"

        def make(bid: str) -> Any:
            return event(
                "b",
                audience,
                f"broadcast/{channel_id}",
                "BroadcastMessage",
                {
                    "message_id": bid,
                    "channel_id": channel_id,
                    "title": title,
                    "payload": payload,
                    "timestamp": iso(now),
                    "priority": priority,
                    "sender_id": caller.user_id,
                    "expires_at": iso(due) if due is not None else None,
                },
            )

        rec, stored = await self.store.publish(
            caller.user_id, client_request_id, audience, due, now, make
        )
        await self._push(stored, due)
        return self._result(rec)

    async def _push(self, stored: StoredEvent | None, due: int | None) -> None:
        """Live delivery of a new broadcast, unless it is a retry or expired already."""
        if stored is None or (due is not None and self.clock.now_ms() >= due):
            return
        await self.publisher.event(stored, await self.recipients(stored.target))

    @staticmethod
    def _result(rec: BroadcastRecord) -> dict[str, Any]:
        data = msgspec.json.decode(rec.reply)
        return {"message_id": rec.id, "seq": rec.pos, "timestamp": data["timestamp"]}

    async def recipients(self, audience: str) -> list[str]:
        """Who a broadcast's live notification names: one key for everyone."""
        if audience == "all":
            return [EVERYONE]
        if audience == "seg:admins":
            return await self.store.active_admins()
        if audience.startswith("seg:"):
            return await self.store.segment_members(audience[4:])
        if audience.startswith("ch:"):
            return await self.store.subscribers(audience[3:])
        return []

    async def recipients_of(self, ev: StoredEvent) -> list[str]:
        """The dispatcher's, for a broadcast read back from the stream (its
        notification was late or lost): nobody once it has expired."""
        rec = await self.store.broadcast_at(ev.pos)
        if rec is None or (rec.expires_at is not None and self.clock.now_ms() >= rec.expires_at):
            return []
        return await self.recipients(ev.target)

    # -- channels and publishers (admins) ----------------------------------------------

    async def put_channel(
        self, caller: Caller, channel_id: str, title: str
    ) -> tuple[bool, BroadcastChannel]:
        """Create (True) or retitle a channel; server admins only."""
        await require_admin(self.accounts, caller)
        if not self.channel_id_ok(channel_id):
            raise ValidationFailed(
                "1-32 of a-z, 0-9, '_' and '-', starting with a letter or digit",
                path="$.path.channel_id",
            )
        title = _text(title, "title", MAX_TITLE)
        created = await self.store.put_channel(
            channel_id, title, caller.user_id, self.clock.now_ms()
        )
        return created, await self._channel(channel_id)

    async def list_channels(self, caller: Caller) -> list[BroadcastChannel]:
        """Any signed-in user may see which channels exist, to subscribe."""
        del caller
        return await self.store.list_channels()

    async def subscribed(self, caller: Caller) -> set[str]:
        """The channels the caller is subscribed to (a device learns what another one chose)."""
        return set(await self.store.subscriptions_of(caller.user_id))

    async def set_publisher(
        self, caller: Caller, channel_id: str, user_id: str, allowed: bool
    ) -> None:
        await require_admin(self.accounts, caller)
        if not self.channel_id_ok(channel_id) or await self.store.get_channel(channel_id) is None:
            raise NotFound("broadcast channel not found")
        user = await self.accounts.get_user(user_id) if plausible_id(user_id) else None
        if user is None:
            raise NotFound("user not found")
        await self.store.set_publisher(
            channel_id, user.id, caller.user_id, self.clock.now_ms(), allowed
        )

    # -- segments (admins) --------------------------------------------------------------

    def _segment_name(self, segment: str) -> str:
        if segment in SEGMENTS or not self.channel_id_ok(segment):
            raise ValidationFailed(
                "1-32 of a-z, 0-9, '_' and '-', other than all and admins",
                path="$.path.segment",
            )
        return segment

    async def set_segment_member(
        self, caller: Caller, segment: str, user_id: str, member: bool
    ) -> None:
        """Add a user to a segment (made by its first member) or take one out.
        Membership is read when a feed is read: a member added later also finds
        the segment's earlier (unexpired) broadcasts, one taken out no longer does."""
        await require_admin(self.accounts, caller)
        segment = self._segment_name(segment)
        user = await self.accounts.get_user(user_id) if plausible_id(user_id) else None
        if user is None:
            raise NotFound("user not found")
        await self.store.set_segment_member(
            segment, user.id, caller.user_id, self.clock.now_ms(), member
        )

    async def segment_members(self, caller: Caller, segment: str) -> list[str]:
        await require_admin(self.accounts, caller)
        return await self.store.segment_members(self._segment_name(segment))

    # -- subscribers (/ws) -----------------------------------------------------------

    async def _channel(self, channel_id: str) -> BroadcastChannel:
        found = await self.store.get_channel(channel_id) if self.channel_id_ok(channel_id) else None
        if found is None:
            raise NotFound("broadcast channel not found")
        return found

    async def subscribe(self, caller: Caller, channel_id: str) -> int:
        await self._channel(channel_id)
        return await self.store.subscribe(channel_id, caller.user_id, self.clock.now_ms())

    async def unsubscribe(self, caller: Caller, channel_id: str) -> None:
        await self._channel(channel_id)
        await self.store.unsubscribe(channel_id, caller.user_id)

    async def acknowledge(
        self, caller: Caller, message_id: str, received_at: str | None, status: str | None
    ) -> bool:
        """Recorded once per user, for a broadcast the user is entitled to."""
        rec = await self.store.get_broadcast(message_id) if plausible_id(message_id) else None
        if rec is None or not await self._entitled(caller, rec):
            raise NotFound("broadcast not found")
        at = None
        if received_at is not None:
            try:
                at = parse_iso(received_at)
            except ValueError:
                raise ValidationFailed("not an RFC 3339 time", path="$.data.received_at") from None
        if status is not None and not 1 <= len(status) <= MAX_STATUS:
            raise ValidationFailed(f"must be 1-{MAX_STATUS} characters", path="$.data.status")
        return await self.store.acknowledge(rec.id, caller.user_id, status, at, self.clock.now_ms())

    async def _entitled(self, caller: Caller, rec: BroadcastRecord) -> bool:
        if rec.audience == "all":
            return True
        if rec.audience == "seg:admins":
            return await self._is_admin(caller)
        if rec.audience.startswith("seg:"):
            return await self.store.in_segment(rec.audience[4:], caller.user_id)
        if rec.audience.startswith("ch:"):
            since = await self.store.subscription(rec.audience[3:], caller.user_id)
            return since is not None and rec.pos > since
        return False
