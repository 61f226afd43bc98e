"""Symbia's rows: what its REST responses (and S2's socket events) carry.

Snake-case rows as Symbia's service returns them (its Conversation,
Participant and Message models); times ISO 8601 UTC. A participant row's
`id` is a UUID derived from (conversation, user), stable across calls.

Who sent or takes part comes from the account's kind (user | agent |
service | bot), never from a request. A message's `sender_type` is the kind
itself (Symbia's Message allows all four); a participant's `user_type` only
`user | agent` in Symbia's OpenAPI, so a service or bot account is `agent`
there: an automated principal, not a person (`user_type_of`).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from hubbub.clock import iso
from hubbub.core.model import AccountKind
from hubbub.core.ports.conversation_details import ConversationRow, ParticipantRow
from hubbub.core.ports.message_details import MessageView, RunState

__all__ = [
    "conversation_row",
    "message_row",
    "participant_id",
    "participant_row",
    "run_row",
    "user_type_of",
]

_NS = uuid.UUID("6b0f6a52-5a8f-4d65-9a53-1c1f3e0b2c11")


def _obj(raw: str | None) -> dict[str, Any]:
    if not raw:
        return {}
    value = json.loads(raw)
    return value if isinstance(value, dict) else {}


def conversation_row(c: ConversationRow) -> dict[str, Any]:
    return {
        "id": c.id,
        "type": c.type,
        "name": c.name,
        "description": c.description,
        "org_id": c.scoping.org_id,
        "created_by": c.created_by,
        "created_at": iso(c.created_at),
        "updated_at": iso(c.updated_at),
        "metadata": _obj(c.metadata),
    }


def user_type_of(kind: AccountKind) -> str:
    """Symbia's `user_type` (user | agent) of an account kind: anything automated is `agent`."""
    return "user" if kind == "user" else "agent"


def participant_id(conversation_id: str, user_id: str) -> str:
    return str(uuid.uuid5(_NS, f"{conversation_id}:{user_id}"))


def participant_row(p: ParticipantRow) -> dict[str, Any]:
    return {
        "id": participant_id(p.conversation_id, p.user_id),
        "conversation_id": p.conversation_id,
        "user_id": p.user_id,
        "user_type": user_type_of(p.kind),
        "role": p.role,
        "joined_at": iso(p.joined_at),
        "last_read_at": iso(p.last_read_at) if p.last_read_at is not None else None,
    }


def _content_type(m: MessageView) -> str:
    if m.details is not None:
        return m.details.content_type
    return "text/plain" if m.content_type == "text" else m.content_type


def message_row(m: MessageView) -> dict[str, Any]:
    d = m.details
    return {
        "id": m.id,
        "conversation_id": m.conversation_id,
        "sender_id": m.sender_id,
        "sender_type": d.sender_type if d else m.sender_kind,
        "content": m.content or "",
        "content_type": _content_type(m),
        "reply_to": m.reply_to,
        "org_id": d.org_id if d else None,
        "run_id": d.run_id if d else None,
        "trace_id": d.trace_id if d else None,
        "sequence": m.pos,
        "priority": (d.priority if d else None) or "normal",
        "interruptible": True if d is None or d.interruptible is None else d.interruptible,
        "preempted_by": d.preempted_by if d else None,
        "created_at": iso(m.created_at),
        "updated_at": iso(m.edited_at) if m.edited_at is not None else None,
        "deleted_at": iso(m.deleted_at) if m.deleted_at is not None else None,
        "metadata": _obj(d.metadata) if d else {},
    }


def run_row(r: RunState) -> dict[str, Any]:
    return {
        "run_id": r.run_id,
        "conversation_id": r.conversation_id,
        "state": r.state,
        "owner_id": r.owner_id,
        "priority": r.priority,
        "interruptible": bool(r.interruptible),
        "preempted_by": r.preempted_by,
        "routed_to": r.routed_to,
        "last_event": r.last_event,
        "last_message_id": r.last_message_id,
        "started_at": iso(r.started_at),
        "updated_at": iso(r.updated_at),
    }
