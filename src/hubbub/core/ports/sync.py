"""Per-device sync cursors (how far each device confirmed its feed)."""

from __future__ import annotations

from typing import Protocol

__all__ = ["CursorStore"]


class CursorStore(Protocol):
    async def set_cursor(self, user_id: str, device_id: str, seq: int, now: int) -> None: ...
