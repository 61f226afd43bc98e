"""How far each member has read a conversation."""

from __future__ import annotations

from typing import Protocol

from hubbub.core.model import NewEvent, StoredEvent

__all__ = ["ReadStore"]


class ReadStore(Protocol):
    async def advance_read(
        self,
        conversation_id: str,
        user_id: str,
        message_id: str,
        message_pos: int,
        now: int,
        event: NewEvent,
    ) -> StoredEvent | None:
        """Move the position forward (None if it was already there or further)."""
        ...

    async def read_position(self, conversation_id: str, user_id: str) -> tuple[str, int] | None:
        """(message id, its stream position), or None if nothing was read yet."""
        ...
