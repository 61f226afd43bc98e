"""Group events (calendar entries of a group), RSVPs and per-member reminders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from hubbub.core.model import NewEvent, StoredEvent

__all__ = ["EventWrite", "GroupEventRecord", "GroupEventStore", "ReminderDue"]


@dataclass(slots=True)
class GroupEventRecord:
    id: str
    group_id: str
    organizer_id: str
    title: str
    description: str | None
    start_time: int
    end_time: int | None
    location: str | None
    version: int
    created_at: int
    updated_at: int
    deleted_at: int | None = None


@dataclass(slots=True)
class EventWrite:
    """What a create, update or delete did: the reply, and the event to push."""

    reply: dict[str, Any]  # GroupEventAck's data, as first answered
    stored: StoredEvent | None  # None for a conflict or a retried request


@dataclass(slots=True)
class ReminderDue:
    user_id: str
    event: GroupEventRecord
    remind_at: int
    stored: StoredEvent


class GroupEventStore(Protocol):
    async def get_event(self, event_id: str) -> GroupEventRecord | None: ...
    async def request_result(self, user_id: str, key: str) -> dict[str, Any] | None:
        """The reply a request of `user_id` with this key got, if it was made."""
        ...

    async def write_event(
        self,
        user_id: str,
        request_key: str | None,
        record: GroupEventRecord,
        expected_version: int | None,
        delete_it: bool,
        make: Callable[[GroupEventRecord], tuple[dict[str, Any], NewEvent]],
    ) -> EventWrite:
        """Create (`expected_version` None), update or delete (`expected_version`
        must be the stored one) in one unit; `make` gives the reply and event
        of the written record. A conflict replies with `current_version`; a
        repeated `request_key` of `user_id` replies as the first time did."""
        ...

    async def set_rsvp(
        self, event_id: str, user_id: str, status: str, now: int, event: NewEvent
    ) -> StoredEvent | None:
        """None when the RSVP was already that, or the event is gone."""
        ...

    async def set_reminder(self, event_id: str, user_id: str, remind_at: int, now: int) -> bool:
        """Replace the user's reminder for the event (and its timer); False if gone."""
        ...

    async def fire_reminder(
        self, reminder_id: str, now: int, make: Callable[[str, GroupEventRecord, int], NewEvent]
    ) -> ReminderDue | None:
        """Claim a due reminder's timer and append its event; None if claimed
        already or its event was deleted."""
        ...
