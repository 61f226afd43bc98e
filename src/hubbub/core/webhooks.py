"""Webhooks: committed events told to another system over HTTP, durably.

    state + its event --one transaction--> events table (the outbox)
    WebhookRelay: cursor (relay_cursors) -> render -> POST, retried -> cursor moves

The outbox is the event stream itself: an event is written in the same
transaction as the state it announces (`insert_event`), so there is no
second row to forget. The relay reads the stream after its own durable
cursor, turns the events its protocol has a webhook for into deliveries
(`render`; everything else is passed over) and moves the cursor past an
event only once the receiver took it. So a node killed mid-delivery loses
nothing: at restart, or on another node when the lease (`LEASE_MS`) runs
out, delivery resumes at the cursor. One node delivers at a time (the
lease), in stream order. A delivery that fails (network, timeout, 5xx, 408,
429) is retried after `retry_ms`, doubling up to `MAX_BACKOFF_MS`, for as
long as it takes, the lease renewed meanwhile; a 4xx other than those is
the receiver refusing this payload and is given up (logged), as MTChat
does. That is at-least-once: a delivery whose answer was lost is sent
again with the same id, which receivers dedupe on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from hubbub.clock import Clock
from hubbub.core.model import StoredEvent
from hubbub.core.ports.chatevents import RelayStore
from hubbub.core.ports.events import EventStream
from hubbub.core.ports.webhooks import Delivery, WebhookTransport

__all__ = ["BATCH", "LEASE_MS", "MAX_BACKOFF_MS", "Delivery", "WebhookRelay"]

log = logging.getLogger("hubbub.webhooks")

LEASE_MS = 30_000
BATCH = 200  # events read per step
MAX_BACKOFF_MS = 60_000


class WebhookRelay:
    def __init__(
        self,
        name: str,
        store: RelayStore,
        events: EventStream,
        render: Callable[[StoredEvent], Awaitable[Delivery | None]],
        transport: WebhookTransport,
        clock: Clock,
        owner: str,
        *,
        retry_ms: int = 1000,
        idle_s: float = 0.5,
        lease_ms: int = LEASE_MS,
    ) -> None:
        self.name = name
        self.store = store
        self.events = events
        self.render = render
        self.transport = transport
        self.clock = clock
        self.owner = owner
        self.retry_ms = max(1, retry_ms)
        self.idle_s = idle_s
        self.lease_ms = lease_ms
        self.delivered = 0
        self.given_up = 0
        self.attempts = 0
        self._cursor: int | None = None  # while this node holds the lease
        self._renew_at = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Something committed on this node: look now rather than at the next poll."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
            with contextlib.suppress(Exception):
                await self.store.release(self.name, self.owner)
        await self.transport.aclose()

    async def _idle(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    async def _run(self) -> None:
        while True:
            try:
                moved = await self.step()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("webhook relay failed; retrying", exc_info=True)
                self._cursor = None
                await asyncio.sleep(1.0)
                continue
            if moved is None:  # another node delivers: check its lease now and then
                await self._idle(self.lease_ms / 3000)
            elif not moved:
                await self._idle(self.idle_s)

    async def _renew(self, pos: int) -> bool:
        now = self.clock.now_ms()
        if not await self.store.advance(self.name, self.owner, pos, now, self.lease_ms):
            log.warning("webhook relay lost its lease")
            self._cursor = None
            return False
        self._cursor = pos
        self._renew_at = now + self.lease_ms // 2
        return True

    async def step(self) -> bool | None:
        """One batch: None if another node holds the lease, else whether it moved."""
        now = self.clock.now_ms()
        if self._cursor is None or now >= self._renew_at:
            cursor = await self.store.claim(self.name, self.owner, now, self.lease_ms)
            self._cursor = cursor
            if cursor is None:
                return None
            self._renew_at = now + self.lease_ms // 2
        cursor = self._cursor
        assert cursor is not None
        head = await self.store.head()
        if head <= cursor:
            return False
        upto = min(head, cursor + BATCH)
        for ev in await self.events.events_between(cursor, upto + 1):
            delivery = await self.render(ev)
            if delivery is None:
                continue
            if not await self._deliver(delivery, cursor) or not await self._renew(ev.pos):
                return None
            cursor = ev.pos
        return True if await self._renew(upto) else None

    def _permanent(self, status: int) -> bool:
        return 400 <= status < 500 and status not in (408, 429)

    async def _deliver(self, d: Delivery, cursor: int) -> bool:
        """Until the receiver takes it (or refuses it for good); False if the lease went."""
        delay = self.retry_ms
        while True:
            self.attempts += 1
            try:
                status: int | None = await self.transport.post(d)
            except Exception:
                status = None
            if status is not None and 200 <= status < 300:
                self.delivered += 1
                return True
            if status is not None and self._permanent(status):
                self.given_up += 1
                log.warning("webhook refused, not retried", extra={"status": status})
                return True
            await asyncio.sleep(delay / 1000)
            delay = min(delay * 2, MAX_BACKOFF_MS)
            if not await self._renew(cursor):
                return False
