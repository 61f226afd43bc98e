"""Editing and deleting messages: only by their sender, announced to the members.

Spec 000 has neither; other specs (003's MTChat, 002's Symbia) do. So they
are core capabilities, and `/ws` clients get them on `chat/messages` as
`ChatMessageEdited` and `ChatMessageDeleted` (docs/protocol.md). A deletion
also turns the message's earlier events into tombstones, so a resume from an
old `seq` does not hand the content out again (as self-destruct does).
A message that is not in the conversation, is gone, or is end-to-end
encrypted (the server cannot edit ciphertext) answers `not_found`.

Every edit keeps the text it replaced with the times it was shown, so any
member can read a message's full history (`history`, served by Symbia's
`GET /api/conversations/{id}/messages/{message_id}/history`); deleting the
message erases its history with it.
"""

from __future__ import annotations

from hubbub.clock import Clock, iso
from hubbub.core.context import Caller
from hubbub.core.conversations import Conversations
from hubbub.core.frames import event
from hubbub.core.messages import MAX_CONTENT
from hubbub.core.ports import EditStore, HistoryStore
from hubbub.core.ports.edits import Version
from hubbub.core.ports.history import StoredMessage
from hubbub.core.publisher import Publisher
from hubbub.errors import Forbidden, NotFound, ValidationFailed

__all__ = ["Edits"]

CHANNEL = "chat/messages"


class Edits:
    def __init__(
        self,
        store: EditStore,
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

    async def _own(self, caller: Caller, conversation_id: str, message_id: str) -> StoredMessage:
        await self.conversations.require_member(caller, conversation_id)
        msg = await self.history.message(message_id)
        if (
            msg is None
            or msg.conversation_id != conversation_id
            or msg.deleted_at is not None
            or msg.kind == "e2e"
            or msg.content_type == "system"
        ):
            raise NotFound("message not found")
        if msg.sender_id != caller.user_id:
            raise Forbidden("only its sender may change a message")
        return msg

    async def edit(
        self, caller: Caller, conversation_id: str, message_id: str, content: str
    ) -> StoredMessage:
        if not content or len(content) > MAX_CONTENT:
            raise ValidationFailed(f"must be 1-{MAX_CONTENT} characters", path="$.data.content")
        msg = await self._own(caller, conversation_id, message_id)
        now = self.clock.now_ms()
        data = {
            "message_id": message_id,
            "conversation_id": conversation_id,
            "sender_id": msg.sender_id,
            "content": content,
            "type": msg.content_type,
            "edited_at": iso(now),
        }
        ev = event("c", conversation_id, CHANNEL, "ChatMessageEdited", data, message_id)
        stored = await self.store.edit_message(message_id, content, now, ev)
        if stored is None:  # deleted meanwhile
            raise NotFound("message not found")
        members = await self.conversations.members(conversation_id)
        await self.publisher.event(stored, members, skip_conn=caller.conn_id)
        msg.content, msg.edited_at = content, now
        return msg

    async def delete(self, caller: Caller, conversation_id: str, message_id: str) -> None:
        await self._own(caller, conversation_id, message_id)
        now = self.clock.now_ms()
        data = {
            "message_id": message_id,
            "conversation_id": conversation_id,
            "deleted_at": iso(now),
        }
        ev = event("c", conversation_id, CHANNEL, "ChatMessageDeleted", data)
        stored = await self.store.delete_message(message_id, now, ev)
        if stored is None:
            raise NotFound("message not found")
        members = await self.conversations.members(conversation_id)
        await self.publisher.event(stored, members, skip_conn=caller.conn_id)

    async def versions(
        self, caller: Caller, conversation_id: str, message_id: str
    ) -> tuple[StoredMessage, list[Version]]:
        """The message as it is now and every earlier text, oldest first; any
        member may read it (`versions`; a non-member gets `not_found`)."""
        members = await self.conversations.members(conversation_id)
        if caller.user_id not in members:
            raise NotFound("conversation not found")
        msg = await self.history.message(message_id)
        if msg is None or msg.conversation_id != conversation_id or msg.deleted_at is not None:
            raise NotFound("message not found")
        return msg, await self.store.versions(message_id)
