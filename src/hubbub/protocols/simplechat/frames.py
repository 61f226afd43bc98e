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
    username: Annotated[str, msgspec.Meta(min_length=3, max_length=20)]
    id: Annotated[str, msgspec.Meta(pattern=r"^[a-zA-Z0-9-]+$", max_length=64)]
    token: Annotated[str, msgspec.Meta(max_length=512)] | None = None
    traceparent: Traceparent | None = None


class TextMessage(msgspec.Struct, tag_field="type", tag="text"):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
    traceparent: Traceparent | None = None


class FileBody(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
    type: Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
    size: Annotated[int, msgspec.Meta(ge=1)]
    data: str


class FileMessage(msgspec.Struct, tag_field="type", tag="file"):
    file: FileBody
    traceparent: Traceparent | None = None


ClientMessage = InitMessage | TextMessage | FileMessage


class FileOut(msgspec.Struct):
    name: str
    type: str
    size: int
    url: str


class MessageOut(msgspec.Struct, tag_field="type", tag="message", omit_defaults=True):
    """`sender` is the sender's username; `senderId` (extra) their `id`;
    `file` (extra) is present on a file message."""

    id: str
    sender: str
    content: str
    timestamp: int
    senderId: str = ""
    file: FileOut | None = None


class ErrorOut(msgspec.Struct, tag_field="type", tag="error", omit_defaults=True):
    code: str
    message: str
    path: str | None = None
    retryAfterMs: int | None = None


class UserOut(msgspec.Struct):
    id: str
    username: str
    online: bool
    lastActive: int


class UserDataOut(msgspec.Struct, tag_field="type", tag="userData"):
    users: list[Any]


class UserStatusOut(msgspec.Struct, tag_field="type", tag="userStatus"):
    userId: str
    username: str
    online: bool


class HistoryOut(msgspec.Struct, tag_field="type", tag="history"):
    messages: list[msgspec.Raw]
