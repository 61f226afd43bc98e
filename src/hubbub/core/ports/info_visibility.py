"""Who may see each user's info text."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from hubbub.core.model import NewEvent
from hubbub.core.ports.archive import Acked
from hubbub.core.ports.presence_settings import PresenceVisibility

__all__ = ["InfoVisibilityStore"]


class InfoVisibilityStore(Protocol):
    async def info_visibility_of(self, user_ids: Iterable[str]) -> dict[str, PresenceVisibility]:
        """The stored settings among `user_ids`; a user missing has the default."""
        ...

    async def set_info_visibility(
        self,
        user_id: str,
        setting: PresenceVisibility,
        event: NewEvent,
        request_key: str | None,
        ack: Callable[[str], dict[str, Any]],
    ) -> Acked:
        """Store `setting`, appending `event` if it changed anything; `ack(status)`
        (`"updated"` or `"unchanged"`) is kept under `request_key`."""
        ...

    async def direct_peers_of(self, user_id: str) -> set[str]:
        """Who shares a direct conversation with the user (the `contacts` rule)."""
        ...
