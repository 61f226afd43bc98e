"""Notification previews: each user's stored config, and the previews they acknowledged."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from hubbub.core.model import NewEvent, StoredEvent

__all__ = ["NotificationPreviewStore", "PreviewConfig"]


@dataclass(frozen=True, slots=True)
class PreviewConfig:
    """A user's preview config; `version` 0 (and `updated_at` None) is the
    default nobody stored."""

    show_sender: bool
    show_body: bool
    max_body_length: int
    allowed_categories: tuple[str, ...]
    version: int = 0
    updated_at: int | None = None

    def same_as(self, other: PreviewConfig) -> bool:
        """Whether the two say the same (versions and times aside)."""
        return (
            self.show_sender,
            self.show_body,
            self.max_body_length,
            self.allowed_categories,
        ) == (other.show_sender, other.show_body, other.max_body_length, other.allowed_categories)


class NotificationPreviewStore(Protocol):
    async def configs_of(self, user_ids: Iterable[str]) -> dict[str, PreviewConfig]:
        """The stored configs among `user_ids`; a user missing has the default."""
        ...

    async def set_config(
        self,
        user_id: str,
        config: PreviewConfig,
        default: PreviewConfig,
        event_of: Callable[[PreviewConfig], NewEvent],
    ) -> tuple[PreviewConfig, StoredEvent | None]:
        """Store `config` under the next version and append `event_of(stored)` in
        one unit (the version is only known there); the config now stored, and
        the event, None when it already said the same (nothing written)."""
        ...

    async def can_preview(self, user_id: str, message_id: str) -> bool:
        """Whether `message_id` is a message someone else sent to a conversation
        `user_id` is an active member of (what a preview can be about)."""
        ...

    async def record_ack(
        self, user_id: str, preview_id: str, received_at: str | None, now: int
    ) -> bool:
        """Record an acknowledgement; True the first time for (user, preview)."""
        ...
