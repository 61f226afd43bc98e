"""Sticker messages: a message whose content is a sticker's pack and id.

Stickers are messages like text (same stream, receipts, idempotency on
`client_message_id`, self-destruct does not apply): members get
`StickerMessageReceived` on `chat/stickers`. The server does not host sticker
packs; the ids are the client's to resolve, stored as sent.
"""

from __future__ import annotations

from typing import Any

from hubbub.clock import Clock, iso
from hubbub.core.context import Caller
from hubbub.core.conversations import Conversations
from hubbub.core.frames import encode, event
from hubbub.core.messages import Messages
from hubbub.core.model import MessageRecord
from hubbub.errors import ValidationFailed
from hubbub.ids import new_id

__all__ = ["Stickers"]

MAX_ID = 128


class Stickers:
    def __init__(self, messages: Messages, conversations: Conversations, clock: Clock) -> None:
        self.messages = messages
        self.conversations = conversations
        self.clock = clock

    async def send(
        self,
        caller: Caller,
        conversation_id: str,
        sticker_id: str,
        sticker_pack_id: str,
        client_message_id: str | None,
    ) -> dict[str, Any]:
        await self.conversations.require_member(caller, conversation_id)
        for value, path in (
            (sticker_id, "$.data.sticker_id"),
            (sticker_pack_id, "$.data.sticker_pack_id"),
        ):
            if not value or len(value) > MAX_ID:
                raise ValidationFailed(f"must be 1-{MAX_ID} characters", path=path)
        if client_message_id is not None and len(client_message_id) > 128:
            raise ValidationFailed("at most 128 characters", path="$.data.client_message_id")
        now = self.clock.now_ms()
        mid = new_id()
        data = {
            "message_id": mid,
            "conversation_id": conversation_id,
            "sender_id": caller.user_id,
            "sticker_id": sticker_id,
            "sticker_pack_id": sticker_pack_id,
            "timestamp": iso(now),
        }
        record = MessageRecord(
            mid, conversation_id, caller.user_id, "sticker", now, None, None, client_message_id,
            False, None,
        )  # fmt: skip
        content = encode({"sticker_id": sticker_id, "sticker_pack_id": sticker_pack_id}).decode()
        fields: dict[str, object] = {"content_type": "sticker", "content": content}
        ev = event("c", conversation_id, "chat/stickers", "StickerMessageReceived", data, mid)
        rec = await self.messages.commit_keyed(caller, record, fields, ev)
        return {"message_id": rec.id, "timestamp": iso(rec.created_at)}
