"""Spec 000 handlers: decode -> core call -> reply. No business rules here.

Each handler gets the connection's `Session`, the validated message Struct and
the channel parameters, and returns the one reply for the frame's `id`: the
spec's own ack message where the spec has one, else `Ack` with the ids
created. Channels without an entry here answer `unavailable`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hubbub.clock import iso
from hubbub.protocols.channels import schema as s

if TYPE_CHECKING:
    from hubbub.protocols.channels.session import Session

__all__ = ["HANDLERS", "PIPELINED", "Handler", "Reply"]


@dataclass(slots=True)
class Reply:
    channel: str
    type: str
    data: Any
    extra_frames: list[tuple[str, str, Any]] = field(default_factory=list)


def ack(channel: str, **ids: Any) -> Reply:
    return Reply(channel, "Ack", {"ids": {k: v for k, v in ids.items() if v is not None}})


Handler = Callable[["Session", Any, dict[str, str]], Awaitable[Reply]]

# Paged syncs a connection may have open (SyncRequest with has_more, awaiting
# SyncAck); request ids are client strings, so the map must not grow unbounded.
MAX_PENDING_SYNCS = 16


async def send_encrypted(ss: Session, m: s.SendEncryptedMessage, _p: dict[str, str]) -> Reply:
    mid, ts, seq = await ss.node.messages.send_encrypted(
        ss.caller,
        m.conversation_id,
        m.ciphertext,
        m.nonce,
        m.algorithm,
        m.key_id,
        m.type,
        m.signature,
    )
    return Reply("chat/messages", "Ack", {"ids": {"message_id": mid}, "timestamp": ts, "seq": seq})


async def send_ack(ss: Session, m: s.SendEncryptedAck, _p: dict[str, str]) -> Reply:
    await ss.node.messages.acknowledge(
        ss.caller, m.message_id, m.conversation_id, m.status or "delivered", m.signature
    )
    return ack("chat/acks", message_id=m.message_id)


async def send_text(ss: Session, m: s.SendChatMessageWithClientId, _p: dict[str, str]) -> Reply:
    data = await ss.node.messages.send_text(
        ss.caller,
        m.conversation_id,
        m.content,
        m.type,
        m.client_message_id,
        bool(m.self_destruct),
        m.ttl_seconds,
    )
    return Reply("chat/messages/ack", "ChatMessageAccepted", data)


async def publish_key(ss: Session, m: s.PublishPublicKey, _p: dict[str, str]) -> Reply:
    data = await ss.node.keys.publish(ss.caller, m.user_id, m.key_id, m.public_key, m.algorithm)
    return ack("crypto/keys", key_id=data["key_id"], user_id=data["user_id"])


async def create_group(ss: Session, m: s.CreateGroup, _p: dict[str, str]) -> Reply:
    conv, created = await ss.node.conversations.create_group(
        ss.caller, m.name, list(m.member_ids), m.client_request_id
    )
    return Reply(
        "chat/groups/ack",
        "CreateGroupAck",
        {
            "client_request_id": m.client_request_id,
            "status": "created" if created else "duplicate",
            "group_id": conv.id,
            "error_code": None,
            "error_message": None,
            "timestamp": iso(ss.node.clock.now_ms()),
        },
    )


async def ack_group_create(ss: Session, m: s.AcknowledgeGroupCreate, _p: dict[str, str]) -> Reply:
    # The client confirms it saw CreateGroupAck; the request must be its own.
    group_id = await ss.node.conversations.find_by_request(ss.caller, m.client_request_id)
    return ack("chat/groups/ack", group_id=group_id, client_request_id=m.client_request_id)


async def leave_group(ss: Session, m: s.LeaveGroup, _p: dict[str, str]) -> Reply:
    data = await ss.node.conversations.leave_group(ss.caller, m.group_id, m.request_id)
    return Reply("group/membership", "LeaveGroupAck", data)


async def update_info_text(ss: Session, m: s.UpdateProfileInfoText, _p: dict[str, str]) -> Reply:
    data = await ss.node.profiles.update_info_text(ss.caller, m.user_id, m.info_text)
    return Reply("profile/info-text", "Ack", {"ids": {"user_id": data["user_id"]}, **data})


async def request_status(ss: Session, m: s.RequestStatus, _p: dict[str, str]) -> Reply:
    data = await ss.node.status.request(ss.caller, m.target)
    return Reply("status/response", "StatusResponseReceived", {"request_id": m.request_id, **data})


async def sync_request(ss: Session, m: s.SyncRequest, _p: dict[str, str]) -> Reply:
    page = await ss.node.sync.page(ss.caller, m.since_sequence, bool(m.full_sync))
    if page.has_more and m.request_id:
        ss.pending_sync.pop(m.request_id, None)
        ss.pending_sync[m.request_id] = page.to_sequence
        while len(ss.pending_sync) > MAX_PENDING_SYNCS:  # forget the oldest job
            del ss.pending_sync[next(iter(ss.pending_sync))]
    return Reply(
        "sync/request",
        "SyncResponse",
        {
            "request_id": m.request_id,
            "from_sequence": page.from_sequence,
            "to_sequence": page.to_sequence,
            "changes": page.changes,
            "has_more": page.has_more,
        },
    )


async def sync_ack(ss: Session, m: s.SyncAck, _p: dict[str, str]) -> Reply:
    await ss.node.sync.ack(ss.caller, m.sequence)
    extra: list[tuple[str, str, Any]] = []
    if m.sync_id in ss.pending_sync:
        page = await ss.node.sync.page(ss.caller, m.sequence)
        if page.has_more:
            ss.pending_sync[m.sync_id] = page.to_sequence
        else:
            del ss.pending_sync[m.sync_id]
        extra.append(
            (
                "sync/changes",
                "SyncChangesReceived",
                {
                    "sync_id": m.sync_id,
                    "sequence": page.to_sequence,
                    "changes": page.changes,
                    "timestamp": iso(ss.node.clock.now_ms()),
                    "has_more": page.has_more,
                },
            )
        )
    return Reply(
        "sync/changes", "Ack", {"ids": {"sync_id": m.sync_id}, "sequence": m.sequence}, extra
    )


def call_signal(channel: str) -> Handler:
    """`call/signaling` and `call/signal` carry the same message; each answers on its own."""

    async def relay(ss: Session, m: s.SendCallSignal, _p: dict[str, str]) -> Reply:
        ts = await ss.node.calls.relay_signal(
            ss.caller, channel, m.call_id, m.to_user_id, m.type, m.payload
        )
        return Reply(channel, "Ack", {"ids": {"call_id": m.call_id}, "timestamp": ts})

    return relay


HANDLERS: dict[tuple[str, str], Handler] = {
    ("chat/messages", "SendEncryptedMessage"): send_encrypted,
    ("chat/acks", "SendEncryptedAck"): send_ack,
    ("chat/messages/ack", "SendChatMessageWithClientId"): send_text,
    ("crypto/keys", "PublishPublicKey"): publish_key,
    ("chat/groups", "CreateGroup"): create_group,
    ("chat/groups/ack", "AcknowledgeGroupCreate"): ack_group_create,
    ("group/membership", "LeaveGroup"): leave_group,
    ("profile/info-text", "UpdateProfileInfoText"): update_info_text,
    ("status/response", "RequestStatus"): request_status,
    ("sync/request", "SyncRequest"): sync_request,
    ("sync/changes", "SyncAck"): sync_ack,
    ("call/signaling", "SendCallSignal"): call_signal("call/signaling"),
    ("call/signal", "SendCallSignal"): call_signal("call/signal"),
}

# Handlers that make exactly one write and that a later frame of the same
# connection cannot depend on before its reply: the reader may go on to the
# next frame once their write is queued (see `core/ordering.py`).
PIPELINED: frozenset[tuple[str, str]] = frozenset(
    {
        ("chat/messages", "SendEncryptedMessage"),
        ("chat/acks", "SendEncryptedAck"),
        ("chat/messages/ack", "SendChatMessageWithClientId"),
    }
)
