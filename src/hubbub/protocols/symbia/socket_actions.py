"""Spec 002's writing client events: `message:send`, `message:edit`,
`message:delete`, `control:send`, on the core as it is today.

Kept in this one module so that the Symbia core (its message fields and
stream control, built beside this adapter) can be wired in here alone:

- `message:send` commits a core text message (`Messages.send_text`, keyed
  on the client's `id`, which makes a retry idempotent) and carries the
  Symbia fields (`content_type`, `sender_type` from the account, `run_id`,
  `trace_id`, `priority`, `interruptible`, `preempted_by`, `metadata`) in its
  `ChatMessageReceived` event data, present only when set; the event becomes
  `message:new` for every member's Symbia connections (`events.py`).
- `message:edit` / `message:delete` are the core's (`Edits`): only the sender
  may, and a message of a conversation the caller is not in does not exist.
- `control:send` answers `{success: false}` until the core runs streams.

Every function returns the ack (`{success, ...}`); refusals are typed errors
that the caller (`sockets.py`) turns into `{success: false, error, code}`.
"""

from __future__ import annotations

from typing import Any

import msgspec

from hubbub.clock import iso
from hubbub.core.context import Caller
from hubbub.errors import NotFound, Unavailable, ValidationFailed
from hubbub.protocols.symbia.events import message_row
from hubbub.runtime import Node

__all__ = ["CONTENT_TYPES", "PRIORITIES", "control", "delete", "edit", "send"]

CONTENT_TYPES = ("text/plain", "text/markdown", "application/json")
PRIORITIES = ("low", "normal", "high", "critical")
MAX_ID = 128
MAX_METADATA = 16 * 1024


def _obj(data: object) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValidationFailed("an object expected", path="$.data")
    return data


def _str(d: dict[str, Any], key: str, *, required: bool = False, limit: int = MAX_ID) -> str | None:
    value = d.get(key)
    if value is None:
        if required:
            raise ValidationFailed("required", path=f"$.data.{key}")
        return None
    if not isinstance(value, str) or not value or len(value) > limit:
        raise ValidationFailed(f"a string of 1-{limit} characters expected", path=f"$.data.{key}")
    return value


def message_id_of(data: object, key: str = "messageId") -> str:
    """A bare string id, or `{messageId}` (clients send either)."""
    if isinstance(data, str):
        data = {key: data}
    mid = _str(_obj(data), key, required=True, limit=64)
    assert mid is not None
    return mid


def _symbia_fields(d: dict[str, Any], sender_type: str) -> dict[str, Any]:
    content_type = d.get("contentType") or "text/plain"
    if content_type not in CONTENT_TYPES:
        raise ValidationFailed(
            f"must be one of {', '.join(CONTENT_TYPES)}", path="$.data.contentType"
        )
    extra: dict[str, Any] = {"content_type": content_type, "sender_type": sender_type}
    for wire, key in (
        ("runId", "run_id"),
        ("traceId", "trace_id"),
        ("preemptedBy", "preempted_by"),
    ):
        if (value := _str(d, wire)) is not None:
            extra[key] = value
    priority = d.get("priority")
    if priority is not None:
        if priority not in PRIORITIES:
            raise ValidationFailed(
                f"must be one of {', '.join(PRIORITIES)}", path="$.data.priority"
            )
        extra["priority"] = priority
    interruptible = d.get("interruptible")
    if interruptible is not None:
        if not isinstance(interruptible, bool):
            raise ValidationFailed("a boolean expected", path="$.data.interruptible")
        extra["interruptible"] = interruptible
    metadata = d.get("metadata")
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise ValidationFailed("an object expected", path="$.data.metadata")
        if len(msgspec.json.encode(metadata)) > MAX_METADATA:
            raise ValidationFailed(f"at most {MAX_METADATA} bytes", path="$.data.metadata")
        extra["metadata"] = metadata
    return extra


async def send(node: Node, caller: Caller, sender_type: str, data: object) -> dict[str, Any]:
    d = _obj(data)
    cid = _str(d, "conversationId", required=True, limit=64)
    assert cid is not None
    content = d.get("content")
    if not isinstance(content, str) or not content:
        raise ValidationFailed("a non-empty string expected", path="$.data.content")
    reply_to = _str(d, "replyTo", limit=64)
    client_id = _str(d, "id")
    extra = _symbia_fields(d, sender_type)
    sent = await node.messages.send_text(
        caller, cid, content, "text", client_id, False, None, extra, reply_to=reply_to
    )
    stored = await node.stores.history.message(sent["message_id"])
    event_data = {
        **extra,
        "message_id": sent["message_id"],
        "conversation_id": cid,
        "sender_id": caller.user_id,
        "content": stored.content if stored is not None else content,
        "timestamp": sent["timestamp"],
        "reply_to_id": stored.reply_to_id if stored is not None else reply_to,
    }
    seq = stored.pos if stored is not None else None
    return {"success": True, "message": message_row(event_data, sender_type, sequence=seq)}


async def edit(node: Node, caller: Caller, sender_type: str, data: object) -> dict[str, Any]:
    d = _obj(data)
    mid = message_id_of(d)
    content = d.get("content")
    if not isinstance(content, str) or not content:
        raise ValidationFailed("a non-empty string expected", path="$.data.content")
    found = await node.history.find(caller.user_id, mid)
    msg = await node.edits.edit(caller, found.conversation_id, mid, content)
    event_data = {
        "message_id": msg.id,
        "conversation_id": msg.conversation_id,
        "sender_id": msg.sender_id,
        "content": msg.content,
        "type": msg.content_type,
        "timestamp": iso(msg.created_at),
        "reply_to_id": msg.reply_to_id,
    }
    row = message_row(
        event_data,
        sender_type,
        sequence=msg.pos,
        updated_at=iso(msg.edited_at) if msg.edited_at is not None else None,
    )
    return {"success": True, "message": row}


async def delete(node: Node, caller: Caller, data: object) -> dict[str, Any]:
    mid = message_id_of(data)
    found = await node.history.find(caller.user_id, mid)
    await node.edits.delete(caller, found.conversation_id, mid)
    return {"success": True}


async def control(node: Node, caller: Caller, data: object) -> dict[str, Any]:
    """Not until the core enforces runs: a relayed label would promise what is not kept."""
    d = _obj(data)
    cid = _str(d, "conversationId", required=True, limit=64)
    assert cid is not None
    if caller.user_id not in await node.conversations.members(cid):
        raise NotFound("Not a participant")
    raise Unavailable("stream control is not available on this server yet")
