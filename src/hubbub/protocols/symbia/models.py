"""Symbia's request bodies and response rows as pydantic models: they validate
requests and let `/docs/openapi.json` document every `/api` route with the
shapes of ../shared/spec/symbia-openapi.json (camelCase in, snake_case out)."""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "AddParticipantIn",
    "AdminAddParticipantIn",
    "AdminDetailOut",
    "AdminListOut",
    "BootstrapOut",
    "CapabilityIn",
    "ControlIn",
    "ConversationIn",
    "ConversationOut",
    "ConversationWithParticipantsOut",
    "EditIn",
    "HealthOut",
    "HistoryOut",
    "LoginIn",
    "LoginOut",
    "MessageIn",
    "MessageOut",
    "OrgIn",
    "OrgMemberIn",
    "OrgOut",
    "ParticipantOut",
    "RunOut",
    "SessionOut",
    "StatsOut",
    "UpdateIn",
]

Priority = Literal["low", "normal", "high", "critical"]
UserType = Literal["user", "agent"]
Role = Literal["owner", "admin", "member"]


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, BaseModel):
        return any(_has_nul(v) for v in value.__dict__.values())
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class Body(BaseModel):
    """No string may hold U+0000 (PostgreSQL text cannot store it)."""

    @model_validator(mode="after")
    def _no_nul(self) -> Self:
        if _has_nul(self):
            raise ValueError("strings must not contain U+0000")
        return self


class LoginIn(Body):
    email: str = Field(max_length=254)
    password: str = Field(max_length=1024)


class LoginOut(BaseModel):
    token: str | None = None
    user: dict[str, Any] | None = None


class SessionOut(BaseModel):
    authenticated: bool
    user: dict[str, Any] | None = None


class HealthOut(BaseModel):
    status: str
    service: str


class BootstrapOut(BaseModel):
    service: str
    version: str
    description: str | None = None
    docsUrls: dict[str, Any] | None = None
    endpoints: dict[str, Any] | None = None
    authentication: list[str] | None = None
    websocketEvents: dict[str, Any] | None = None


class ParticipantIn(Body):
    userId: str = Field(max_length=64)
    userType: UserType | None = None


class ConversationIn(Body):
    type: Literal["private", "group"]
    name: str | None = Field(default=None, max_length=256)
    description: str | None = Field(default=None, max_length=2048)
    orgId: str | None = Field(default=None, max_length=64)
    metadata: dict[str, Any] | None = None
    participants: list[ParticipantIn] | None = Field(default=None, max_length=1000)


class UpdateIn(Body):
    name: str | None = Field(default=None, max_length=256)
    description: str | None = Field(default=None, max_length=2048)
    metadata: dict[str, Any] | None = None


class AddParticipantIn(Body):
    userId: str = Field(max_length=64)
    userType: UserType | None = None


class AdminAddParticipantIn(AddParticipantIn):
    role: Role


class MessageIn(Body):
    id: str | None = Field(default=None, max_length=128)
    content: str = Field(max_length=64 * 1024)
    contentType: str | None = Field(default=None, max_length=64)
    replyTo: str | None = Field(default=None, max_length=64)
    metadata: dict[str, Any] | None = None
    runId: str | None = Field(default=None, max_length=64)
    traceId: str | None = Field(default=None, max_length=128)
    priority: Priority | None = None
    interruptible: bool | None = None
    preemptedBy: str | None = Field(default=None, max_length=64)


class Target(Body):
    model_config = ConfigDict(extra="allow")
    principalId: str | None = Field(default=None, max_length=64)
    principalType: Literal["user", "agent", "service", "bot"] | None = None


class ControlIn(Body):
    event: Literal[
        "stream.pause",
        "stream.resume",
        "stream.preempt",
        "stream.route",
        "stream.handoff",
        "stream.cancel",
        "stream.priority",
    ]
    target: Target | None = None
    reason: str | None = Field(default=None, max_length=1024)
    preemptedBy: str | None = Field(default=None, max_length=64)
    runId: str | None = Field(default=None, max_length=64)
    traceId: str | None = Field(default=None, max_length=128)
    metadata: dict[str, Any] | None = None
    priority: Priority | None = Field(
        default=None, description="hubbub: the new priority of `stream.priority`"
    )


class EditIn(Body):
    content: str = Field(max_length=64 * 1024)


class ConversationOut(BaseModel):
    id: str
    type: Literal["private", "group"]
    name: str | None = None
    description: str | None = None
    org_id: str | None = None
    created_by: str
    created_at: str
    updated_at: str
    metadata: dict[str, Any] = Field(default_factory=dict)


class ParticipantOut(BaseModel):
    id: str
    conversation_id: str
    user_id: str
    user_type: UserType
    role: Role
    joined_at: str
    last_read_at: str | None = None


class ConversationWithParticipantsOut(ConversationOut):
    participants: list[ParticipantOut]


class MessageOut(BaseModel):
    id: str
    conversation_id: str
    sender_id: str
    sender_type: Literal["user", "agent", "service", "bot"]
    content: str
    content_type: str
    reply_to: str | None = None
    org_id: str | None = None
    run_id: str | None = None
    trace_id: str | None = None
    sequence: int | None = None
    priority: Priority | None = None
    interruptible: bool | None = None
    preempted_by: str | None = None
    created_at: str
    updated_at: str | None = None
    deleted_at: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class VersionOut(BaseModel):
    version: int
    content: str
    valid_from: str
    replaced_at: str | None = None


class HistoryOut(BaseModel):
    message: MessageOut
    versions: list[VersionOut]


class RunOut(BaseModel):
    run_id: str
    conversation_id: str
    state: Literal["active", "paused", "preempted", "cancelled"]
    owner_id: str
    priority: Priority
    interruptible: bool
    preempted_by: str | None = None
    routed_to: str | None = None
    last_event: str | None = None
    last_message_id: str | None = None
    started_at: str
    updated_at: str


class AdminListOut(BaseModel):
    items: list[ConversationOut]
    conversations: list[ConversationOut]
    limit: int
    offset: int
    total: int


class AdminDetailOut(ConversationOut):
    conversation: ConversationOut
    participants: list[ParticipantOut]
    recentMessages: list[MessageOut]


class StatsOut(BaseModel):
    totalConversations: int
    totalMessages: int
    uniqueParticipants: int
    activeConversations24h: int
    filters: dict[str, Any] | None = None


class OrgIn(Body):
    id: str | None = Field(default=None, max_length=64)
    name: str = Field(max_length=256)


class OrgOut(BaseModel):
    id: str
    name: str
    created_at: str


class OrgMemberIn(Body):
    userId: str = Field(max_length=64)
    role: Literal["admin", "member"] = "member"


class CapabilityIn(Body):
    userId: str = Field(max_length=64)
    capability: Literal["messaging.interrupt", "messaging.route"]
