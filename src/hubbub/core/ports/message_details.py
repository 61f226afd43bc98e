"""Symbia messages: a core message plus its details row, and agent run state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from hubbub.core.model import AccountKind, MessageRecord, NewEvent, StoredEvent
from hubbub.core.ports.conversation_details import Scoping

__all__ = [
    "DetailRow",
    "MessageDetailStore",
    "MessageView",
    "RunState",
    "SendContext",
    "Transition",
]


@dataclass(slots=True)
class DetailRow:
    content_type: str
    sender_type: str
    run_id: str | None = None
    trace_id: str | None = None
    priority: str | None = None
    interruptible: bool | None = None
    preempted_by: str | None = None
    metadata: str = "{}"
    org_id: str | None = None
    data_class: str = "none"
    service_id: str | None = None
    policy_ref: str | None = None


@dataclass(slots=True)
class RunState:
    conversation_id: str
    run_id: str
    state: str  # active | paused | preempted | cancelled
    owner_id: str
    priority: str
    interruptible: bool
    preempted_by: str | None
    routed_to: str | None
    last_event: str | None
    last_message_id: str | None
    started_at: int
    updated_at: int


# The core's rule, run inside the writer unit with the run's current row (None
# if the run is new): the row to store (None: store nothing), or a refusal
# (an exception, raised by the caller after the unit, with nothing written).
Transition = Callable[[RunState | None], "RunState | Exception | None"]


@dataclass(slots=True)
class MessageView:
    """A message as Symbia lists it: the core row and its details (if any)."""

    id: str
    conversation_id: str
    sender_id: str
    content: str | None
    content_type: str
    reply_to: str | None
    created_at: int
    edited_at: int | None
    deleted_at: int | None
    pos: int | None
    sender_kind: AccountKind  # the sender account's kind: sender_type when no details row
    details: DetailRow | None


@dataclass(slots=True)
class SendContext:
    """What a send checks before its commit, read in one query (`send_context`)."""

    scoping: Scoping  # the conversation's scope (its tenant, data class)
    in_org: bool  # the caller is a member of the conversation's organisation
    reply_ok: bool  # the message replied to is live in this conversation


class MessageDetailStore(Protocol):
    async def send_context(
        self, conversation_id: str, user_id: str, reply_to: str | None
    ) -> SendContext | None:
        """The facts a send's rules need (None: no such conversation): one
        read instead of one per fact (`reply_ok` is False without `reply_to`)."""
        ...

    async def append_detailed(
        self,
        record: MessageRecord,
        fields: dict[str, object],
        event: NewEvent,
        details: DetailRow,
        run_id: str | None,
        transition: Transition | None,
        *,
        instead: tuple[MessageRecord, NewEvent] | None = None,
    ) -> tuple[MessageRecord, StoredEvent | None] | Exception:
        """Append the message, its details and its run's new state in one unit;
        an earlier message with the same (sender, client id) is returned with
        None and nothing written; a refusal of `transition` is returned as is.

        With `instead`, `record.id` is the client's: when a message of its
        sender has that id, `instead` (the same message under a new id) is
        appended; of anyone else, a `Conflict` is returned."""
        ...

    async def view(self, message_id: str) -> MessageView | None: ...
    async def page(
        self, conversation_id: str, limit: int, before: int | None, after: int | None
    ) -> list[MessageView]: ...
    async def runs(self, conversation_id: str) -> list[RunState]: ...
    async def run(self, conversation_id: str, run_id: str) -> RunState | None: ...
