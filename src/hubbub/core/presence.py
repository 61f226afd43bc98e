"""Online/offline presence and last seen.

Presence is state, not history: it is pushed live (no `seq`) to the people
who share a conversation with the user, and a connecting client is sent the
current presence of its contacts. `last_seen_at` is stored when the user's
last connection on this node closes.

This node counts connections per user; cluster-wide presence (a user online
on any node, expiring when a node dies) belongs to the cluster bus.
"""

from __future__ import annotations

from hubbub.clock import Clock, iso
from hubbub.core.ports import Store
from hubbub.core.publisher import Publisher

__all__ = ["Presence"]

CHANNEL = "user/presence"
TYPE = "PresenceStatusUpdated"


class Presence:
    def __init__(self, store: Store, publisher: Publisher, clock: Clock) -> None:
        self.store = store
        self.publisher = publisher
        self.clock = clock
        self._online: dict[str, int] = {}

    def is_online(self, user_id: str) -> bool:
        return self._online.get(user_id, 0) > 0

    def _data(self, user_id: str, status: str, last_seen: int | None) -> dict[str, object]:
        now = self.clock.now_ms()
        return {
            "user_id": user_id,
            "status": status,
            "last_seen_at": iso(last_seen) if last_seen is not None else None,
            "visibility_applied": "everyone",
            "timestamp": iso(now),
        }

    async def connected(self, user_id: str) -> list[dict[str, object]]:
        """Mark online; returns the presence of the user's contacts for them."""
        self._online[user_id] = self._online.get(user_id, 0) + 1
        contacts = await self.store.contacts_of(user_id)
        if self._online[user_id] == 1:
            now = self.clock.now_ms()
            await self.publisher.ephemeral(
                CHANNEL, TYPE, self._data(user_id, "online", now), contacts
            )
        snapshot = []
        for cid in sorted(contacts):
            if self.is_online(cid):
                snapshot.append(self._data(cid, "online", self.clock.now_ms()))
            else:
                user = await self.store.get_user(cid)
                snapshot.append(self._data(cid, "offline", user.last_seen_at if user else None))
        return snapshot

    async def disconnected(self, user_id: str) -> None:
        left = self._online.get(user_id, 0) - 1
        if left > 0:
            self._online[user_id] = left
            return
        self._online.pop(user_id, None)
        now = self.clock.now_ms()
        await self.store.touch_last_seen(user_id, now)
        contacts = await self.store.contacts_of(user_id)
        await self.publisher.ephemeral(CHANNEL, TYPE, self._data(user_id, "offline", now), contacts)
