"""Changing and deleting a stored message."""

from __future__ import annotations

from typing import Protocol

from hubbub.core.model import NewEvent, StoredEvent

__all__ = ["EditStore"]


class EditStore(Protocol):
    async def edit_message(
        self, message_id: str, content: str, now: int, event: NewEvent
    ) -> StoredEvent | None:
        """New content (None if the message is gone); the event commits with it."""
        ...

    async def delete_message(
        self, message_id: str, now: int, event: NewEvent
    ) -> StoredEvent | None:
        """Content dropped, earlier events tombstoned (None if already gone)."""
        ...
