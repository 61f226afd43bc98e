"""Chat events without NATS: handed to in-process subscribers.

    sub = node.chat_events_sink.subscribe()   # a bounded queue of ChatEvent
    event = await sub.get()

A subscriber that does not keep up loses its oldest events (counted in
`dropped`); publishing never waits for one.

While nobody is subscribed, `consumed()` is False and the relay
(core/chatevents.py) moves its cursor past committed messages without
reading them back or building their events: an in-process event nobody
holds a queue for is lost anyway, and a server without NATS pays nothing
for spec 004. A subscriber therefore gets `personalChatSent` for every
message committed after it subscribed, and possibly for some committed
shortly before (those the relay had not yet skipped, at most about one
idle interval's worth); never for older ones. Connection and rate-limit
events are emitted live and reach only the subscribers of that moment.
With subscribers, the relay's cursor works as with NATS: after a restart
the events of messages committed but not yet relayed are handed out again
to whoever subscribed by then.
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

    def consumed(self) -> bool:
        return bool(self.subscribers)

    async def publish(self, events: Sequence[ChatEvent]) -> None:
        for ev in events:
            self.emit(ev)

    def emit(self, event: ChatEvent) -> None:
        self.published += 1
        for sub in list(self.subscribers):
            sub.offer(event)

    async def close(self) -> None:
        self.subscribers.clear()
