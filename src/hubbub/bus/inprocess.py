"""The single-node bus: a notification goes straight to this node's hub.

Delivery is scheduled with `call_soon` rather than run inline, so a publisher
never runs other connections' send paths on its own stack.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from hubbub.core.model import Notification

__all__ = ["InProcessBus"]


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
