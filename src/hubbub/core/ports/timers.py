"""Durable self-destruct timers: which are due, and claiming one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from hubbub.core.model import MessageRecord, NewEvent, StoredEvent

__all__ = ["ExpiryStore"]


class ExpiryStore(Protocol):
    async def expire_message(
        self, message_id: str, now: int, make_event: Callable[[MessageRecord], NewEvent]
    ) -> tuple[MessageRecord, StoredEvent] | None: ...
    async def due_expiries(self, now: int, limit: int) -> list[str]: ...
    async def next_expiry(self) -> int | None: ...
