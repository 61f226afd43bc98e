"""Core events to spec-001 frames, translated once per event per node.

The hub hands every recipient connection the same `Out` (a spec-000 frame,
see `realtime/hub.py`). A room connection turns it into the seed's
`message` or `userStatus`; the translation of the last `Out` seen is kept,
so a message to a thousand room connections is decoded and encoded once,
and the translated `Out` (framed once) is shared by all of them too.
Frames that are not about the room (an account-bound member's other
conversations, its contacts' presence) translate to nothing.
"""

from __future__ import annotations

import msgspec

from hubbub.clock import parse_iso
from hubbub.core.rooms import STATUS_TYPE
from hubbub.protocols.simplechat.frames import FileOut, MessageOut, UserStatusOut
from hubbub.realtime.outbox import Out

__all__ = ["Translated", "message_of", "translate"]

Translated = tuple[Out, str | None]  # the frame, and the message id it carries


class _Pushed(msgspec.Struct):
    type: str = ""
    data: msgspec.Raw = msgspec.Raw(b"null")


class _RoomMessage(msgspec.Struct):
    message_id: str
    conversation_id: str
    content: str
    timestamp: str
    sender_name: str = ""
    sender_handle: str = ""
    file: FileOut | None = None


class _RoomStatus(msgspec.Struct):
    room_id: str
    handle: str
    username: str
    online: bool


_pushed = msgspec.json.Decoder(_Pushed)
_message = msgspec.json.Decoder(_RoomMessage)
_status = msgspec.json.Decoder(_RoomStatus)
_encode = msgspec.json.Encoder().encode
_UNDECODABLE = (msgspec.DecodeError, ValueError)


def message_of(data: bytes | msgspec.Raw, room_id: str) -> tuple[MessageOut, str] | None:
    """The seed's `message` for a room event's data, with its message id."""
    try:
        m = _message.decode(data)
        if m.conversation_id != room_id:
            return None
        ts = parse_iso(m.timestamp)
    except _UNDECODABLE:
        return None
    out = MessageOut(m.message_id, m.sender_name, m.content, ts, m.sender_handle, m.file)
    return out, m.message_id


def _translate(payload: bytes, room_id: str) -> Translated | None:
    try:
        pushed = _pushed.decode(payload)
    except _UNDECODABLE:
        return None
    if pushed.type == "ChatMessageReceived":
        found = message_of(pushed.data, room_id)
        if found is None:
            return None
        return Out(_encode(found[0])), found[1]
    if pushed.type == STATUS_TYPE:
        try:
            s = _status.decode(pushed.data)
        except _UNDECODABLE:
            return None
        if s.room_id != room_id:
            return None
        return Out(_encode(UserStatusOut(s.handle, s.username, s.online))), None
    return None


_last: list[tuple[Out | None, str, Translated | None]] = [(None, "", None)]


def translate(out: Out, room_id: str) -> Translated | None:
    src, room, result = _last[0]
    if src is out and room == room_id:
        return result
    result = _translate(out.payload, room_id)
    _last[0] = (out, room_id, result)
    return result
