"""Spec 002's writing client events on the Symbia core, the calls REST makes.

Each event is the same core call as its REST route, so every rule holds on
every transport (docs/symbia.md, "Core calls the real-time adapter shares"):

- `join:conversation`: `conversation_details.role_of` (a participant, and a
  conversation of one of the caller's tenants; else "Not a participant").
- `message:send`: `message_details.send`, the body validated by REST's own
  model (`SymbiaMessageIn`): every Symbia field stored, the client `id`
  idempotent, `sender_type` from the account, the run's state enforced (a
  paused, cancelled or preempted run refuses with REST's typed error), the
  handshake's scope headers stored as REST stores a request's.
- `message:edit` / `message:delete`: `edits.edit|delete` after `role_of`, as
  the PATCH / DELETE routes (sender only, edit history kept). Sockets name
  the message alone: its conversation is read from the store, and a message
  of a conversation the caller is not in does not exist.
- `control:send`: `message_details.control` (`SymbiaControlIn`), with REST's
  role and capability checks; the ack's `control` is the control message.

Acks carry the rows REST returns (`rows.message_row`). Refusals are typed
errors, with field paths under `$.data` (the socket frame's payload), that
the caller (`sockets.py`) turns into `{success: false, error, code}`.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as ModelInvalid

from hubbub.core.context import Caller
from hubbub.core.ports.conversation_details import Scoping
from hubbub.errors import Forbidden, HubbubError, NotFound, ValidationFailed
from hubbub.protocols.symbia.deps import check_id
from hubbub.protocols.symbia.models import SymbiaControlIn, SymbiaEditIn, SymbiaMessageIn
from hubbub.protocols.symbia.rows import message_row
from hubbub.runtime import Node

__all__ = ["control", "delete", "edit", "join", "message_id_of", "send"]

M = TypeVar("M", bound=BaseModel)
MAX_ID = 64


def _obj(data: object) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValidationFailed("an object expected", path="$.data")
    return data


def _id(d: dict[str, Any], key: str, what: str) -> str:
    value = d.get(key)
    if not isinstance(value, str) or not value or len(value) > MAX_ID:
        raise ValidationFailed("an id expected", path=f"$.data.{key}")
    return check_id(value, what)


def conversation_id_of(data: object) -> str:
    """A bare string id (Symbia's clients), or `{conversationId}`."""
    if isinstance(data, str):
        data = {"conversationId": data}
    return _id(_obj(data), "conversationId", "Conversation")


def message_id_of(data: object) -> str:
    """A bare string id, or `{messageId}` (clients send either)."""
    if isinstance(data, str):
        data = {"messageId": data}
    return _id(_obj(data), "messageId", "Message")


def _body(model: type[M], d: dict[str, Any], *skip: str) -> M:
    """The frame's payload checked by the REST route's own body model."""
    try:
        return model.model_validate({k: v for k, v in d.items() if k not in skip})
    except ModelInvalid as exc:
        errors = exc.errors()
        loc = ".".join(str(p) for p in errors[0]["loc"]) if errors else ""
        msg = errors[0]["msg"] if errors else "invalid"
        raise ValidationFailed(msg, path="$.data." + loc if loc else "$.data") from None


def _framed(exc: HubbubError) -> HubbubError:
    """A core error's field path (`$.content`) as the frame's (`$.data.content`)."""
    if exc.path and exc.path.startswith("$.") and not exc.path.startswith(("$.data", "$.headers")):
        exc.path = "$.data." + exc.path[2:]
    return exc


async def join(node: Node, caller: Caller, data: object) -> str:
    cid = conversation_id_of(data)
    await node.conversation_details.role_of(caller, cid)
    return cid


async def send(node: Node, caller: Caller, scope: Scoping, data: object) -> dict[str, Any]:
    d = _obj(data)
    cid = conversation_id_of(d)
    body = _body(SymbiaMessageIn, d, "conversationId")
    try:
        view = await node.message_details.send(caller, cid, **body.core_args(), scope=scope)
    except HubbubError as exc:
        raise _framed(exc) from None
    return {"success": True, "message": message_row(view)}


async def _own_conversation(node: Node, caller: Caller, d: dict[str, Any], mid: str) -> str:
    """The message's conversation, if the caller is in it; else the message does not exist."""
    view = await node.message_details.store.view(mid)
    if view is None or view.deleted_at is not None:
        raise NotFound("message not found")
    if "conversationId" in d and conversation_id_of(d) != view.conversation_id:
        raise NotFound("message not found")
    try:
        await node.conversation_details.role_of(caller, view.conversation_id)
    except (Forbidden, NotFound):
        raise NotFound("message not found") from None
    return view.conversation_id


async def edit(node: Node, caller: Caller, data: object) -> dict[str, Any]:
    d = _obj(data)
    mid = message_id_of(d)
    body = _body(SymbiaEditIn, d, "messageId", "conversationId")
    cid = await _own_conversation(node, caller, d, mid)
    try:
        await node.edits.edit(caller, cid, mid, body.content)
    except HubbubError as exc:
        raise _framed(exc) from None
    view = await node.message_details.store.view(mid)
    if view is None:  # deleted meanwhile
        raise NotFound("message not found")
    return {"success": True, "message": message_row(view)}


async def delete(node: Node, caller: Caller, data: object) -> dict[str, Any]:
    d = {"messageId": data} if isinstance(data, str) else _obj(data)
    mid = message_id_of(d)
    cid = await _own_conversation(node, caller, d, mid)
    await node.edits.delete(caller, cid, mid)
    return {"success": True}


async def control(node: Node, caller: Caller, scope: Scoping, data: object) -> dict[str, Any]:
    d = _obj(data)
    cid = conversation_id_of(d)
    body = _body(SymbiaControlIn, d, "conversationId")
    try:
        view = await node.message_details.control(caller, cid, **body.core_args(), scope=scope)
    except HubbubError as exc:
        raise _framed(exc) from None
    return {"success": True, "control": message_row(view)}
