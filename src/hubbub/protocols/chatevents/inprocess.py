"""Chat events without NATS: handed to in-process subscribers.

    sub = node.chat_events_sink.subscribe()   # a bounded queue of ChatEvent
    event = await sub.get()

A subscriber that does not keep up loses its oldest events (counted in
`dropped`); publishing never waits for one. Durability does not depend on
subscribers: the relay's cursor (core/chatevents.py) is the same with or
without NATS, so after a restart the events of messages committed but not
yet relayed are handed out again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from hubbub.core.ports.chatevents import ChatEvent

__all__ = ["InProcessChatEvents", "Subscription"]


class Subscription:
    def __init__(self, owner: InProcessChatEvents, limit: int) -> None:
        self.owner = owner
        self.queue: asyncio.Queue[ChatEvent] = asyncio.Queue(limit)
        self.dropped = 0

    def offer(self, ev: ChatEvent) -> None:
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(ev)

    async def get(self) -> ChatEvent:
        return await self.queue.get()

    def close(self) -> None:
        self.owner.subscribers.discard(self)


class InProcessChatEvents:
    """`core.ports.ChatEventSink` for a single node without NATS."""

    def __init__(self) -> None:
        self.subscribers: set[Subscription] = set()
        self.published = 0

    def subscribe(self, limit: int = 10_000) -> Subscription:
        sub = Subscription(self, limit)
        self.subscribers.add(sub)
        return sub

    async def start(self) -> None:
        return None

    async def publish(self, events: Sequence[ChatEvent]) -> None:
        for ev in events:
            self.emit(ev)

    def emit(self, event: ChatEvent) -> None:
        self.published += 1
        for sub in list(self.subscribers):
            sub.offer(event)

    async def close(self) -> None:
        self.subscribers.clear()
