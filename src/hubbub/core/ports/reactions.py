"""One reaction per user per message."""

from __future__ import annotations

from typing import Protocol

from hubbub.core.model import NewEvent, StoredEvent

__all__ = ["ReactionStore"]


class ReactionStore(Protocol):
    async def set_reaction(
        self,
        message_id: str,
        user_id: str,
        reaction: str | None,
        now: int,
        events: list[NewEvent],
    ) -> list[StoredEvent] | None:
        """Set (None: remove) the user's reaction and append `events` with it.

        None, and no event, when the reaction was already that (a retry).
        """
        ...

    async def reactions_of(self, message_id: str) -> dict[str, str]:
        """user id -> reaction."""
        ...
