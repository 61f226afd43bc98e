"""Changing and deleting a stored message, and the versions an edit replaced."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from hubbub.core.model import NewEvent, StoredEvent

__all__ = ["EditStore", "Version"]


@dataclass(slots=True)
class Version:
    """A text the message held from `valid_from` until an edit replaced it at `replaced_at`."""

    content: str
    valid_from: int
    replaced_at: int


class EditStore(Protocol):
    async def edit_message(
        self, message_id: str, content: str, now: int, event: NewEvent
    ) -> StoredEvent | None:
        """New content (None if the message is gone); the replaced text is kept
        as a `Version`; the event commits with it."""
        ...

    async def delete_message(
        self, message_id: str, now: int, event: NewEvent
    ) -> StoredEvent | None:
        """Content and versions dropped, earlier events tombstoned (None if already gone)."""
        ...

    async def versions(self, message_id: str) -> list[Version]:
        """Earlier versions, oldest first."""
        ...
