"""The single-node bus: a notification goes straight to this node's hub.

Delivery is scheduled with `call_soon` rather than run inline, so a publisher
never runs other connections' send paths on its own stack.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

from hubbub.core.model import Notification

__all__ = ["InProcessBus", "LocalPresence"]


class InProcessBus:
    def __init__(self) -> None:
        self._deliver: Callable[[Notification], None] | None = None

    async def start(self, deliver: Callable[[Notification], None]) -> None:
        self._deliver = deliver

    async def publish(self, note: Notification) -> None:
        if self._deliver is not None:
            asyncio.get_running_loop().call_soon(self._deliver, note)

    async def close(self) -> None:
        self._deliver = None

    async def ping(self) -> None:
        return None


class LocalPresence:
    """Presence for a single node: connection counts per user."""

    def __init__(self) -> None:
        self._count: dict[str, int] = {}

    async def start(self) -> None:
        return None

    async def online(self, user_id: str) -> None:
        self._count[user_id] = self._count.get(user_id, 0) + 1

    async def offline(self, user_id: str) -> None:
        left = self._count.get(user_id, 0) - 1
        if left > 0:
            self._count[user_id] = left
        else:
            self._count.pop(user_id, None)

    async def is_online(self, user_id: str) -> bool:
        return user_id in self._count

    async def online_among(self, user_ids: Iterable[str]) -> set[str]:
        return {u for u in user_ids if u in self._count}

    async def refresh(self) -> None:
        return None

    async def close(self) -> None:
        self._count.clear()
