"""Core frames (spec 000 frames on the bus) turned into Symbia real-time events.

A Symbia connection (Socket.IO or `/api/ws`) sits in the node's hub like a
`/ws` one, so it is told exactly what its user is told, from any node; here
each frame is rewritten in Symbia's vocabulary (wire-notes, spec 002), and
frames Symbia has no word for are dropped::

    chat/messages       ChatMessageReceived    -> message:new       (the message row)
                        ChatMessageEdited      -> message:updated   (the message row)
                        ChatMessageDeleted     -> message:deleted   {id, conversationId}
                        StreamControl          -> stream.<event>    {event, conversationId, ...}
    chat/typing         TypingStarted|Stopped  -> typing:started|stopped
                                                  {conversationId, userId, userType}
    user/presence       PresenceStatusUpdated  -> presence:changed
                                                  {userId, userType, agentId, status}
    symbia/participants ParticipantOnline      -> participant:online
                                                  {conversationId, userId, userType, agentId}

The last one is Symbia's own and is addressed to `symbia_key(user)` (see
`sockets.py`), which only Symbia connections answer to, so `/ws` clients
never see it. A message row is the seed's Message in snake_case; the Symbia
fields (`content_type`, `sender_type`, `run_id`, ...) come from the event's
data when its sender set them (s_shared #3), else from the account and the
hubbub defaults. `sequence` is the frame's `seq` (the message's event
position). The same frame reaches many connections of a node at once, so
each translation is kept (`MAX_CACHED` frames) and done once per node.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import msgspec

from hubbub.clock import iso
from hubbub.errors import HubbubError
from hubbub.runtime import Node

__all__ = [
    "PARTICIPANTS_CHANNEL",
    "STREAM_EVENTS",
    "SymbiaEvent",
    "Translator",
    "message_row",
]

PARTICIPANTS_CHANNEL = "symbia/participants"
STREAM_EVENTS = frozenset(
    f"stream.{e}" for e in ("pause", "resume", "preempt", "route", "handoff", "cancel", "priority")
)
CONTENT_TYPES = {"text": "text/plain", "markdown": "text/markdown", "json": "application/json"}
SYMBIA_FIELDS = ("run_id", "trace_id", "priority", "interruptible", "preempted_by", "org_id")
MAX_CACHED = 256
MAX_KINDS = 10_000

SymbiaEvent = tuple[str, dict[str, Any], str | None]
"""(event name, payload, the conversation it is about or None)."""

_decode = msgspec.json.Decoder(dict[str, Any]).decode


def message_row(
    d: dict[str, Any], sender_type: str, *, sequence: int | None, updated_at: str | None = None
) -> dict[str, Any]:
    """The seed's Message row from a core message event's data."""
    kind = str(d.get("type") or "text")
    content_type = d.get("content_type") or CONTENT_TYPES.get(kind, "text/plain")
    row: dict[str, Any] = {
        "id": d.get("message_id"),
        "conversation_id": d.get("conversation_id"),
        "sender_id": d.get("sender_id"),
        "sender_type": d.get("sender_type") or sender_type,
        "content": d.get("content") or "",
        "content_type": content_type,
        "reply_to": d.get("reply_to_id"),
        "sequence": sequence,
        "created_at": d.get("timestamp"),
        "updated_at": updated_at,
        "deleted_at": None,
        "metadata": d.get("metadata") if isinstance(d.get("metadata"), dict) else {},
    }
    for key in SYMBIA_FIELDS:
        row[key] = d.get(key)
    return row


class Translator:
    """One per node: frames -> Symbia events, with the accounts' kinds cached."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self._done: OrderedDict[bytes, SymbiaEvent | None] = OrderedDict()
        self._kinds: dict[str, tuple[str, str | None]] = {}

    async def kind_of(self, user_id: str) -> tuple[str, str | None]:
        """(user_type, agent_id) of an account: `agent` and its username, or `user`."""
        known = self._kinds.get(user_id)
        if known is not None:
            return known
        user = await self.node.accounts.get_user(user_id)
        kind = ("agent", user.username) if user is not None and user.is_agent else ("user", None)
        if len(self._kinds) >= MAX_KINDS:
            self._kinds.clear()
        self._kinds[user_id] = kind
        return kind

    def remember_kind(self, user_id: str, user_type: str, agent_id: str | None) -> None:
        if len(self._kinds) < MAX_KINDS:
            self._kinds[user_id] = (user_type, agent_id)

    async def translate(self, payload: bytes) -> SymbiaEvent | None:
        if payload in self._done:
            self._done.move_to_end(payload)
            return self._done[payload]
        try:
            out = await self._translate(payload)
        except (HubbubError, KeyError, TypeError, ValueError):
            out = None  # a frame we cannot read (or storage away) is not worth a crash
        self._done[payload] = out
        if len(self._done) > MAX_CACHED:
            self._done.popitem(last=False)
        return out

    async def _who(self, user_id: object, *, agent: bool = False) -> dict[str, Any]:
        """`{userId, userType}`, and `agentId` (null for a person) when `agent`."""
        uid = str(user_id)
        user_type, agent_id = await self.kind_of(uid)
        who: dict[str, Any] = {"userId": uid, "userType": user_type}
        if agent:
            who["agentId"] = agent_id
        return who

    async def _translate(self, payload: bytes) -> SymbiaEvent | None:
        try:
            frame = _decode(payload)
        except msgspec.DecodeError:
            return None
        d = frame.get("data")
        if not isinstance(d, dict):
            return None
        kind = f"{frame.get('channel')}:{frame.get('type')}"
        cid = d.get("conversation_id") if isinstance(d.get("conversation_id"), str) else None
        seq = frame.get("seq") if isinstance(frame.get("seq"), int) else None
        if kind == "chat/messages:ChatMessageReceived":
            if d.get("deleted"):
                return None
            sender_type, _ = await self.kind_of(str(d.get("sender_id")))
            return "message:new", message_row(d, sender_type, sequence=seq), cid
        if kind == "chat/messages:ChatMessageEdited":
            return await self._updated(d, cid)
        if kind == "chat/messages:ChatMessageDeleted":
            return "message:deleted", {"id": d.get("message_id"), "conversationId": cid}, cid
        if kind == "chat/messages:StreamControl":
            event = d.get("event")
            if event not in STREAM_EVENTS:
                return None
            body = {
                "event": event,
                "conversationId": cid,
                "target": d.get("target"),
                "reason": d.get("reason"),
                "preemptedBy": d.get("preempted_by"),
                "runId": d.get("run_id"),
                "traceId": d.get("trace_id"),
                "effectiveAt": d.get("effective_at"),
            }
            return str(event), body, cid
        if kind in ("chat/typing:TypingStarted", "chat/typing:TypingStopped"):
            name = "typing:started" if kind.endswith("Started") else "typing:stopped"
            who = await self._who(d.get("user_id"))
            return name, {"conversationId": cid, **who}, cid
        if kind == "user/presence:PresenceStatusUpdated":
            who = await self._who(d.get("user_id"), agent=True)
            return "presence:changed", {**who, "status": d.get("status")}, None
        if kind == f"{PARTICIPANTS_CHANNEL}:ParticipantOnline":
            who = await self._who(d.get("user_id"), agent=True)
            return "participant:online", {"conversationId": cid, **who}, cid
        return None

    async def _updated(self, d: dict[str, Any], cid: str | None) -> SymbiaEvent | None:
        """An edit's event names only what changed: the rest of the row is read once."""
        if d.get("deleted"):
            return None
        stored = await self.node.stores.history.message(str(d.get("message_id")))
        sender_type, _ = await self.kind_of(str(d.get("sender_id")))
        base = dict(d)
        if stored is not None:
            base.setdefault("reply_to_id", stored.reply_to_id)
            base["timestamp"] = iso(stored.created_at)
        row = message_row(
            base,
            sender_type,
            sequence=stored.pos if stored is not None else None,
            updated_at=d.get("edited_at"),
        )
        return "message:updated", row, cid
