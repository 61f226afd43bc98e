"""Profile fields a user sets about themselves."""

from __future__ import annotations

from typing import Protocol

from hubbub.core.model import NewEvent, StoredEvent

__all__ = ["ProfileStore"]


class ProfileStore(Protocol):
    async def update_info_text(
        self, user_id: str, info_text: str, now: int, event: NewEvent
    ) -> StoredEvent: ...
