"""Core events (spec 000 frames on the bus) turned into MTChat WebSocket events.

Every event reaches an MTChat connection the way it reaches a `/ws` one (the
hub, cluster-wide through the bus), so the two protocols cannot disagree on
who is told what. Here each frame is read once more and rewritten in
MTChat's vocabulary; frames MTChat has no word for are dropped::

    chat/messages     ChatMessageReceived       -> message.new
                      ChatMessageEdited         -> message.edited
                      ChatMessageDeleted        -> message.deleted
                      ReadPositionUpdated       -> message.read
    chat/archive      ChatArchiveStatusChanged  -> dialog.archived / dialog.unarchived
    group/membership  ConversationMemberJoined  -> participant.joined
                      ConversationMemberLeft    -> participant.left
                      ConversationDeleted       -> dialog.deleted (hubbub's; MTChat has none)
    user/presence     PresenceStatusUpdated     -> presence.update
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from hubbub.protocols.mtchat.html import as_html
from hubbub.protocols.mtchat.views import Names, attachment_json

__all__ = ["conversation_of", "people_of", "translate"]

_decode = msgspec.json.Decoder(dict[str, Any]).decode


def _peek(frame: bytes) -> tuple[str, dict[str, Any]] | None:
    try:
        f = _decode(frame)
    except msgspec.DecodeError:
        return None
    data = f.get("data")
    if not isinstance(data, dict):
        return None
    return f"{f.get('channel')}:{f.get('type')}", data


def conversation_of(frame: bytes) -> str | None:
    """The conversation a frame is about, if any (for watchers of a dialog)."""
    peeked = _peek(frame)
    cid = peeked[1].get("conversation_id") if peeked else None
    return cid if isinstance(cid, str) else None


def people_of(frame: bytes) -> list[str]:
    """The hubbub user ids a frame names (to resolve them before `translate`)."""
    peeked = _peek(frame)
    if peeked is None:
        return []
    return [v for k in ("sender_id", "user_id") if isinstance(v := peeked[1].get(k), str)]


def _files(listed: object, url_of: Callable[[str], str]) -> list[dict[str, Any]]:
    """The files a message's event carries, as MTChat's attachment objects."""
    out = []
    for f in listed if isinstance(listed, list) else []:
        if isinstance(f, dict) and isinstance(aid := f.get("id"), str):
            name, ctype, size = str(f.get("filename")), str(f.get("content_type")), f.get("size")
            out.append(attachment_json(aid, name, ctype, int(size or 0), url_of(aid)))
    return out


def translate(
    frame: bytes, names: Names, url_of: Callable[[str], str] | None = None
) -> dict[str, Any] | None:
    """`url_of` signs a download URL of an attachment for this connection."""
    peeked = _peek(frame)
    if peeked is None:
        return None
    kind, d = peeked
    cid = d.get("conversation_id")
    out: dict[str, Any]
    if kind == "chat/messages:ChatMessageReceived":
        if d.get("deleted"):
            return None
        system = d.get("type") == "system"
        out = {
            "type": "message.new",
            "id": d["message_id"],
            "dialog_id": cid,
            "sender_id": None if system else names.of(d["sender_id"]),
            "content": as_html(str(d.get("content") or ""), str(d.get("type"))),
            "sent_at": d.get("timestamp"),
            "message_type": "system" if system else "user",
            "reply_to_id": d.get("reply_to_id"),
        }
        if url_of is not None and (files := _files(d.get("attachments"), url_of)):
            out["attachments"] = files  # as the REST row lists them; absent when none
    elif kind == "chat/messages:ChatMessageEdited":
        if d.get("deleted"):
            return None
        out = {
            "type": "message.edited",
            "id": d["message_id"],
            "dialog_id": cid,
            "content": as_html(str(d.get("content") or ""), str(d.get("type"))),
            "last_edited_at": d.get("edited_at"),
        }
    elif kind == "chat/messages:ChatMessageDeleted":
        out = {"type": "message.deleted", "id": d["message_id"], "dialog_id": cid}
    elif kind == "chat/messages:ReadPositionUpdated":
        out = {
            "type": "message.read",
            "dialog_id": cid,
            "user_id": names.of(d["user_id"]),
            "last_read_message_id": d["message_id"],
        }
    elif kind == "chat/archive:ChatArchiveStatusChanged":
        name = "dialog.archived" if d.get("archived") else "dialog.unarchived"
        out = {"type": name, "dialog_id": cid}
    elif kind in (
        "group/membership:ConversationMemberJoined",
        "group/membership:ConversationMemberLeft",
    ):
        name = "participant.joined" if kind.endswith("Joined") else "participant.left"
        out = {"type": name, "dialog_id": cid, "user_id": names.of(d["user_id"])}
    elif kind == "group/membership:ConversationDeleted":
        out = {"type": "dialog.deleted", "dialog_id": cid}
    elif kind == "user/presence:PresenceStatusUpdated":
        out = {
            "type": "presence.update",
            "user_id": names.of(d["user_id"]),
            "is_online": d.get("status") == "online",
        }
    else:
        return None
    return out
