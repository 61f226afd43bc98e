"""Records that cross the core/store boundary.

Events are stored in the wire vocabulary of spec 000 (channel, type, data):
the change feed returns each one exactly as it was pushed live, so the data
is encoded once, at write time, and never re-rendered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import msgspec

__all__ = [
    "ACCOUNT_KINDS",
    "AccountKind",
    "Block",
    "Conversation",
    "Member",
    "MessageRecord",
    "NewEvent",
    "Notification",
    "Scope",
    "StoredEvent",
    "TokenInfo",
    "User",
    "account_kind",
]

Scope = Literal["c", "u", "a", "b"]
"""c: a conversation's members; u: one user; a: everyone sharing a conversation
with the actor (the actor included)."""


@dataclass(slots=True)
class NewEvent:
    scope: Scope
    target: str
    channel: str
    type: str
    data: bytes
    message_id: str | None = None


@dataclass(slots=True)
class StoredEvent:
    pos: int
    scope: str
    target: str
    channel: str
    type: str
    data: bytes


AccountKind = Literal["user", "agent", "service", "bot"]
# What an account is: a person, or one of three kinds of automated principal
# (Symbia's `sender_type`). Only a person must have a password.
ACCOUNT_KINDS: tuple[AccountKind, ...] = ("user", "agent", "service", "bot")
_KINDS: dict[str, AccountKind] = {k: k for k in ACCOUNT_KINDS}


def account_kind(value: object) -> AccountKind:
    """A stored kind as the type says (a value no release wrote reads as `user`)."""
    return _KINDS.get(str(value), "user")


@dataclass(slots=True)
class User:
    id: str
    username: str
    display_name: str
    phone: str | None
    email: str | None
    info_text: str
    info_text_updated_at: int | None
    last_seen_at: int | None
    created_at: int
    password_hash: str = field(default="", repr=False)
    is_admin: bool = False
    kind: AccountKind = "user"
    deactivated_at: int | None = None
    deletion_requested_at: int | None = None

    @property
    def is_agent(self) -> bool:
        """An account of kind `agent` (the agent checks: Symbia's `agentId`)."""
        return self.kind == "agent"

    @property
    def automated(self) -> bool:
        """Not a person (agent, service, bot): may have no password."""
        return self.kind != "user"


@dataclass(slots=True)
class TokenInfo:
    """A token (one signed-in device) as stored: never the token itself.

    `token_id` is the opaque handle clients see (`GET /v1/auth/tokens`); the
    hash never leaves the server. `last_used_at` is refreshed at most once a
    minute (see `Accounts.authenticate`).
    """

    user_id: str
    device_id: str
    token_hash: str
    token_id: str = ""
    created_at: int = 0
    last_used_at: int | None = None
    # "token" (a signed-in device) or "api_key" (`core/apikeys.py`); an API
    # key may be read-only. `token_hash` is then the key's hash: revoking
    # either kind closes the connections made with it the same way.
    kind: str = "token"
    read_only: bool = False


@dataclass(slots=True)
class Block:
    """`blocker_id` blocked `blocked_id` at `created_at`."""

    blocker_id: str
    blocked_id: str
    created_at: int


@dataclass(slots=True)
class Member:
    user_id: str
    role: str


@dataclass(slots=True)
class Conversation:
    id: str
    kind: str
    name: str | None
    creator_id: str | None
    created_at: int
    members: list[Member]


@dataclass(slots=True)
class MessageRecord:
    id: str
    conversation_id: str
    sender_id: str
    kind: str
    created_at: int
    expires_at: int | None
    deleted_at: int | None
    client_message_id: str | None
    self_destruct: bool
    event_pos: int | None


class Notification(msgspec.Struct, array_like=True, gc=False):
    """What the bus carries between nodes: a pre-encoded frame and who gets it.

    `frame` is the complete server frame, encoded once for every recipient.
    `skip_conn` spares the connection that caused the event (it got a reply).
    `invalidate` names conversations whose membership (or, for a direct
    conversation, block state) changed, so every node drops what it cached
    about them. `revoke_token` closes connections that
    authenticated with that (hashed) token. `pos` is the stream position of
    a durable event (None for ephemeral pushes): nodes deliver in `pos`
    order and fetch from the database whatever positions never announced.
    """

    frame: bytes = b""
    recipients: list[str] = []
    skip_conn: str | None = None
    invalidate: list[str] = []
    revoke_token: str | None = None
    pos: int | None = None
