"""Messages: E2E ciphertext relay, plaintext messages, receipts, self-destruct.

Encrypted messages are opaque to the server: ciphertext, nonce, algorithm,
key id and signature are stored and relayed as given and never inspected.
Plaintext messages carry a `client_message_id` idempotency key: a retry
returns the original `message_id` and timestamp and creates nothing.

A self-destructing message gets `expires_at = now + ttl_seconds` and a durable
timer row in the same transaction, so a restart cannot forget it (see
`timers.ExpiryWorker`).

A reply names the message it answers (`reply_to_id`, one rule for `/ws`'s
plaintext and encrypted sends and MTChat's `reply_to`, see `reply_target`):
one of the same conversation that is still there. Unknown, of another
conversation, deleted or expired all get the same `validation_failed`, so
an answer never tells a stranger that an id exists.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from hubbub.clock import Clock, iso
from hubbub.core.context import Caller
from hubbub.core.conversations import Conversations
from hubbub.core.frames import event
from hubbub.core.model import MessageRecord, NewEvent, StoredEvent
from hubbub.core.ports import EventStream, MentionStore, MessageStore
from hubbub.core.ports.mentions import MentionRow
from hubbub.core.publisher import Publisher
from hubbub.core.tracing import traceparent_or_new
from hubbub.errors import NotFound, Unavailable, ValidationFailed
from hubbub.ids import new_id

if TYPE_CHECKING:
    from hubbub.core.mentions import Mentions

__all__ = ["RECEIPT_STATUSES", "Messages"]

log = logging.getLogger("hubbub.messages")

MAX_CONTENT = 64 * 1024
MAX_TTL_SECONDS = 365 * 24 * 3600
RECEIPT_STATUSES = ("delivered", "read", "played")


def _check_len(value: str | None, limit: int, path: str) -> None:
    if value is not None and len(value) > limit:
        raise ValidationFailed(f"at most {limit} characters", path=path)


def _origin(caller: Caller) -> dict[str, object]:
    """Stored with a message for its chat event (spec 004), never sent to clients."""
    return {
        "trace_parent": traceparent_or_new(caller.trace_parent),
        "session_id": (caller.session_id or caller.conn_id or "")[:64] or None,
        "client_id": caller.device_id[:128] or None,
    }


class Messages:
    def __init__(
        self,
        store: MessageStore,
        events: EventStream,
        conversations: Conversations,
        publisher: Publisher,
        clock: Clock,
    ) -> None:
        self.store = store
        self.events = events
        self.conversations = conversations
        self.publisher = publisher
        self.clock = clock
        self.on_timer_scheduled: list[Any] = []
        # Set by the composition root: group messages that @mention members.
        self.mentions: Mentions | None = None
        self.mention_store: MentionStore | None = None
        self.on_committed: list[Callable[[], object]] = []  # the chat-event relay's wake-up
        # Awaited with (conversation id, sender id) after each new message, of
        # every kind (a new message unarchives the conversation, `core/archive.py`).
        self.on_sent: list[Callable[[str, str], Awaitable[None]]] = []
        # (sender, client_message_id) whose write failed with `unavailable`: it
        # may have committed all the same (the COMMIT's reply was lost).
        self._unsure: set[tuple[str, str]] = set()

    async def send_encrypted(
        self,
        caller: Caller,
        conversation_id: str,
        ciphertext: str,
        nonce: str,
        algorithm: str,
        key_id: str,
        content_type: str | None,
        signature: str | None,
        *,
        reply_to: str | None = None,
    ) -> tuple[str, str, int]:
        await self.conversations.require_member(caller, conversation_id)
        await self.reply_target(conversation_id, reply_to, "$.data.reply_to_id")
        _check_len(ciphertext, MAX_CONTENT * 2, "$.data.ciphertext")
        _check_len(nonce, 256, "$.data.nonce")
        _check_len(algorithm, 64, "$.data.algorithm")
        _check_len(key_id, 256, "$.data.key_id")
        _check_len(signature, 1024, "$.data.signature")
        _check_len(content_type, 64, "$.data.type")
        now = self.clock.now_ms()
        mid = new_id()
        data = {
            "message_id": mid,
            "sender_id": caller.user_id,
            "conversation_id": conversation_id,
            "ciphertext": ciphertext,
            "nonce": nonce,
            "algorithm": algorithm,
            "key_id": key_id,
            "timestamp": iso(now),
            "signature": signature,
            "type": content_type,
        }
        if reply_to is not None:
            data["reply_to_id"] = reply_to
        record = MessageRecord(
            mid, conversation_id, caller.user_id, "e2e", now, None, None, None, False, None
        )
        fields: dict[str, object] = {
            "content_type": content_type or "encrypted",
            "ciphertext": ciphertext,
            "nonce": nonce,
            "algorithm": algorithm,
            "key_id": key_id,
            "signature": signature,
            **_origin(caller),
            "reply_to_id": reply_to,
        }
        ev = event("c", conversation_id, "chat/messages", "EncryptedMessageReceived", data, mid)
        rec, stored = await self.store.append_message(record, fields, ev)
        assert stored is not None
        # Recipients are the members once committed, not when the send began: a leave
        # committed in between must not let the leaver see it. `leave_group` drops
        # this node's cached list as soon as its commit returns, before this send
        # resumes (the writer resolves commits in order); other nodes apply the bus
        # invalidation, so there the window is the bus latency.
        audience = await self.conversations.audience(conversation_id)
        await self.publisher.event(stored, audience, skip_conn=caller.conn_id)
        self._committed()
        await self._sent(conversation_id, caller.user_id)
        return rec.id, iso(rec.created_at), stored.pos

    async def send_text(
        self,
        caller: Caller,
        conversation_id: str,
        content: str,
        content_type: str | None,
        client_message_id: str | None,
        self_destruct: bool,
        ttl_seconds: int | None,
        extra: dict[str, Any] | None = None,
        *,
        reply_to: str | None = None,
        reply_path: str = "$.data.reply_to_id",
        message_id: str | None = None,
    ) -> dict[str, Any]:
        """Store and push a plaintext message; `extra` adds fields to its event data
        (the public room's sender name and file, see `core/rooms.py`); `message_id`
        is chosen by a caller that binds something to it first (MTChat's files);
        `reply_path` names the reply field in the adapter's own terms."""
        members = await self.conversations.require_member(caller, conversation_id)
        _check_len(content, MAX_CONTENT, "$.data.content")
        await self.reply_target(conversation_id, reply_to, reply_path)
        _check_len(client_message_id, 128, "$.data.client_message_id")
        _check_len(content_type, 64, "$.data.type")
        if self_destruct:
            if ttl_seconds is None or not 1 <= ttl_seconds <= MAX_TTL_SECONDS:
                raise ValidationFailed(
                    f"ttl_seconds must be 1..{MAX_TTL_SECONDS} when self_destruct is true",
                    path="$.data.ttl_seconds",
                )
        now = self.clock.now_ms()
        expires = now + ttl_seconds * 1000 if self_destruct and ttl_seconds else None
        mid = message_id or new_id()
        data = {
            "message_id": mid,
            "conversation_id": conversation_id,
            "sender_id": caller.user_id,
            "content": content,
            "type": content_type or "text",
            "timestamp": iso(now),
            "self_destruct": bool(self_destruct),
            "expires_at": iso(expires) if expires is not None else None,
        }
        if extra:
            data.update(extra)
        if reply_to is not None:
            data["reply_to_id"] = reply_to
        record = MessageRecord(
            mid,
            conversation_id,
            caller.user_id,
            "text",
            now,
            expires,
            None,
            client_message_id,
            bool(self_destruct),
            None,
        )
        fields: dict[str, object] = {
            "content_type": content_type or "text",
            "content": content,
            **_origin(caller),
            "reply_to_id": reply_to,
        }
        ev = event("c", conversation_id, "chat/messages", "ChatMessageReceived", data, mid)
        mentions: list[MentionRow] = []
        if self.mentions is not None and "@" in content:
            mentions = await self.mentions.notifications(
                caller, conversation_id, members, mid, content, now
            )
        rec = await self.commit_keyed(caller, record, fields, ev, mentions)
        return {
            "client_message_id": client_message_id,
            "message_id": rec.id,
            "timestamp": iso(rec.created_at),
            "self_destruct": rec.self_destruct,
            "expires_at": iso(rec.expires_at) if rec.expires_at is not None else None,
        }

    async def reply_target(self, conversation_id: str, reply_to: str | None, path: str) -> None:
        """Refuse a reply to anything but a live message of this conversation.

        Called after the caller's membership is checked, so "visible to the
        caller" is "in this conversation": a member reads all of it (MTChat's
        history, forwards and reactions draw the same line). A deleted or
        expired message is gone for the reply as for everything else; a reply
        sent before its target went keeps its `reply_to_id` (clients show the
        original as unavailable). One answer for every refusal: an id of
        another conversation must read like one that never existed.
        """
        if reply_to is None:
            return
        target = await self.store.get_message(reply_to) if len(reply_to) <= 64 else None
        if (
            target is None
            or target.conversation_id != conversation_id
            or target.deleted_at is not None
            or (target.expires_at is not None and target.expires_at <= self.clock.now_ms())
        ):
            raise ValidationFailed("no such message in this conversation", path=path)

    async def commit_keyed(
        self,
        caller: Caller,
        record: MessageRecord,
        fields: dict[str, object],
        ev: NewEvent,
        mentions: Sequence[MentionRow] = (),
        extra: Sequence[NewEvent] = (),
        *,
        append: Callable[[], Awaitable[tuple[MessageRecord, StoredEvent | None]]] | None = None,
    ) -> MessageRecord:
        """Append a message idempotently on its `client_message_id` and push it.

        Every kind of plaintext message (text, sticker, ...) commits through
        here: a retry returns the first record and creates nothing; a message
        whose commit was in doubt is pushed when the retry finds it.
        `append` replaces the store's append (a message written with rows of
        its own in the same unit, `core/message_details.py`).
        """
        conversation_id, client_message_id = record.conversation_id, record.client_message_id
        key = (caller.user_id, client_message_id or "")
        notes: list[StoredEvent] = []
        more: list[StoredEvent] = []
        try:
            if append is not None:
                rec, stored = await append()
            elif (mentions or extra) and self.mention_store is not None:
                rec, all_stored = await self.mention_store.append_with_mentions(
                    record, fields, ev, list(mentions), list(extra)
                )
                stored = all_stored[0] if all_stored else None
                notes = all_stored[1 : 1 + len(mentions)] if stored else []
                more = all_stored[1 + len(mentions) :] if stored else []
            else:
                rec, stored = await self.store.append_message(record, fields, ev)
        except Unavailable:
            if client_message_id is not None:
                if len(self._unsure) > 10_000:
                    self._unsure.clear()
                self._unsure.add(key)
            raise
        unsure = key in self._unsure
        self._unsure.discard(key)
        if stored is not None:
            audience = await self.conversations.audience(conversation_id)  # as of the commit
            await self.publisher.event(stored, audience, skip_conn=caller.conn_id)
            for (_nid, user_id, _ev), note in zip(mentions, notes, strict=True):
                await self.publisher.event(note, [user_id])
            for ev_more in more:
                await self.publisher.event(ev_more, audience)
            self._committed()
            if rec.expires_at is not None:
                for cb in self.on_timer_scheduled:
                    cb(rec.expires_at)
            await self._sent(conversation_id, caller.user_id)
        elif rec.conversation_id != conversation_id:
            raise ValidationFailed(
                "client_message_id already used in another conversation",
                path="$.data.client_message_id",
            )
        elif rec.id == record.id or unsure:
            # Committed by this very call (its batch failed after the commit and
            # was replayed) or by an attempt that got `unavailable`: stored and
            # in the feed, but never pushed. Push it now, or connected devices
            # (which resume from the highest seq they saw) would never get it.
            await self._push_committed(rec, caller.conn_id)
        return rec

    def _committed(self) -> None:
        for cb in self.on_committed:
            cb()

    async def _sent(self, conversation_id: str, sender_id: str) -> None:
        for hook in self.on_sent:
            # After the commit: the message is sent whatever a side effect
            # (unarchiving) meets; a failure here must not answer the send.
            try:
                await hook(conversation_id, sender_id)
            except Exception:
                log.warning("after-send hook failed", exc_info=True)

    async def post_system(
        self, conversation_id: str, actor_id: str, content: str, content_type: str = "system"
    ) -> str:
        """A message the server writes about the conversation (who joined, who left),
        or for a user (an away message's automatic reply, `type` `away`).

        Its `type` is `content_type` and its sender the user it is about; it is
        stored and delivered like any other message, to the members of now.
        """
        now = self.clock.now_ms()
        mid = new_id()
        data = {
            "message_id": mid,
            "conversation_id": conversation_id,
            "sender_id": actor_id,
            "content": content,
            "type": content_type,
            "timestamp": iso(now),
            "self_destruct": False,
            "expires_at": None,
        }
        record = MessageRecord(
            mid, conversation_id, actor_id, "text", now, None, None, None, False, None
        )
        fields: dict[str, object] = {"content_type": content_type, "content": content}
        ev = event("c", conversation_id, "chat/messages", "ChatMessageReceived", data, mid)
        _, stored = await self.store.append_message(record, fields, ev)
        if stored is not None:
            members = await self.conversations.members(conversation_id)
            await self.publisher.event(stored, members)
            await self._sent(conversation_id, actor_id)
        return mid

    async def _push_committed(self, rec: MessageRecord, skip_conn: str | None) -> None:
        if rec.event_pos is None or rec.deleted_at is not None:
            return
        found = await self.events.feed(rec.sender_id, rec.event_pos - 1, 1)
        if found and found[0].pos == rec.event_pos:
            audience = await self.conversations.audience(rec.conversation_id)
            await self.publisher.event(found[0], audience, skip_conn=skip_conn)

    async def acknowledge(
        self,
        caller: Caller,
        message_id: str,
        conversation_id: str,
        status: str,
        signature: str | None,
        *,
        kind: str | None = None,
        notice: Callable[[dict[str, Any]], tuple[str, str, dict[str, Any]]] | None = None,
    ) -> bool:
        """Record a delivered/read receipt and tell the message's sender.

        `kind` restricts it to one kind of message (another is `not_found`);
        `notice` turns the sender's `EncryptedMessageAck` data into another
        (channel, type, data), e.g. a voice note's `VoiceMessageAck`.
        Returns False when the receipt was already recorded (nothing sent).
        """
        if status not in RECEIPT_STATUSES:
            raise ValidationFailed(
                f"status must be one of {', '.join(RECEIPT_STATUSES)}", path="$.data.status"
            )
        members = await self.conversations.require_member(caller, conversation_id)
        msg = await self.store.get_message(message_id)
        if msg is None or msg.conversation_id != conversation_id or msg.deleted_at is not None:
            raise NotFound("message not found")
        if kind is not None and msg.kind != kind:
            raise NotFound("message not found")
        if msg.sender_id == caller.user_id:
            raise ValidationFailed("cannot acknowledge your own message", path="$.data.message_id")
        now = self.clock.now_ms()
        data = {
            "message_id": message_id,
            "conversation_id": conversation_id,
            "status": status,
            "ack_timestamp": iso(now),
            "signature": signature,
            "user_id": caller.user_id,
        }
        channel, type_, body = (
            notice(data) if notice else ("chat/acks", "EncryptedMessageAck", data)
        )
        ev: NewEvent | None = event("u", msg.sender_id, channel, type_, body)
        if msg.sender_id not in members:
            ev = None  # the sender left: the group's activity is no longer theirs to see
        stored = await self.store.record_receipt(message_id, caller.user_id, status, now, ev)
        if stored is None:
            return False
        await self.publisher.event(stored, [msg.sender_id])
        return True
