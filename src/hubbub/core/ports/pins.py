"""Conversations a user pinned to the top of their own list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from hubbub.core.model import NewEvent
from hubbub.core.ports.archive import Acked

__all__ = ["PinStore"]


class PinStore(Protocol):
    async def set_pinned(
        self,
        conversation_id: str,
        user_id: str,
        pinned: bool,
        limit: int,
        now: int,
        event: NewEvent,
        request_key: str | None,
        ack: Callable[[str], dict[str, Any]],
    ) -> Acked:
        """Pin or unpin, appending `event` if that changed anything.

        `ack(status)` is the reply (`"pinned"`, `"unpinned"`, `"unchanged"` or
        `"limit"` when `limit` conversations are pinned already), kept under
        `request_key` in the same unit: a retry returns it and writes nothing."""
        ...

    async def pinned_of(self, user_id: str) -> set[str]:
        """The conversations the user pinned and is still a member of."""
        ...
