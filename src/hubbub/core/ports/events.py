"""The event stream every area appends to, and the change feed read from it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from hubbub.core.model import NewEvent, StoredEvent

__all__ = ["EventStream"]


class EventStream(Protocol):
    async def append(self, events: Iterable[NewEvent]) -> list[StoredEvent]: ...
    async def feed(self, user_id: str, since: int, limit: int) -> list[StoredEvent]:
        """`user_id`'s change feed after `since`: their conversations' and own events."""
        ...

    async def max_pos(self) -> int: ...
    async def events_between(self, after: int, before: int) -> list[StoredEvent]: ...
    async def ping(self) -> None: ...
