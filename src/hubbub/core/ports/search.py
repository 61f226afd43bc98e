"""Reads behind spec 000's searches: a conversation's messages by their words,
and the caller's chats by name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["ChatHit", "MessageHit", "SearchStore"]


@dataclass(frozen=True, slots=True)
class MessageHit:
    message_id: str
    sender_id: str
    created_at: int
    edited_at: int | None
    content: str


@dataclass(frozen=True, slots=True)
class ChatHit:
    conversation_id: str
    kind: str  # direct | group
    name: str | None  # the group's name; None for a direct chat
    other_id: str | None  # a direct chat's other member
    other_username: str | None
    other_display_name: str | None


class SearchStore(Protocol):
    async def search_messages(
        self,
        conversation_id: str,
        query: str,
        terms: list[str],
        now: int,
        offset: int,
        limit: int,
        cap: int,
    ) -> tuple[list[MessageHit], int]:
        """Searchable messages of the conversation holding every term, newest
        first, and how many there are (counted up to `cap`).

        `terms` are the query's words (SQLite's FTS5 gets each quoted);
        PostgreSQL reads `query` itself with `plainto_tsquery`. Deleted,
        expired (`expires_at <= now`), encrypted and system messages never
        match; an edited one matches its current text."""
        ...

    async def search_chats(
        self, user_id: str, needle: str, kind: str | None, offset: int, limit: int
    ) -> list[ChatHit]:
        """The user's current direct chats and groups whose group name, or
        other member's username or display name, contains `needle`
        (case-insensitive), ordered by that name; never a direct chat whose
        other member blocks the user. At most `limit` from `offset`."""
        ...
