"""Conversations a user archived for themselves."""

from __future__ import annotations

from typing import Protocol

from hubbub.core.model import NewEvent, StoredEvent

__all__ = ["ArchiveStore"]


class ArchiveStore(Protocol):
    async def set_archived(
        self, conversation_id: str, user_id: str, archived: bool, now: int, event: NewEvent
    ) -> StoredEvent | None:
        """Archive or unarchive (None if it already was so). A conversation is
        archived only until its next message: no write is needed to bring it back."""
        ...

    async def archived_of(self, user_id: str) -> set[str]: ...
    async def inactive_dialog_members(self, cutoff: int, limit: int) -> list[tuple[str, str]]:
        """(dialog, member) pairs not archived, with no message since `cutoff`."""
        ...
