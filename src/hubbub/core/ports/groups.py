"""Group conversations: creation (idempotent on the client's request id) and leaving."""

from __future__ import annotations

from typing import Protocol

from hubbub.core.model import Conversation, NewEvent, StoredEvent

__all__ = ["GroupStore"]


class GroupStore(Protocol):
    async def create_group(
        self,
        conversation_id: str,
        name: str,
        creator_id: str,
        member_ids: list[str],
        client_request_id: str | None,
        now: int,
        event: NewEvent,
    ) -> tuple[Conversation, StoredEvent | None]: ...
    async def find_group_by_request(
        self, creator_id: str, client_request_id: str
    ) -> str | None: ...
    async def leave_group(
        self, conversation_id: str, user_id: str, event: NewEvent
    ) -> StoredEvent | None: ...
