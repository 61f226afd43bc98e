"""Last seen: the durable half of presence (who is online lives in the registry)."""

from __future__ import annotations

from typing import Protocol

__all__ = ["LastSeenStore"]


class LastSeenStore(Protocol):
    async def touch_last_seen(self, user_id: str, now: int) -> None: ...
    async def last_seen_of(self, user_ids: list[str]) -> dict[str, int | None]: ...
