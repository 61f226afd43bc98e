"""Symbia conversations: the core conversation plus its details, and its participants."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from hubbub.core.model import AccountKind, NewEvent, StoredEvent

__all__ = ["ConversationDetailStore", "ConversationRow", "ParticipantRow", "Scoping"]


@dataclass(slots=True)
class Scoping:
    """The scope headers a row was written under (stored with it, for audit)."""

    org_id: str | None = None
    service_id: str | None = None
    env: str | None = None
    data_class: str = "none"
    policy_ref: str | None = None


@dataclass(slots=True)
class ConversationRow:
    id: str
    type: str  # private | group
    name: str | None
    description: str | None
    created_by: str
    created_at: int
    updated_at: int
    metadata: str  # JSON object
    scoping: Scoping = field(default_factory=Scoping)


@dataclass(slots=True)
class ParticipantRow:
    conversation_id: str
    user_id: str
    role: str
    joined_at: int
    kind: AccountKind  # the account's (Symbia's user_type is derived from it)
    last_read_at: int | None


class ConversationDetailStore(Protocol):
    async def create(
        self, row: ConversationRow, members: list[tuple[str, str]], event: NewEvent
    ) -> StoredEvent: ...
    async def get(self, conversation_id: str) -> ConversationRow | None: ...
    async def list_for(self, user_id: str, org_id: str | None) -> list[ConversationRow]: ...
    async def participants(self, conversation_id: str) -> list[ParticipantRow]: ...
    async def update(
        self,
        conversation_id: str,
        name: str | None,
        description: str | None,
        metadata: str | None,
        now: int,
    ) -> bool: ...
    async def add_member(
        self, conversation_id: str, user_id: str, role: str, event: NewEvent
    ) -> StoredEvent | None:
        """None when already an active member (nothing changes)."""
        ...

    async def remove_member(
        self, conversation_id: str, user_id: str, event: NewEvent
    ) -> StoredEvent | None: ...
    async def set_role(
        self, conversation_id: str, user_id: str, role: str, event: NewEvent
    ) -> tuple[str | None, StoredEvent | None]:
        """The member's role before, and the event when it changed; the owner's never changes.

        (None, None): not an active member. (role, None): already `role`, or the owner.
        """
        ...

    async def delete(self, conversation_id: str, event: NewEvent) -> StoredEvent | None: ...
    async def admin_list(
        self, org_ids: list[str] | None, type_: str | None, limit: int, offset: int
    ) -> tuple[list[ConversationRow], int]:
        """`org_ids` None: every conversation; else those of these orgs only."""
        ...

    async def stats(self, org_ids: list[str] | None, since: int) -> dict[str, int]: ...
