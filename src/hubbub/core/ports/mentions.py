"""Mentions of users in messages, and their acknowledgements."""

from __future__ import annotations

from typing import Protocol

from hubbub.core.model import MessageRecord, NewEvent, StoredEvent

__all__ = ["MentionRow", "MentionStore"]

# (notification id, mentioned user id, event announcing it)
MentionRow = tuple[str, str, NewEvent]


class MentionStore(Protocol):
    async def append_with_mentions(
        self,
        record: MessageRecord,
        fields: dict[str, object],
        event: NewEvent,
        mentions: list[MentionRow],
        extra: list[NewEvent] | None = None,
    ) -> tuple[MessageRecord, list[StoredEvent]]:
        """Append a message, its mention notifications and `extra` conversation
        events in one transaction: [message event, *mentions, *extra].

        For a `client_message_id` already used: the earlier record and no events.
        """
        ...

    async def ack_mention(self, notification_id: str, user_id: str, now: int) -> bool | None:
        """Mark it acknowledged; None when it is not this user's (or does not exist),
        False when it was acknowledged already."""
        ...
