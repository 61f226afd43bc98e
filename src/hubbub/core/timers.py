"""Durable timers: self-destructing messages expire, polls close, across restarts.

Timers are rows written in the same transaction as what they belong to (a
message, a poll); each kind has a handler (`register`), and `expire` is
built in. The worker
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
from collections.abc import Awaitable, Callable

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
        # kind -> claims and acts on one due timer; True when it fired.
        self.handlers: dict[str, Callable[[str], Awaitable[bool]]] = {}

    def register(self, kind: str, handler: Callable[[str], Awaitable[bool]]) -> None:
        self.handlers[kind] = handler

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
        for kind, ref in await self.store.due_timers(now, 200):
            if kind == "expire":
                done = await self._expire(ref, now)
            else:
                handler = self.handlers.get(kind)
                done = await handler(ref) if handler is not None else False
            fired += done
        self.fired += fired
        return fired

    async def _expire(self, message_id: str, now: int) -> bool:
        result = await self.store.expire_message(message_id, now, _expired_event(now))
        if result is None:
            return False
        rec, stored = result
        audience = await self.conversations.audience(rec.conversation_id)
        await self.publisher.event(stored, audience)
        return True

    async def _run(self) -> None:
        while True:
            fired = 0
            try:
                fired = await self.run_once()
                nxt = await self.store.next_timer()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("timer pass failed")
                nxt = None
            delay = self.poll_s
            if nxt is not None and (fired or nxt > self.clock.now_ms()):
                # A pass that fired nothing while timers are overdue (a kind no
                # handler claims here) waits a full poll instead of spinning.
                delay = max(0.0, min(delay, (nxt - self.clock.now_ms()) / 1000))
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
