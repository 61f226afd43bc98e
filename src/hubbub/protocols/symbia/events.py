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
never see it. A message row is exactly what REST returns for that message
(`rows.message_row`): for `message:new` rebuilt from the event's data, which
carries the Symbia fields its sender set (s_shared #3); for
`message:updated` read from the store (the edit event names only the text),
so an edit keeps `content_type`, `run_id`, `metadata`... `sequence` is the
message's stream position (the `seq` of its `ChatMessageReceived` frame).
The same frame reaches many connections of a node at once, so each
translation is kept (`MAX_CACHED` frames) and done once per node.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

import msgspec

from hubbub.clock import parse_iso
from hubbub.core.model import AccountKind
from hubbub.core.ports.message_details import DetailRow, MessageView
from hubbub.errors import HubbubError
from hubbub.protocols.symbia.rows import message_row, user_type_of
from hubbub.runtime import Node

__all__ = [
    "PARTICIPANTS_CHANNEL",
    "STREAM_EVENTS",
    "SymbiaEvent",
    "Translator",
    "event_view",
]

PARTICIPANTS_CHANNEL = "symbia/participants"
STREAM_EVENTS = frozenset(
    f"stream.{e}" for e in ("pause", "resume", "preempt", "route", "handoff", "cancel", "priority")
)
MAX_CACHED = 256
MAX_KINDS = 10_000

SymbiaEvent = tuple[str, dict[str, Any], str | None]
"""(event name, payload, the conversation it is about or None)."""

_decode = msgspec.json.Decoder(dict[str, Any]).decode


def event_view(d: dict[str, Any], sender_kind: AccountKind, pos: int | None) -> MessageView:
    """The message a `ChatMessageReceived` event announces, as the store would read it.

    A Symbia send puts every field of its details row in the event (only
    those set beyond the defaults), so the row is rebuilt without a read;
    a core message (`/ws`, MTChat) has no details, as in the store.
    """
    details = None
    if isinstance(d.get("content_type"), str):
        meta = d.get("metadata")
        details = DetailRow(
            d["content_type"],
            str(d.get("sender_type") or sender_kind),
            d.get("run_id"),
            d.get("trace_id"),
            d.get("priority"),
            d.get("interruptible"),
            d.get("preempted_by"),
            json.dumps(meta) if isinstance(meta, dict) else "{}",
            d.get("org_id"),
        )
    return MessageView(
        str(d.get("message_id")),
        str(d.get("conversation_id")),
        str(d.get("sender_id")),
        d.get("content") if isinstance(d.get("content"), str) else None,
        str(d.get("type") or "text"),
        d.get("reply_to_id") if isinstance(d.get("reply_to_id"), str) else None,
        parse_iso(str(d.get("timestamp"))),
        None,
        None,
        pos,
        sender_kind,
        details,
    )


class Translator:
    """One per node: frames -> Symbia events, with the accounts' kinds cached."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self._done: OrderedDict[bytes, SymbiaEvent | None] = OrderedDict()
        self._kinds: dict[str, tuple[AccountKind, str | None]] = {}

    async def kind_of(self, user_id: str) -> tuple[AccountKind, str | None]:
        """(kind, agent_id) of an account: its kind, and its username unless a person."""
        known = self._kinds.get(user_id)
        if known is not None:
            return known
        user = await self.node.accounts.get_user(user_id)
        found: tuple[AccountKind, str | None] = ("user", None)
        if user is not None and user.automated:
            found = (user.kind, user.username)
        if len(self._kinds) >= MAX_KINDS:
            self._kinds.clear()
        self._kinds[user_id] = found
        return found

    def remember_kind(self, user_id: str, kind: AccountKind, agent_id: str | None) -> None:
        if len(self._kinds) < MAX_KINDS:
            self._kinds[user_id] = (kind, agent_id)

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
        kind, agent_id = await self.kind_of(uid)
        who: dict[str, Any] = {"userId": uid, "userType": user_type_of(kind)}
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
            sender_kind, _ = await self.kind_of(str(d.get("sender_id")))
            return "message:new", message_row(event_view(d, sender_kind, seq)), cid
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
        """An edit's event names only what changed: the row (its Symbia fields,
        `sequence`) is the stored message's, with the text and time of this edit."""
        if d.get("deleted"):
            return None
        view = await self.node.message_details.store.view(str(d.get("message_id")))
        if view is None or view.deleted_at is not None:
            return None
        if isinstance(d.get("content"), str):
            view.content = d["content"]
        if isinstance(d.get("edited_at"), str):
            view.edited_at = parse_iso(d["edited_at"])
        return "message:updated", message_row(view), cid
