"""Online/offline presence and last seen.

Presence is state, not history: it is pushed live (no `seq`) to the people
who share a conversation with the user (minus a block either way, see
`core/blocks.py`), and a connecting client is sent the current presence of
its contacts. Who is online comes from a
`PresenceRegistry`: connection counts on a single node, a NATS KV bucket with
a TTL in a cluster (so the users of a node that dies turn offline by
themselves). A user is announced online when their first connection on this
node opens while no other node had them, and offline when their last
connection closes while no other node has them; `last_seen_at` is stored then.

Besides online and offline, a connected user may say they are `away` or
`busy` (spec 002's `presence:update`; `set_status`). That is a statement, not
a connection count: it is announced to the same people, through the same
`PresenceStatusUpdated`, and not kept (the next connect or disconnect
announces online or offline again).

Every fact leaving here is cut by the user's visibility setting
(`core/presence_settings.py`): announcements go only to the contacts it
allows, and a contact it hides is shown in a snapshot as never online
(`offline`, no `last_seen_at`). A change of the setting is applied at once:
those who lose sight are sent that same never-online state, those who gain
it the current one.
"""

from __future__ import annotations

import logging

from hubbub.clock import Clock, iso
from hubbub.core.context import Caller
from hubbub.core.ports import Contacts, LastSeenStore, PresenceRegistry, PresenceVisibility
from hubbub.core.presence_settings import DEFAULT, PresenceSettings, applied, data_of
from hubbub.core.publisher import Publisher
from hubbub.errors import ValidationFailed

__all__ = ["STATUSES", "Presence"]

STATUSES = ("online", "away", "busy", "offline")

CHANNEL = "user/presence"
TYPE = "PresenceStatusUpdated"

log = logging.getLogger("hubbub.presence")


class Presence:
    def __init__(
        self,
        store: LastSeenStore,
        contacts: Contacts,
        publisher: Publisher,
        clock: Clock,
        registry: PresenceRegistry,
        settings: PresenceSettings,
    ) -> None:
        self.settings = settings
        self.store = store
        self.contacts = contacts
        self.publisher = publisher
        self.clock = clock
        self.registry = registry
        self._local: dict[str, int] = {}

    async def _online_anywhere(self, user_id: str) -> bool:
        if self._local.get(user_id, 0) > 0:
            return True
        try:
            return await self.registry.is_online(user_id)
        except Exception:  # registry unreachable: report what this node knows
            log.warning("presence registry unavailable")
            return False

    async def _online_among(self, user_ids: set[str]) -> set[str]:
        here = {u for u in user_ids if self._local.get(u, 0) > 0}
        try:
            return here | await self.registry.online_among(user_ids - here)
        except Exception:  # registry unreachable: report what this node knows
            log.warning("presence registry unavailable")
            return here

    async def online_among(self, user_ids: set[str]) -> set[str]:
        """Which of `user_ids` are connected anywhere (any protocol)."""
        return await self._online_among(user_ids)

    async def visible_online_among(self, viewer: str, user_ids: set[str]) -> set[str]:
        """Which of `user_ids` `viewer` may see connected (their settings applied)."""
        online = await self._online_among(user_ids)
        return online & await self.settings.visible_among(viewer, online)

    def _data(
        self,
        user_id: str,
        status: str,
        last_seen: int | None,
        setting: PresenceVisibility = DEFAULT,
    ) -> dict[str, object]:
        return {
            "user_id": user_id,
            "status": status,
            "last_seen_at": iso(last_seen) if last_seen is not None else None,
            "visibility_applied": applied(setting),
            "timestamp": iso(self.clock.now_ms()),
        }

    async def _announce(
        self, user_id: str, status: str, last_seen: int | None, contacts: set[str] | None = None
    ) -> None:
        setting = await self.settings.of(user_id)
        if contacts is None:
            contacts = await self.contacts.contacts_of(user_id)
        audience = await self.settings.audience(user_id, contacts, setting)
        if audience:
            data = self._data(user_id, status, last_seen, setting)
            await self.publisher.ephemeral(CHANNEL, TYPE, data, audience)

    async def connected(self, user_id: str) -> list[dict[str, object]]:
        """Mark online; returns the presence of the user's contacts for them."""
        first_here = self._local.get(user_id, 0) == 0
        was_online = first_here and await self.registry.is_online(user_id)
        self._local[user_id] = self._local.get(user_id, 0) + 1
        await self.registry.online(user_id)
        contacts = await self.contacts.contacts_of(user_id)
        if first_here and not was_online:
            await self._announce(user_id, "online", self.clock.now_ms(), contacts)
        # One registry call and a few queries for all contacts: a big group
        # connecting at once must not cost one round trip per member each.
        settings, visible = await self.settings.sight(user_id, contacts)
        online = await self._online_among(visible)
        now = self.clock.now_ms()
        snapshot = [self._data(cid, "online", now, settings[cid]) for cid in sorted(online)]
        offline = sorted(visible - online)
        seen = await self.store.last_seen_of(offline) if offline else {}
        # Hidden contacts are listed among the offline ones, in the same order,
        # so not even their place in the snapshot sets them apart.
        for cid in sorted(contacts - online):
            snapshot.append(self._data(cid, "offline", seen.get(cid), settings[cid]))
        return snapshot

    async def disconnected(self, user_id: str) -> None:
        left = self._local.get(user_id, 0) - 1
        await self.registry.offline(user_id)
        if left > 0:
            self._local[user_id] = left
            return
        self._local.pop(user_id, None)
        now = self.clock.now_ms()
        await self.store.touch_last_seen(user_id, now)
        if await self._online_anywhere(user_id):
            return  # still connected on another node
        await self._announce(user_id, "offline", now)

    async def set_status(self, caller: Caller, status: str) -> str:
        """Announce the caller's chosen status to everyone who shares a conversation."""
        if status not in STATUSES:
            raise ValidationFailed(f"must be one of {', '.join(STATUSES)}", path="$.data.status")
        now = self.clock.now_ms()
        await self._announce(caller.user_id, status, now if status == "offline" else None)
        return iso(now)

    async def update_visibility(
        self,
        caller: Caller,
        visibility: str,
        allowed_user_ids: list[str] | None,
        blocked_user_ids: list[str] | None,
    ) -> tuple[dict[str, object], bool]:
        """Change who sees the caller's presence, effective at once (see the module
        doc); the setting now stored, and whether this call changed it."""
        me = caller.user_id
        before, after, stored = await self.settings.update(
            caller, visibility, allowed_user_ids, blocked_user_ids
        )
        data = data_of(me, after)
        if stored is None:
            return data, False  # the same setting again: nothing stored, nobody told
        await self.publisher.event(stored, [me], skip_conn=caller.conn_id)
        contacts = await self.contacts.contacts_of(me)
        saw = await self.settings.audience(me, contacts, before)
        sees = await self.settings.audience(me, contacts, after)
        if saw - sees:
            gone = self._data(me, "offline", None, after)
            await self.publisher.ephemeral(CHANNEL, TYPE, gone, saw - sees)
        if sees - saw:
            if await self._online_anywhere(me):
                now: int | None = self.clock.now_ms()
                status = "online"
            else:
                now = (await self.store.last_seen_of([me])).get(me)
                status = "offline"
            await self.publisher.ephemeral(
                CHANNEL, TYPE, self._data(me, status, now, after), sees - saw
            )
        return data, True
