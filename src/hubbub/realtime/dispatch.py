"""Delivers stream events to this node's connections in `seq` order, gap-free.

Notifications are hints; the database is the truth. Each durable event's
notification carries its `pos`. Commits are ordered cluster-wide (see
`store/sql/writer.py`), so when a node receives pos P while it has delivered
only up to U < P - 1, the positions in between are either committed events
whose notification is late (another node's, or a reordered local one) or was
lost (its node died between commit and publish), or numbers a rolled-back
batch burned. Either way the node reads `(U, P)` from the database, delivers
what it finds in order, then P; a late notification for a position already
delivered is dropped. So a client never sees seq N+1 live before N, and
resuming from the highest seq it saw cannot skip anything.

    bus --note--> on_note --(in order, nothing pending)--> hub.deliver
                       \\--(gap or busy)--> backlog --> fill from DB --> hub

A notification lost with its node is noticed when a later one arrives. When
none does (the cluster went quiet), a watcher looks at the stream's head once
per idle second and delivers what was committed but never announced.

An event read back from the database has lost its notification's
`skip_conn` (the sending connection, which got a reply instead of a copy).
The publishing node is told each local event's `skip_conn` before it is
published (`remember_skip`), so a fill on that node, the only one where the
sender's connection can be, still skips it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable

from hubbub.core.frames import encode, frame_of
from hubbub.core.model import Notification, StoredEvent
from hubbub.core.ports import Contacts, EventStream
from hubbub.realtime.hub import Hub

__all__ = ["Dispatcher"]

log = logging.getLogger("hubbub.dispatch")

MAX_FILL = 10_000  # beyond this, clients are told to resync instead
MAX_SKIPS = 4096  # remembered skip_conn of recent local events


class Dispatcher:
    def __init__(
        self,
        hub: Hub,
        events: EventStream,
        contacts: Contacts,
        members: Callable[[str], Awaitable[list[str]]],
        broadcast_audience: Callable[[StoredEvent], Awaitable[list[str]]] | None = None,
    ) -> None:
        self.hub = hub
        self.events = events
        self.contacts = contacts
        self.members = members  # a conversation's audience (Conversations.audience)
        self.broadcast_audience = broadcast_audience  # Broadcasts.recipients_of
        # An info-text update read back reaches only the contacts its owner's
        # setting allows, as when it was published (InfoVisibility.audience).
        self.info_audience: Callable[[str, set[str]], Awaitable[set[str]]] | None = None
        self.upto = 0
        self._backlog: deque[Notification] = deque()
        self._worker: asyncio.Task[None] | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._skips: OrderedDict[int, str] = OrderedDict()
        self.filled = 0

    def remember_skip(self, pos: int, conn_id: str) -> None:
        """The event at `pos`, published from this node, must not reach `conn_id`."""
        if pos > self.upto:
            self._skips[pos] = conn_id
            while len(self._skips) > MAX_SKIPS:
                self._skips.popitem(last=False)

    async def start(self, idle_check_s: float = 1.0) -> None:
        self.upto = await self.events.max_pos()
        self._watcher = asyncio.get_running_loop().create_task(self._watch(idle_check_s))

    async def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None

    async def _watch(self, interval: float) -> None:
        seen = self.upto
        while True:
            await asyncio.sleep(interval)
            if self.upto == seen and self._worker is None:  # nothing delivered lately
                try:
                    head = await self.events.max_pos()
                except Exception:
                    log.warning("dispatch idle check failed")
                    head = self.upto
                if head > self.upto and self._worker is None:
                    self._worker = asyncio.get_running_loop().create_task(self._drain(head))
            seen = self.upto

    async def _drain(self, head: int = 0) -> None:
        """Deliver what is committed up to `head` (announced or not), then the backlog."""
        try:
            if head > self.upto:
                await self._fill(head + 1)
            await self._drain_backlog()
        except Exception:
            log.exception("dispatch fill failed; clients will resync")
            self.hub.kick_all(1012, "reconnect and resume with SyncRequest")
            self._backlog.clear()
        finally:
            self._worker = None

    def on_note(self, note: Notification) -> None:
        pos = note.pos
        if pos is None or (pos == self.upto + 1 and self._worker is None):
            self.hub.deliver(note)
            if pos is not None:
                self.upto = pos
                if self._skips:
                    self._skips.pop(pos, None)
            return
        if note.invalidate or note.revoke_token is not None:
            # Control parts act at once; only the frame waits for its turn.
            self.hub.deliver(
                Notification(invalidate=note.invalidate, revoke_token=note.revoke_token)
            )
        if pos <= self.upto:
            return  # already delivered (fetched from the database)
        self._backlog.append(
            Notification(note.frame, note.recipients, note.skip_conn, [], None, pos)
        )
        if self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(self._drain())

    async def _drain_backlog(self) -> None:
        while self._backlog:
            note = self._backlog.popleft()
            assert note.pos is not None
            if note.pos <= self.upto:
                continue
            if note.pos > self.upto + 1:
                await self._fill(note.pos)
            self.hub.deliver(note)
            self.upto = note.pos
            self._skips.pop(note.pos, None)

    async def _fill(self, before: int) -> None:
        if before - self.upto > MAX_FILL:
            self.hub.kick_all(1012, "reconnect and resume with SyncRequest")
            self.upto = before - 1
            return
        for ev in await self.events.events_between(self.upto, before):
            recipients = await self._recipients(ev)
            skip = self._skips.pop(ev.pos, None)
            self.hub.deliver(Notification(encode(frame_of(ev)), recipients, skip, pos=ev.pos))
            self.upto = ev.pos
            self.filled += 1

    async def _recipients(self, ev: StoredEvent) -> list[str]:
        if ev.scope == "u":
            return [ev.target]
        if ev.scope == "c":
            return list(await self.members(ev.target))
        if ev.scope == "b":
            return await self.broadcast_audience(ev) if self.broadcast_audience else []
        contacts = await self.contacts.contacts_of(ev.target)
        if ev.channel == "profile/info-text" and self.info_audience is not None:
            contacts = await self.info_audience(ev.target, contacts)
        return [ev.target, *contacts]
