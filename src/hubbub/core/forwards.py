"""Forwarding a message the caller can read into another of their conversations.

The forward is a new message in the target, of the original's kind and
content, marked `forwarded: true` (with its `forward_id` and the optional
`note`), committed together with a `MessageForwarded` event for the target's
members. Forwarding the same message to the same conversation again is a
retry: it returns the first forward and creates nothing (spec 000 gives
`ForwardMessage` no client id, so the pair is the key).

What cannot be forwarded, answered `ForwardMessageAck{status: "rejected",
reason}`: end-to-end encrypted messages (the server cannot re-encrypt them
for the target's members: a client forwards those itself, as a new
`SendEncryptedMessage`), and self-destructing ones (a copy would outlive the
sender's choice). A voice note's copy shares its audio, which the target's
members may then download too (`core/voice.py`). A message of a conversation
the caller is not in, or one that expired, is `not_found`, like one that does
not exist.
"""

from __future__ import annotations

from typing import Any

import msgspec

from hubbub.clock import Clock, iso
from hubbub.core.context import Caller
from hubbub.core.conversations import Conversations
from hubbub.core.frames import event
from hubbub.core.messages import Messages
from hubbub.core.model import MessageRecord
from hubbub.core.ports import MessageStore
from hubbub.core.voice import Voice
from hubbub.errors import NotFound, ValidationFailed
from hubbub.ids import new_id

__all__ = ["MAX_NOTE", "Forwards"]

MAX_NOTE = 1000


class Forwards:
    def __init__(
        self,
        store: MessageStore,
        messages: Messages,
        conversations: Conversations,
        clock: Clock,
    ) -> None:
        self.store = store
        self.messages = messages
        self.conversations = conversations
        self.clock = clock
        self.voice: Voice | None = None  # set by the composition root: voice notes' audio

    async def forward(
        self,
        caller: Caller,
        original_message_id: str,
        from_conversation_id: str,
        to_conversation_id: str,
        note: str | None,
    ) -> dict[str, Any]:
        if note is not None and len(note) > MAX_NOTE:
            raise ValidationFailed(f"at most {MAX_NOTE} characters", path="$.data.note")
        try:
            await self.conversations.require_member(caller, from_conversation_id)
        except NotFound:
            raise NotFound("message not found") from None
        msg = await self.store.get_message(original_message_id)
        if msg is None or msg.conversation_id != from_conversation_id or msg.deleted_at is not None:
            raise NotFound("message not found")
        await self.conversations.require_member(caller, to_conversation_id)
        now = self.clock.now_ms()
        reason = None
        if msg.kind == "e2e":
            reason = "end_to_end_encrypted: the server cannot re-encrypt it for the target"
        elif msg.self_destruct:
            reason = "self_destructing messages cannot be forwarded"
        body = await self.store.get_body(original_message_id) if reason is None else None
        if reason is None and (body is None or body[1] is None):
            raise NotFound("message not found")
        if reason is not None or body is None:
            return self._ack(None, "rejected", reason, now)
        content_type, content = body
        assert content is not None
        mid = new_id()
        key = f"fwd:{original_message_id}:{to_conversation_id}"
        record = MessageRecord(
            mid, to_conversation_id, caller.user_id, msg.kind, now, None, None, key, False, None
        )
        marks = {"forwarded": True, "forward_id": mid, "note": note}
        base: dict[str, Any] = {
            "message_id": mid,
            "conversation_id": to_conversation_id,
            "sender_id": caller.user_id,
            "timestamp": iso(now),
        }
        if msg.kind == "voice":
            if self.voice is None:  # a node built without voice notes
                return self._ack(None, "rejected", "voice notes are not served here", now)
            ev = await self.voice.forward_event(content, to_conversation_id, {**base, **marks})
        elif msg.kind == "sticker":
            ids = msgspec.json.decode(content)
            data = {**base, **ids, **marks}
            ev = event(
                "c", to_conversation_id, "chat/stickers", "StickerMessageReceived", data, mid
            )
        else:
            data = {**base, "content": content, "type": content_type, "self_destruct": False,
                    "expires_at": None, **marks}  # fmt: skip
            ev = event("c", to_conversation_id, "chat/messages", "ChatMessageReceived", data, mid)
        forwarded = event(
            "c",
            to_conversation_id,
            "chat/forward",
            "MessageForwarded",
            {
                "forward_id": mid,
                "original_message_id": original_message_id,
                "from_conversation_id": from_conversation_id,
                "to_conversation_id": to_conversation_id,
                "forwarded_by": caller.user_id,
                "timestamp": iso(now),
            },
            mid,
        )
        fields: dict[str, object] = {"content_type": content_type, "content": content}
        rec = await self.messages.commit_keyed(caller, record, fields, ev, extra=[forwarded])
        return self._ack(rec, "forwarded", None, rec.created_at)

    @staticmethod
    def _ack(rec: MessageRecord | None, status: str, reason: str | None, at: int) -> dict[str, Any]:
        return {
            "forward_id": rec.id if rec is not None else None,
            "status": status,
            "reason": reason,
            "timestamp": iso(at),
            "message_id": rec.id if rec is not None else None,
        }
