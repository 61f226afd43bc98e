"""Users' reports of messages and users, and their review by server admins."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from hubbub.core.model import NewEvent, StoredEvent

__all__ = ["Report", "ReportStore"]


@dataclass(frozen=True, slots=True)
class Report:
    """One report. For a message report, `target_user_id` is its sender and
    `conversation_id`, `message_kind`, `content_type`, `content` the snapshot
    taken when it was reported (`content` None for end-to-end encrypted ones);
    for a user report, `target_user_id` is `target_id`."""

    id: str
    reporter_id: str
    client_request_id: str | None
    report_type: str
    target_id: str
    reason: str
    details: str | None
    client_timestamp: str | None
    received_at: int
    status: str
    updated_at: int
    note: str | None = None
    handled_by: str | None = None
    target_user_id: str | None = None
    conversation_id: str | None = None
    message_kind: str | None = None
    content_type: str | None = None
    content: str | None = None


class ReportStore(Protocol):
    async def add_report(self, report: Report, max_open: int) -> Report | None:
        """Store `report`; the caller's earlier one if its `client_request_id` was
        used already (nothing written); None when the reporter already has
        `max_open` reports still open or under review (nothing written)."""
        ...

    async def report_by_request(
        self, reporter_id: str, client_request_id: str
    ) -> Report | None: ...

    async def get_report(self, report_id: str) -> Report | None: ...

    async def list_reports(self, status: str | None, after: str | None, limit: int) -> list[Report]:
        """Reports by id (oldest first), past `after`, of `status` if given."""
        ...

    async def set_status(
        self,
        report_id: str,
        status: str,
        allowed_from: frozenset[str],
        note: str | None,
        by: str,
        now: int,
        event: NewEvent,
    ) -> tuple[Report, StoredEvent | None] | None:
        """Move the report to `status` if its current status is in `allowed_from`,
        appending `event` in the same unit; None if it does not exist; the report
        and no event when it already has `status` (nothing written). Raises
        `Conflict` when the current status does not allow it."""
        ...
