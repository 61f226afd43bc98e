"""Conversations, their members, and who shares one with whom."""

from __future__ import annotations

from typing import Protocol

from hubbub.core.model import Conversation, Member

__all__ = ["Contacts", "ConversationStore"]


class Contacts(Protocol):
    """Who may see a user's presence, keys and profile, and call them."""

    async def contacts_of(self, user_id: str) -> set[str]:
        """Who shares a conversation with `user_id`, minus a block either way."""
        ...


class ConversationStore(Contacts, Protocol):
    async def open_direct(
        self, conversation_id: str, a: str, b: str, now: int
    ) -> tuple[str, bool]: ...
    async def direct_between(self, a: str, b: str) -> str | None: ...
    async def direct_blockers(self, conversation_id: str) -> set[str] | None:
        """Members of a direct conversation who block the other; None if not direct."""
        ...

    async def get_conversation(self, conversation_id: str) -> Conversation | None: ...
    async def active_members(self, conversation_id: str) -> list[Member]: ...
    async def list_conversations(self, user_id: str) -> list[Conversation]: ...
