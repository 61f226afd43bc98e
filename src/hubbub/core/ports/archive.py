"""Conversations a user archived for themselves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from hubbub.core.model import NewEvent, StoredEvent

__all__ = ["Acked", "ArchiveStore"]

# The reply a request got, and the event it committed (None: nothing changed,
# or a retry of a request already answered).
Acked = tuple[dict[str, Any], StoredEvent | None]


class ArchiveStore(Protocol):
    async def set_archived(
        self,
        conversation_id: str,
        user_id: str,
        archived: bool,
        now: int,
        event: NewEvent,
        request_key: str | None,
        ack: Callable[[bool], dict[str, Any]],
    ) -> Acked:
        """Archive or unarchive, appending `event` if that changed anything.

        `ack(changed)` is the reply, kept under `request_key` in the same unit:
        a second call with that key returns it and writes nothing. A
        conversation is archived only until its next message."""
        ...

    async def archived_of(self, user_id: str) -> set[str]: ...
    async def conversations_with_archives(self, limit: int) -> list[str]:
        """Up to `limit` conversations someone has an archive row in (one read)."""
        ...

    async def has_archives(self, conversation_id: str) -> bool:
        """Whether anyone has an archive row for the conversation (cheap, indexed)."""
        ...

    async def revive(
        self, conversation_id: str, now: int, make: Callable[[str], NewEvent]
    ) -> list[StoredEvent]:
        """Drop archives a newer message has ended, appending `make(user_id)` for each."""
        ...

    async def inactive_dialog_members(self, cutoff: int, limit: int) -> list[tuple[str, str]]:
        """(dialog, member) pairs not archived, with no message since `cutoff`."""
        ...
