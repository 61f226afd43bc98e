"""Durable timers: self-destructing messages expire even across restarts.

Timers are rows written in the same transaction as the message. The worker
sleeps until the earliest due time (woken early when a sooner timer is
scheduled, and polling at least every `poll_s` so timers written by other
nodes are seen), then expires what is due. Claiming is deleting the timer row
inside the expiry transaction, so a timer fires exactly once even when
several nodes race for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from hubbub.clock import Clock, iso
from hubbub.core.conversations import Conversations
from hubbub.core.frames import event
from hubbub.core.model import MessageRecord, NewEvent
from hubbub.core.ports import ExpiryStore
from hubbub.core.publisher import Publisher

__all__ = ["ExpiryWorker"]

log = logging.getLogger("hubbub.timers")


def _expired_event(now: int) -> Callable[[MessageRecord], NewEvent]:
    def make(rec: MessageRecord) -> NewEvent:
        return event(
            "c",
            rec.conversation_id,
            "chat/messages/expired",
            "ChatMessageExpired",
            {
                "message_id": rec.id,
                "conversation_id": rec.conversation_id,
                "expired_at": iso(now),
                "reason": "self_destruct",
            },
            rec.id,
        )

    return make


class ExpiryWorker:
    def __init__(
        self,
        store: ExpiryStore,
        conversations: Conversations,
        publisher: Publisher,
        clock: Clock,
        *,
        poll_s: float = 1.0,
    ) -> None:
        self.store = store
        self.conversations = conversations
        self.publisher = publisher
        self.clock = clock
        self.poll_s = poll_s
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.fired = 0

    def schedule_hint(self, due_ms: int) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="expiry-worker")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def run_once(self) -> int:
        now = self.clock.now_ms()
        fired = 0
        for mid in await self.store.due_expiries(now, 200):
            make = _expired_event(now)
            result = await self.store.expire_message(mid, now, make)
            if result is None:
                continue
            rec, stored = result
            audience = await self.conversations.audience(rec.conversation_id)
            await self.publisher.event(stored, audience)
            fired += 1
        self.fired += fired
        return fired

    async def _run(self) -> None:
        while True:
            try:
                await self.run_once()
                nxt = await self.store.next_expiry()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("expiry pass failed")
                nxt = None
            delay = self.poll_s
            if nxt is not None:
                delay = max(0.0, min(delay, (nxt - self.clock.now_ms()) / 1000))
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
