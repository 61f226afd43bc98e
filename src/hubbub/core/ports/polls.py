"""Polls, their votes, and closing them (by a person or their timer)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from hubbub.core.model import NewEvent, StoredEvent

__all__ = ["MakeCloseEvent", "MakeVoteEvents", "PollRecord", "PollStore"]


@dataclass(slots=True)
class PollRecord:
    id: str
    conversation_id: str
    creator_id: str
    question: str
    options: list[dict[str, str]]  # [{option_id, text}], in order
    multi_select: bool
    expires_at: int | None
    created_at: int
    closed_at: int | None = None
    closed_by: str | None = None
    counts: dict[str, int] = field(default_factory=dict)  # option id -> votes


# Events for the options whose counts changed (option id -> new count).
MakeVoteEvents = Callable[[PollRecord, dict[str, int]], list[NewEvent]]
MakeCloseEvent = Callable[[PollRecord], NewEvent]


class PollStore(Protocol):
    async def create_poll(self, poll: PollRecord, event: NewEvent) -> StoredEvent:
        """Store the poll and, if it expires, its durable close timer."""
        ...

    async def get_poll(self, poll_id: str) -> PollRecord | None:
        """The poll with its current vote counts."""
        ...

    async def vote(
        self,
        poll_id: str,
        user_id: str,
        option_ids: list[str],
        now: int,
        make_events: MakeVoteEvents,
    ) -> list[StoredEvent] | None:
        """Replace the user's choice. None if the poll is closed (or gone); [] if unchanged."""
        ...

    async def close_poll(
        self, poll_id: str, closed_by: str, now: int, make_event: MakeCloseEvent
    ) -> tuple[PollRecord, StoredEvent] | None:
        """Close it once (deleting its timer); None if it was closed already."""
        ...
