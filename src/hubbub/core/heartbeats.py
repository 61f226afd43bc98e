"""Presence that lapses: online while a connection keeps pinging.

Spec 003's clients ping every 30 s and a user is online for 60 s after their
last ping (`--mtchat-presence-ttl-s`). A connection that stops pinging but
stays open stops counting as its user's presence; its next ping brings it
back. Each connection is one "connection" of `core/presence.py`, so what
everyone else sees (and the cluster-wide registry, and `/ws` clients'
`PresenceStatusUpdated`) follows from that one place::

    open --> Presence.connected          ping (lapsed) --> Presence.connected
    sweep: now - last ping >= ttl --> Presence.disconnected (once)
    close (not lapsed) --> Presence.disconnected

Time comes from the injected clock; `sweep` is called by the node's timer
(`due_in_ms` says when) and directly by tests.
"""

from __future__ import annotations

from dataclasses import dataclass

from hubbub.clock import Clock
from hubbub.core.presence import Presence

__all__ = ["Heartbeats"]


@dataclass(slots=True)
class _Beat:
    user_id: str
    last_ms: int
    live: bool = True


class Heartbeats:
    def __init__(self, presence: Presence, clock: Clock, ttl_ms: int) -> None:
        self.presence = presence
        self.clock = clock
        self.ttl_ms = ttl_ms
        self._beats: dict[str, _Beat] = {}

    async def open(self, conn_id: str, user_id: str) -> list[dict[str, object]]:
        """A connection opened: its user is online; the presence of their contacts."""
        self._beats[conn_id] = _Beat(user_id, self.clock.now_ms())
        return await self.presence.connected(user_id)

    async def ping(self, conn_id: str) -> None:
        beat = self._beats.get(conn_id)
        if beat is None:
            return
        beat.last_ms = self.clock.now_ms()
        if not beat.live:
            beat.live = True
            await self.presence.connected(beat.user_id)

    async def sweep(self) -> list[str]:
        """Lapse the connections whose last ping is a TTL old; their users."""
        now, lapsed = self.clock.now_ms(), []
        for beat in list(self._beats.values()):
            if beat.live and now - beat.last_ms >= self.ttl_ms:
                beat.live = False
                lapsed.append(beat.user_id)
                await self.presence.disconnected(beat.user_id)
        return lapsed

    async def close(self, conn_id: str) -> None:
        beat = self._beats.pop(conn_id, None)
        if beat is not None and beat.live:
            await self.presence.disconnected(beat.user_id)

    def due_in_ms(self) -> int | None:
        """Until the next connection lapses (None: none to watch)."""
        live = [b.last_ms for b in self._beats.values() if b.live]
        if not live:
            return None
        return max(0, min(live) + self.ttl_ms - self.clock.now_ms())
