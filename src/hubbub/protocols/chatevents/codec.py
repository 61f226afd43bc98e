"""A `ChatEvent` on the wire: protobuf (`chat.proto`) or JSON with the same keys.

The JSON form is the seed's example exactly: the envelope's camelCase keys,
and `payload: {<payload key>: {...}}` with the payload's own keys.
"""

from __future__ import annotations

from typing import Any

import msgspec

from hubbub.core.ports.chatevents import ChatEvent
from hubbub.protocols.chatevents import chat_pb2

__all__ = ["CONTENT_TYPES", "as_dict", "encode", "to_proto"]

CONTENT_TYPES = {"protobuf": "application/protobuf", "json": "application/json"}
_json = msgspec.json.Encoder()


def as_dict(ev: ChatEvent) -> dict[str, Any]:
    return {
        "payload": {ev.payload_key: ev.payload},
        "id": ev.id,
        "version": ev.version,
        "name": ev.name,
        "namespace": ev.namespace,
        "parentNamespace": ev.parent_namespace,
        "timestamp": ev.timestamp,
        "clientId": ev.client_id,
        "userId": ev.user_id,
        "traceId": ev.trace_id,
        "sessionId": ev.session_id,
        "spanContext": ev.span_context,
    }


def to_proto(ev: ChatEvent) -> chat_pb2.Event:
    msg = chat_pb2.Event(
        id=ev.id,
        version=ev.version,
        name=ev.name,
        namespace=ev.namespace,
        parentNamespace=ev.parent_namespace,
        timestamp=ev.timestamp,
        clientId=ev.client_id,
        userId=ev.user_id,
        traceId=ev.trace_id,
        sessionId=ev.session_id,
        spanContext=ev.span_context,
    )
    p = ev.payload
    if ev.payload_key == "personalChatSent":
        # Filled in place: no intermediate message to copy, the member ids
        # (1,000 in a big group) appended once.
        sent = msg.payload.personalChatSent
        sent.message_id = p["message_id"]
        sent.sender_id = p["sender_id"]
        sent.target_id = p["target_id"]
        sent.payload = p["payload"]
        sent.target_type = p["target_type"]
        sent.target_members.extend(p["target_members"])
        sent.SetInParent()
    elif ev.payload_key == "userConnected":
        msg.payload.userConnected.SetInParent()
    elif ev.payload_key == "userDisconnected":
        msg.payload.userDisconnected.CopyFrom(
            chat_pb2.UserPayloadDisconnected(
                reason=str(p["reason"]), code=int(p["code"]), forced=bool(p["forced"])
            )
        )
    else:  # pragma: no cover - the core emits only the keys above
        raise ValueError(f"unknown payload key {ev.payload_key!r}")
    return msg


def encode(ev: ChatEvent, fmt: str) -> bytes:
    if fmt == "json":
        return _json.encode(as_dict(ev))
    data: bytes = to_proto(ev).SerializeToString()
    return data
