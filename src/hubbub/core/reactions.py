"""Reactions: one per user per message; a new one replaces it, "" removes it.

Every member of the conversation sees the change as `ReactionUpdated` on
`chat/reactions` (an event hubbub adds: the spec has only the author's
`ReactionOnOwnMessage`); the message's author also gets
`ReactionOnOwnMessage` when someone else adds or changes a reaction. Both
commit with the reaction, so a member who was away finds them by
`SyncRequest`. Repeating the same reaction changes nothing and tells no one.
"""

from __future__ import annotations

from typing import Any

from hubbub.clock import Clock, iso
from hubbub.core.context import Caller
from hubbub.core.conversations import Conversations
from hubbub.core.frames import event
from hubbub.core.model import NewEvent
from hubbub.core.ports import MessageStore, ReactionStore
from hubbub.core.publisher import Publisher
from hubbub.errors import NotFound, ValidationFailed

__all__ = ["MAX_REACTION", "Reactions"]

MAX_REACTION = 64


class Reactions:
    def __init__(
        self,
        store: ReactionStore,
        messages: MessageStore,
        conversations: Conversations,
        publisher: Publisher,
        clock: Clock,
    ) -> None:
        self.store = store
        self.messages = messages
        self.conversations = conversations
        self.publisher = publisher
        self.clock = clock

    async def react(
        self, caller: Caller, message_id: str, reaction: str, request_id: str | None
    ) -> dict[str, Any]:
        reaction = reaction.strip()
        if len(reaction) > MAX_REACTION:
            raise ValidationFailed(f"at most {MAX_REACTION} characters", path="$.data.reaction")
        if len(message_id) > 64:
            raise NotFound("message not found")
        msg = await self.messages.get_message(message_id)
        if msg is None or msg.deleted_at is not None:
            raise NotFound("message not found")
        try:
            members = await self.conversations.require_member(caller, msg.conversation_id)
        except NotFound:
            raise NotFound("message not found") from None
        now = self.clock.now_ms()
        value = reaction or None
        events: list[NewEvent] = [
            event(
                "c",
                msg.conversation_id,
                "chat/reactions",
                "ReactionUpdated",
                {
                    "message_id": message_id,
                    "conversation_id": msg.conversation_id,
                    "user_id": caller.user_id,
                    "reaction": value,
                    "timestamp": iso(now),
                },
                message_id,
            )
        ]
        tell_author = value is not None and msg.sender_id != caller.user_id
        tell_author = tell_author and msg.sender_id in members
        if tell_author:
            data = {
                "message_id": message_id,
                "reactor_id": caller.user_id,
                "reaction": value,
                "timestamp": iso(now),
            }
            events.append(
                event(
                    "u", msg.sender_id, "chat/reactions", "ReactionOnOwnMessage", data, message_id
                )
            )
        stored = await self.store.set_reaction(message_id, caller.user_id, value, now, events)
        if stored is None:
            status = "unchanged"
        else:
            status = "added" if value is not None else "removed"
            audience = await self.conversations.audience(msg.conversation_id)
            await self.publisher.event(stored[0], audience, skip_conn=caller.conn_id)
            if tell_author:
                await self.publisher.event(stored[1], [msg.sender_id])
        return {
            "client_request_id": request_id,
            "status": status,
            "error": None,
            "timestamp": iso(now),
            "message_id": message_id,
            "reaction": value,
        }
