"""Symbia's request bodies and response rows as pydantic models: they validate
requests and let `/docs/openapi.json` document every `/api` route with the
shapes of ../shared/spec/symbia-openapi.json (camelCase in, snake_case out)."""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "SymbiaAddParticipantIn",
    "SymbiaAdminAddParticipantIn",
    "SymbiaAdminDetailOut",
    "SymbiaAdminListOut",
    "SymbiaAuthConfigOut",
    "SymbiaBootstrapOut",
    "SymbiaCapabilityIn",
    "SymbiaControlIn",
    "SymbiaConversationIn",
    "SymbiaConversationOut",
    "SymbiaConversationWithParticipantsOut",
    "SymbiaEditIn",
    "SymbiaHealthOut",
    "SymbiaHistoryOut",
    "SymbiaLoginIn",
    "SymbiaLoginOut",
    "SymbiaLogoutOut",
    "SymbiaMeOut",
    "SymbiaMessageIn",
    "SymbiaMessageOut",
    "SymbiaOrgIn",
    "SymbiaOrgMemberIn",
    "SymbiaOrgMemberOut",
    "SymbiaOrgOut",
    "SymbiaParticipantOut",
    "SymbiaRunOut",
    "SymbiaSessionOut",
    "SymbiaStatsOut",
    "SymbiaUpdateIn",
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


class SymbiaLoginIn(Body):
    email: str = Field(max_length=254)
    password: str = Field(max_length=1024)


class SymbiaLoginOut(BaseModel):
    token: str | None = None
    user: dict[str, Any] | None = None


class SymbiaSessionOut(BaseModel):
    authenticated: bool
    user: dict[str, Any] | None = None


class SymbiaHealthOut(BaseModel):
    status: str
    service: str


class SymbiaBootstrapOut(BaseModel):
    service: str
    version: str
    description: str | None = None
    docsUrls: dict[str, Any] | None = None
    endpoints: dict[str, Any] | None = None
    authentication: list[str] | None = None
    websocketEvents: dict[str, Any] | None = None


class SymbiaParticipantIn(Body):
    userId: str = Field(max_length=64)
    userType: UserType | None = None


class SymbiaConversationIn(Body):
    type: Literal["private", "group"]
    name: str | None = Field(default=None, max_length=256)
    description: str | None = Field(default=None, max_length=2048)
    orgId: str | None = Field(default=None, max_length=64)
    metadata: dict[str, Any] | None = None
    participants: list[SymbiaParticipantIn] | None = Field(default=None, max_length=1000)


class SymbiaUpdateIn(Body):
    name: str | None = Field(default=None, max_length=256)
    description: str | None = Field(default=None, max_length=2048)
    metadata: dict[str, Any] | None = None


class SymbiaAddParticipantIn(Body):
    userId: str = Field(max_length=64)
    userType: UserType | None = None


class SymbiaAdminAddParticipantIn(SymbiaAddParticipantIn):
    role: Role


class SymbiaMessageIn(Body):
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

    def core_args(self) -> dict[str, Any]:
        """`MessageDetails.send`'s keywords, the same from REST and the sockets."""
        return {
            "content": self.content,
            "content_type": self.contentType,
            "client_id": self.id,
            "reply_to": self.replyTo,
            "metadata": self.metadata,
            "run_id": self.runId,
            "trace_id": self.traceId,
            "priority": self.priority,
            "interruptible": self.interruptible,
            "preempted_by": self.preemptedBy,
        }


class SymbiaTarget(Body):
    model_config = ConfigDict(extra="allow")
    principalId: str | None = Field(default=None, max_length=64)
    principalType: Literal["user", "agent", "service", "bot"] | None = None


class SymbiaControlIn(Body):
    event: Literal[
        "stream.pause",
        "stream.resume",
        "stream.preempt",
        "stream.route",
        "stream.handoff",
        "stream.cancel",
        "stream.priority",
    ]
    target: SymbiaTarget | None = None
    reason: str | None = Field(default=None, max_length=1024)
    preemptedBy: str | None = Field(default=None, max_length=64)
    runId: str | None = Field(default=None, max_length=64)
    traceId: str | None = Field(default=None, max_length=128)
    metadata: dict[str, Any] | None = None
    priority: Priority | None = Field(
        default=None, description="hubbub: the new priority of `stream.priority`"
    )

    def core_args(self) -> dict[str, Any]:
        """`MessageDetails.control`'s keywords, the same from REST and the sockets."""
        return {
            "event_name": self.event,
            "target": self.target.model_dump(exclude_none=True) if self.target else None,
            "reason": self.reason,
            "preempted_by": self.preemptedBy,
            "run_id": self.runId,
            "trace_id": self.traceId,
            "metadata": self.metadata,
            "priority": self.priority,
        }


class SymbiaEditIn(Body):
    content: str = Field(max_length=64 * 1024)


class SymbiaConversationOut(BaseModel):
    id: str
    type: Literal["private", "group"]
    name: str | None = None
    description: str | None = None
    org_id: str | None = None
    created_by: str
    created_at: str
    updated_at: str
    metadata: dict[str, Any] = Field(default_factory=dict)


class SymbiaParticipantOut(BaseModel):
    id: str
    conversation_id: str
    user_id: str
    user_type: UserType
    role: Role
    joined_at: str
    last_read_at: str | None = None


class SymbiaConversationWithParticipantsOut(SymbiaConversationOut):
    participants: list[SymbiaParticipantOut]


class SymbiaMessageOut(BaseModel):
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


class SymbiaVersionOut(BaseModel):
    version: int
    content: str
    valid_from: str
    replaced_at: str | None = None


class SymbiaHistoryOut(BaseModel):
    message: SymbiaMessageOut
    versions: list[SymbiaVersionOut]


class SymbiaRunOut(BaseModel):
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


class SymbiaAdminListOut(BaseModel):
    items: list[SymbiaConversationOut]
    conversations: list[SymbiaConversationOut]
    limit: int
    offset: int
    total: int


class SymbiaAdminDetailOut(SymbiaConversationOut):
    conversation: SymbiaConversationOut
    participants: list[SymbiaParticipantOut]
    recentMessages: list[SymbiaMessageOut]


class SymbiaStatsOut(BaseModel):
    totalConversations: int
    totalMessages: int
    uniqueParticipants: int
    activeConversations24h: int
    filters: dict[str, Any] | None = None


class SymbiaOrgIn(Body):
    id: str | None = Field(default=None, max_length=64)
    name: str = Field(max_length=256)


class SymbiaOrgOut(BaseModel):
    id: str
    name: str
    created_at: str


class SymbiaOrgMemberIn(Body):
    userId: str = Field(max_length=64)
    role: Literal["admin", "member"] = "member"


class SymbiaCapabilityIn(Body):
    userId: str = Field(max_length=64)
    capability: Literal["messaging.interrupt", "messaging.route"]


class SymbiaOrgMemberOut(BaseModel):
    user_id: str
    role: Literal["admin", "member"]
    added_at: str


class SymbiaLogoutOut(BaseModel):
    ok: bool


class SymbiaMeOut(BaseModel):
    user: dict[str, Any]
    organizations: list[dict[str, Any]]


class SymbiaAuthConfigOut(BaseModel):
    loginUrl: str
    logoutUrl: str
