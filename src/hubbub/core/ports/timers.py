"""Durable timers: which are due (every kind), and claiming a self-destruct one.

Other kinds are claimed by their own area's store (a poll's close timer by
`PollStore.close_poll`), inside the transaction that acts on them.
"""

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
    async def due_timers(self, now: int, limit: int) -> list[tuple[str, str]]:
        """(kind, ref) of every timer due by `now`, of every kind, soonest first."""
        ...

    async def next_timer(self) -> int | None:
        """When the soonest timer of any kind is due."""
        ...
