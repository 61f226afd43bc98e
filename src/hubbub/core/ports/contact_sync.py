"""Reads and writes behind contact sync: who holds a number or an address,
and the answer each sync got."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["Candidate", "ContactSyncStore", "SyncRecord"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A user the caller may discover, with what they registered (for the
    matching only: the phone and e-mail never leave the core)."""

    user_id: str
    username: str
    display_name: str
    phone: str | None
    email: str | None


@dataclass(frozen=True, slots=True)
class SyncRecord:
    """What one `StartContactSync` answered, kept for its retries."""

    sync_id: str
    device_id: str
    created_at: int
    processed: int
    matched: int
    failed: int
    matches: list[dict[str, Any]]
    received_count: int | None = None


class ContactSyncStore(Protocol):
    async def discoverable(
        self, caller_id: str, phones: list[str], emails: list[str]
    ) -> list[Candidate]:
        """Active users (neither deactivated nor awaiting deletion), other than
        the caller, never one who blocks the caller or opted out of
        discovery, whose phone is in
        `phones` or whose e-mail is in `emails` (both already normalised)."""
        ...

    async def find_sync(self, user_id: str, sync_id: str) -> SyncRecord | None: ...

    async def save_sync(self, user_id: str, record: SyncRecord, keep: int) -> SyncRecord:
        """Store the record unless one with its id exists, and drop the user's
        oldest beyond `keep`; the stored one (the first, on a race)."""
        ...

    async def set_received(self, user_id: str, sync_id: str, count: int) -> bool:
        """Record the client's received count; False if no such sync."""
        ...

    async def discoverability(self, user_id: str) -> tuple[bool, int | None]:
        """Whether the user may be found, and when they last said (None: never, the default)."""
        ...

    async def set_discoverable(self, user_id: str, discoverable: bool, now: int) -> None: ...
