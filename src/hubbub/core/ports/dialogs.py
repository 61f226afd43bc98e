"""Conversations bound to business objects, their access scopes and profiles."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from hubbub.core.model import NewEvent, StoredEvent

__all__ = ["DialogRecord", "DialogStore", "Participant", "ScopeRule"]


@dataclass(slots=True)
class ScopeRule:
    """Who may see and join: any value of each non-empty level must match."""

    scope_level0: list[str] = field(default_factory=list)
    scope_level1: list[str] = field(default_factory=list)
    scope_level2: list[str] = field(default_factory=list)


@dataclass(slots=True)
class DialogRecord:
    conversation_id: str
    object_type: str
    object_id: str
    title: str | None
    object_url: str | None
    created_by: str | None
    meta: str | None  # JSON as given
    access_scopes: list[ScopeRule]
    created_at: int


@dataclass(slots=True)
class Participant:
    user_id: str
    display_name: str
    company: str | None = None
    email: str | None = None
    phone: str | None = None
    joined_as: str = "participant"
    joined_at: int = 0
    is_pinned: bool = False
    notifications_enabled: bool = True


class DialogStore(Protocol):
    async def create_dialog(
        self, dialog: DialogRecord, participants: list[Participant], creator: str | None
    ) -> None: ...
    async def get_dialog(self, conversation_id: str) -> DialogRecord | None: ...
    async def dialogs_of(self, user_id: str) -> list[DialogRecord]:
        """Dialogs `user_id` is an active participant of, newest first."""
        ...

    async def dialogs_without(
        self, user_id: str, limit: int, before: tuple[int, str] | None = None
    ) -> list[DialogRecord]:
        """Dialogs `user_id` does not take part in, newest first (scopes filtered by the
        core); `before` = (created_at, id) of the previous page's last row (keyset)."""
        ...

    async def dialogs_by_object(self, object_type: str, object_id: str) -> list[DialogRecord]: ...
    async def participants(self, conversation_id: str) -> list[Participant]: ...
    async def add_participant(
        self, conversation_id: str, participant: Participant, event: NewEvent
    ) -> StoredEvent | None:
        """Join (None if already in); the event commits with the membership."""
        ...

    async def remove_participant(
        self, conversation_id: str, user_id: str, event: NewEvent
    ) -> StoredEvent | None:
        """Leave (None if not in); the leaver's window closes at the event."""
        ...

    async def delete_dialog(self, conversation_id: str, event: NewEvent) -> StoredEvent | None:
        """Everyone out, content and files gone; None if there was no such dialog."""
        ...

    async def set_access_scopes(self, conversation_id: str, scopes: list[ScopeRule]) -> bool: ...
    async def set_preference(
        self, conversation_id: str, user_id: str, name: str, value: bool
    ) -> None: ...
