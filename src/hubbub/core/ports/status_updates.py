"""Status updates: statuses, their audience's inputs, visibility settings and mutes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from hubbub.core.model import NewEvent, StoredEvent
from hubbub.core.ports.presence_settings import PresenceVisibility

__all__ = ["StatusRecord", "StatusStore", "StatusVisibilityStore"]


@dataclass(frozen=True, slots=True)
class StatusRecord:
    id: str
    author_id: str
    content_type: str
    content_url: str | None
    text: str | None
    created_at: int
    expires_at: int
    client_request_id: str | None = None


class StatusStore(Protocol):
    async def create_status(
        self,
        status: StatusRecord,
        max_live: int,
        timer_kind: str,
        events_of: Callable[[StatusRecord], list[NewEvent]],
    ) -> tuple[StatusRecord, list[StoredEvent]] | None:
        """Store `status` with its expiry timer and `events_of(status)` in one unit.

        A `client_request_id` the author used already answers the first status
        and no event; None when the author has `max_live` live statuses."""
        ...

    async def expire_status(self, status_id: str, timer_kind: str) -> bool:
        """Delete the status and its timer; False if it was gone already."""
        ...

    async def live_statuses(self, author_ids: Iterable[str], now: int) -> list[StatusRecord]:
        """The unexpired statuses of `author_ids`, oldest first."""
        ...

    async def live_with_url(self, content_url: str, now: int) -> list[StatusRecord]:
        """The unexpired statuses showing `content_url` (at most a few)."""
        ...

    async def contacts_of(self, user_id: str) -> set[str]:
        """Who shares a direct chat with `user_id`, neither blocking the other."""
        ...

    async def muters_of(self, contact_id: str, viewers: Iterable[str]) -> set[str]:
        """Those of `viewers` who mute `contact_id`'s statuses."""
        ...


class StatusVisibilityStore(Protocol):
    async def status_visibility_of(self, user_id: str) -> PresenceVisibility | None: ...

    async def set_status_visibility(
        self, user_id: str, setting: PresenceVisibility, request_id: str | None, ev: NewEvent
    ) -> tuple[int, StoredEvent | None]:
        """Store the setting, its request id and `ev` in one unit; (when the
        request was done, the event). A known `request_id` writes nothing and
        answers its first time; a setting equal to the stored one has no event."""
        ...

    async def request_done_at(self, user_id: str, kind: str, request_id: str) -> int | None: ...

    async def user_exists(self, user_id: str) -> bool:
        """An active account with that id."""
        ...

    async def set_mute(
        self,
        viewer_id: str,
        contact_id: str,
        muted: bool,
        request_id: str | None,
        now: int,
        ev: NewEvent,
        max_mutes: int,
    ) -> tuple[int, StoredEvent | None] | None:
        """Mute or unmute, like `set_status_visibility` for request ids and events;
        None (nothing written) when muting one more would pass `max_mutes`."""
        ...

    async def is_mute_event(self, user_id: str, pos: int) -> bool:
        """Whether stream position `pos` is a ContactStatusMuteChanged of `user_id`."""
        ...

    async def record_mute_ack(
        self, user_id: str, event_id: str, received_at: str | None, now: int
    ) -> bool:
        """Record a receipt; True the first time."""
        ...
