"""Read positions: how far each member has read a conversation.

A position is a message and its stream position; it only moves forward, so
a late or repeated "read up to" changes nothing and notifies no one. Moving
it is announced to the members as `ReadPositionUpdated` on `chat/messages`
(their clients show read marks and drop unread counts). "Unread" is what
others sent after the position, system messages aside.
"""

from __future__ import annotations

from hubbub.clock import Clock, iso
from hubbub.core.context import Caller
from hubbub.core.conversations import Conversations
from hubbub.core.frames import event
from hubbub.core.ports import HistoryStore, ReadStore
from hubbub.core.publisher import Publisher
from hubbub.errors import NotFound

__all__ = ["Reads"]


class Reads:
    def __init__(
        self,
        store: ReadStore,
        history: HistoryStore,
        conversations: Conversations,
        publisher: Publisher,
        clock: Clock,
    ) -> None:
        self.store = store
        self.history = history
        self.conversations = conversations
        self.publisher = publisher
        self.clock = clock

    async def mark_read(self, caller: Caller, conversation_id: str, message_id: str) -> bool:
        members = await self.conversations.members(conversation_id)
        if caller.user_id not in members:
            raise NotFound("conversation not found")
        msg = await self.history.message(message_id)
        if msg is None or msg.conversation_id != conversation_id:
            raise NotFound("message not found", path="$.last_read_message_id")
        now = self.clock.now_ms()
        data = {
            "conversation_id": conversation_id,
            "user_id": caller.user_id,
            "message_id": message_id,
            "timestamp": iso(now),
        }
        ev = event("c", conversation_id, "chat/messages", "ReadPositionUpdated", data)
        stored = await self.store.advance_read(
            conversation_id, caller.user_id, message_id, msg.pos, now, ev
        )
        if stored is None:
            return False
        await self.publisher.event(stored, members)
        return True

    async def position(self, user_id: str, conversation_id: str) -> tuple[str, int] | None:
        return await self.store.read_position(conversation_id, user_id)

    async def unread(self, user_id: str, conversation_id: str) -> int:
        at = await self.store.read_position(conversation_id, user_id)
        return await self.history.count_after(conversation_id, at[1] if at else 0, user_id)

    async def first_unread(self, user_id: str, conversation_id: str) -> str | None:
        at = await self.store.read_position(conversation_id, user_id)
        return await self.history.first_after(conversation_id, at[1] if at else 0, user_id)
