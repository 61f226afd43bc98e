"""The payloads of Symbia's real-time events, as models for its AsyncAPI document.

The client events' bodies are the REST routes' own models (`models.py`:
`SymbiaMessageIn`, `SymbiaEditIn`, `SymbiaControlIn`) plus the id that REST
takes from the path; the models here give the shapes `sockets.py` and
`events.py` build by hand (acks and the server events other than the
message row, which is `SymbiaMessageOut`), so that
`asyncapi.build_symbia_asyncapi` can describe every frame and a test can
validate real frames against it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hubbub.protocols.symbia.models import (
    SymbiaControlIn,
    SymbiaEditIn,
    SymbiaMessageIn,
    SymbiaMessageOut,
    UserType,
)

__all__ = ["CLIENT_PAYLOADS", "SERVER_PAYLOADS", "AckError", "AckOk"]

PresenceStatus = Literal["online", "away", "busy", "offline"]


class ConversationRef(BaseModel):
    """A conversation, named by id (a bare string id is accepted too)."""

    model_config = ConfigDict(extra="allow")
    conversationId: str = Field(max_length=64)


class MessageRef(BaseModel):
    """A message, named by id (a bare string id is accepted too)."""

    model_config = ConfigDict(extra="allow")
    messageId: str = Field(max_length=64)


class MessageSendIn(SymbiaMessageIn):
    """`message:send`: REST's message body and the conversation it goes to."""

    conversationId: str = Field(max_length=64)


class MessageEditIn(SymbiaEditIn):
    """`message:edit`: REST's edit body and the message it replaces."""

    messageId: str = Field(max_length=64)
    conversationId: str | None = Field(default=None, max_length=64)


class ControlSendIn(SymbiaControlIn):
    """`control:send`: REST's control body and the conversation of the run."""

    conversationId: str = Field(max_length=64)


class PresenceIn(BaseModel):
    """`presence:update` (a bare status string is accepted too)."""

    status: PresenceStatus


class AckOk(BaseModel):
    """A client event done: `message` for a send or edit, `control` for a
    control event, `expiresAt` for `typing:start`, `status` for a presence update."""

    model_config = ConfigDict(extra="forbid")
    success: Literal[True]
    message: SymbiaMessageOut | None = None
    control: SymbiaMessageOut | None = None
    expiresAt: str | None = Field(default=None, description="ISO 8601: when typing lapses")
    status: PresenceStatus | None = None


class AckError(BaseModel):
    """A client event refused: nothing was stored or sent."""

    model_config = ConfigDict(extra="forbid")
    success: Literal[False]
    error: str
    code: str = Field(description="the typed error code (`validation_failed`, `forbidden`, ...)")
    path: str | None = Field(default=None, description="the refused field, under `$.data`")
    retryAfterMs: int | None = None


class MessageDeletedOut(BaseModel):
    """`message:deleted`."""

    id: str
    conversationId: str


class TypingOut(BaseModel):
    """`typing:started` / `typing:stopped`."""

    conversationId: str
    userId: str
    userType: UserType


class PresenceChangedOut(BaseModel):
    """`presence:changed`."""

    userId: str
    userType: UserType
    agentId: str | None = Field(default=None, description="the agent's username; null for a person")
    status: str


class ParticipantOnlineOut(BaseModel):
    """`participant:online`."""

    conversationId: str
    userId: str
    userType: UserType
    agentId: str | None = None


class StreamControlOut(BaseModel):
    """`stream.pause` ... `stream.priority`: a run's control event."""

    event: str
    conversationId: str
    target: dict[str, Any] | None = None
    reason: str | None = None
    preemptedBy: str | None = None
    runId: str | None = None
    traceId: str | None = None
    effectiveAt: str | int | None = None


# event -> (payload model, whether a bare string id stands for it)
CLIENT_PAYLOADS: dict[str, tuple[type[BaseModel], bool]] = {
    "join:conversation": (ConversationRef, True),
    "leave:conversation": (ConversationRef, True),
    "message:send": (MessageSendIn, False),
    "message:edit": (MessageEditIn, False),
    "message:delete": (MessageRef, True),
    "control:send": (ControlSendIn, False),
    "typing:start": (ConversationRef, True),
    "typing:stop": (ConversationRef, True),
    "presence:update": (PresenceIn, True),
}
STREAM_NAMES = ("pause", "resume", "preempt", "route", "handoff", "cancel", "priority")
SERVER_PAYLOADS: dict[str, type[BaseModel]] = {
    "message:new": SymbiaMessageOut,
    "message:updated": SymbiaMessageOut,
    "message:deleted": MessageDeletedOut,
    "typing:started": TypingOut,
    "typing:stopped": TypingOut,
    "presence:changed": PresenceChangedOut,
    "participant:online": ParticipantOnlineOut,
    **{f"stream.{n}": StreamControlOut for n in STREAM_NAMES},
}
