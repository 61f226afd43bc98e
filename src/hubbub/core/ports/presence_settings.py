"""Who may see a user's presence: the stored setting, and who shares a direct chat."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from hubbub.core.model import NewEvent, StoredEvent

__all__ = ["PresenceSettingStore", "PresenceVisibility"]


@dataclass(frozen=True, slots=True)
class PresenceVisibility:
    """A user's setting; `updated_at` None is the default nobody stored."""

    visibility: str
    allowed: tuple[str, ...] = ()
    blocked: tuple[str, ...] = ()
    updated_at: int | None = None


class PresenceSettingStore(Protocol):
    async def visibility_of(self, user_ids: Iterable[str]) -> dict[str, PresenceVisibility]:
        """The stored settings among `user_ids`; a user missing has the default."""
        ...

    async def set_visibility(
        self, user_id: str, setting: PresenceVisibility, event: NewEvent
    ) -> StoredEvent | None:
        """Store `setting` and append `event` in one unit; None (nothing
        written) when the stored setting already says the same."""
        ...

    async def direct_peers_of(self, user_id: str) -> set[str]:
        """Who shares a direct conversation with `user_id` (blocks not applied)."""
        ...
