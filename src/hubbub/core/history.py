"""Reading a conversation's messages back: pages before, after or around one.

Order is the stream's (`event_pos`), the order every member received them
in. Only members read; anyone else gets `not_found`. Encrypted and deleted
messages are left out (spec 003's clients show plaintext only).
"""

from __future__ import annotations

from dataclasses import dataclass

from hubbub.core.conversations import Conversations
from hubbub.core.ports import HistoryStore
from hubbub.core.ports.history import StoredMessage
from hubbub.errors import NotFound, ValidationFailed

__all__ = ["History", "Page"]

MAX_PAGE = 100


@dataclass(slots=True)
class Page:
    messages: list[StoredMessage]
    has_more_before: bool
    has_more_after: bool


class History:
    def __init__(self, store: HistoryStore, conversations: Conversations) -> None:
        self.store = store
        self.conversations = conversations

    async def _anchor(self, conversation_id: str, message_id: str, path: str) -> StoredMessage:
        msg = await self.store.message(message_id)
        if msg is None or msg.conversation_id != conversation_id:
            raise NotFound("message not found", path=path)
        return msg

    async def require_member(self, user_id: str, conversation_id: str) -> None:
        if user_id not in await self.conversations.members(conversation_id):
            raise NotFound("conversation not found")

    async def find(self, user_id: str, message_id: str) -> StoredMessage:
        """A live plaintext message by id alone, for a member of its conversation
        (spec 002's `message:edit` / `message:delete` name no conversation)."""
        msg = await self.store.message(message_id) if len(message_id) <= 64 else None
        if msg is None or msg.deleted_at is not None or msg.kind == "e2e":
            raise NotFound("message not found")
        if user_id not in await self.conversations.members(msg.conversation_id):
            raise NotFound("message not found")
        return msg

    async def message(self, user_id: str, conversation_id: str, message_id: str) -> StoredMessage:
        await self.require_member(user_id, conversation_id)
        msg = await self._anchor(conversation_id, message_id, "$.id")
        if msg.deleted_at is not None or msg.kind == "e2e":
            raise NotFound("message not found")
        return msg

    async def page(
        self,
        user_id: str,
        conversation_id: str,
        limit: int,
        before: str | None = None,
        after: str | None = None,
        around: str | None = None,
    ) -> Page:
        if not 1 <= limit <= MAX_PAGE:
            raise ValidationFailed(f"limit must be 1-{MAX_PAGE}", path="$.limit")
        if sum(x is not None for x in (before, after, around)) > 1:
            raise ValidationFailed("give one of before, after, around", path="$.before")
        await self.require_member(user_id, conversation_id)
        s, cid = self.store, conversation_id
        if after is not None:
            pos = (await self._anchor(cid, after, "$.after")).pos
            got = await s.page(cid, limit + 1, after_pos=pos)
            return Page(got[:limit], True, len(got) > limit)
        if around is not None:
            pos = (await self._anchor(cid, around, "$.around")).pos
            older = await s.page(cid, limit // 2 + 1, before_pos=pos)
            newer = await s.page(cid, limit - limit // 2 + 1, from_pos=pos)
            more_before = len(older) > limit // 2
            more_after = len(newer) > limit - limit // 2
            older = older[1:] if more_before else older
            return Page(older + newer[: limit - limit // 2], more_before, more_after)
        pos_before = (await self._anchor(cid, before, "$.before")).pos if before else None
        got = await s.page(cid, limit + 1, before_pos=pos_before)
        more = len(got) > limit
        return Page(got[1:] if more else got, more, before is not None)
