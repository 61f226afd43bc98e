"""A conversation's shared background."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from hubbub.core.model import NewEvent
from hubbub.core.ports.archive import Acked

__all__ = ["Background", "ChatBackgroundStore"]


@dataclass(frozen=True, slots=True)
class Background:
    background_id: str
    background_type: str
    value: str


class ChatBackgroundStore(Protocol):
    async def set_background(
        self,
        conversation_id: str,
        user_id: str,
        background: Background,
        now: int,
        event: NewEvent,
        request_key: str | None,
        ack: Callable[[str], dict[str, Any]],
    ) -> Acked:
        """Store `background` for the conversation, appending `event` if it changed.

        `ack(status)` (`"applied"` or `"unchanged"`) is the reply, kept under
        `request_key` for `user_id` in the same unit: a retry returns it and
        writes nothing."""
        ...

    async def background_of(self, conversation_id: str) -> Background | None: ...
