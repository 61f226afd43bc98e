"""The messages of spec 001, declared once (msgspec Structs).

Client messages are a union tagged by `type`; unknown fields are ignored (the
seed allows additional properties). hubbub reads two optional extras: `token`
on `init` (a hubbub token that binds the `id` to an account, see
`core/rooms.py`) and `traceparent` on any message (W3C trace context for the
chat events of spec 004).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

__all__ = [
    "CLIENT_FRAMES",
    "ERROR_CODES",
    "SERVER_FRAMES",
    "ClientMessage",
    "ErrorOut",
    "FileBody",
    "FileMessage",
    "HistoryOut",
    "InitMessage",
    "MessageOut",
    "TextMessage",
    "UserDataOut",
    "UserOut",
    "UserStatusOut",
]

Traceparent = Annotated[str, msgspec.Meta(max_length=64)]


class InitMessage(msgspec.Struct, tag_field="type", tag="init"):
    """Join the room as `username`; `id` is the client's own, kept across reconnects."""

    username: Annotated[str, msgspec.Meta(min_length=3, max_length=20)]
    id: Annotated[str, msgspec.Meta(pattern=r"^[a-zA-Z0-9-]+$", max_length=64)]
    token: Annotated[str, msgspec.Meta(max_length=512)] | None = None
    traceparent: Traceparent | None = None


class TextMessage(msgspec.Struct, tag_field="type", tag="text"):
    """Say something in the room (after `init`)."""

    text: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
    traceparent: Traceparent | None = None


class FileBody(msgspec.Struct):
    """A file: `size` is the decoded size of `data` (base64) in bytes."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
    type: Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
    size: Annotated[int, msgspec.Meta(ge=1)]
    data: str


class FileMessage(msgspec.Struct, tag_field="type", tag="file"):
    """Share a file in the room (after `init`); everyone gets a `message` with its URL."""

    file: FileBody
    traceparent: Traceparent | None = None


ClientMessage = InitMessage | TextMessage | FileMessage


class FileOut(msgspec.Struct):
    """A shared file: `url` downloads it (for members of the room)."""

    name: str
    type: str
    size: int
    url: str


class MessageOut(msgspec.Struct, tag_field="type", tag="message", omit_defaults=True):
    """A message in the room, to everyone (the sender included).

    `sender` is the sender's username; `senderId` (extra) their `id`;
    `file` (extra) is present on a file message; `timestamp` in epoch ms.
    """

    id: str
    sender: str
    content: str
    timestamp: int
    senderId: str = ""
    file: FileOut | None = None


class ErrorOut(msgspec.Struct, tag_field="type", tag="error", omit_defaults=True):
    """A frame refused: a stable `code`, and `path` naming the field at fault."""

    code: str
    message: str
    path: str | None = None
    retryAfterMs: int | None = None


class UserOut(msgspec.Struct):
    """Someone who has been in the room; `lastActive` in epoch ms."""

    id: str
    username: str
    online: bool
    lastActive: int


class UserDataOut(msgspec.Struct, tag_field="type", tag="userData"):
    """Everyone who has been in the room, sent once after `init`."""

    users: list[Any]


class UserStatusOut(msgspec.Struct, tag_field="type", tag="userStatus"):
    """Someone came online or went offline (`userId` is their `id`)."""

    userId: str
    username: str
    online: bool


class HistoryOut(msgspec.Struct, tag_field="type", tag="history"):
    """The room's most recent `message` frames, oldest first, sent after `userData`."""

    messages: list[msgspec.Raw]


# Every frame of the room, by its `type`, in each direction: what the
# AsyncAPI document (protocols/simplechat/asyncapi.py) is built from.
CLIENT_FRAMES: dict[str, type[msgspec.Struct]] = {
    "init": InitMessage,
    "text": TextMessage,
    "file": FileMessage,
}
SERVER_FRAMES: dict[str, type[msgspec.Struct]] = {
    "userData": UserDataOut,
    "history": HistoryOut,
    "message": MessageOut,
    "userStatus": UserStatusOut,
    "error": ErrorOut,
}
# The `code` of an `error` frame, and when it is sent.
ERROR_CODES: dict[str, str] = {
    "bad_frame": "not JSON, not an object, an unknown or missing `type`, a second `init`",
    "validation_failed": "a field breaks the seed's constraints; `path` names it",
    "not_initialized": "`text` or `file` before `init`",
    "username_taken": "the username is held by another online connection or an account",
    "too_large": "the frame or the file is over its limit",
    "rate_limited": "too many frames; `retryAfterMs` says when to try again",
    "unauthorized": "the hubbub token on `init` is not valid, or the id is an account's",
    "unavailable": "the database or the bus is down for a moment: try again",
    "internal": "the server failed; the connection stays usable",
}
