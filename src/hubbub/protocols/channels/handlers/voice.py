"""`chat/voice` and `chat/voice/ack`: voice notes and their delivery (`core/voice.py`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hubbub.clock import iso
from hubbub.protocols.channels import schema as s
from hubbub.protocols.channels.handlers.base import Handler, Reply

if TYPE_CHECKING:
    from hubbub.protocols.channels.session import Session

__all__ = ["HANDLERS", "PIPELINED"]


async def send_voice(ss: Session, m: s.SendVoiceMessage, _p: dict[str, str]) -> Reply:
    r = await ss.node.voice.send(
        ss.caller, m.conversation_id, m.audio_payload, m.duration_ms, m.mime_type,
        m.client_message_id,
    )  # fmt: skip
    return Reply(
        "chat/voice/ack",
        "VoiceMessageAck",
        {
            "client_message_id": m.client_message_id,
            "message_id": r.message_id,
            "status": r.status,
            "reason": r.reason,
            "timestamp": r.timestamp,
        },
    )


async def voice_delivered(ss: Session, m: s.VoiceMessageDelivered, _p: dict[str, str]) -> Reply:
    changed = await ss.node.voice.delivered(
        ss.caller, m.message_id, m.conversation_id, m.received_at
    )
    return Reply(
        "chat/voice/ack",
        "VoiceMessageAck",
        {
            "client_message_id": None,
            "message_id": m.message_id,
            "status": "delivered",
            "reason": None,
            "timestamp": iso(ss.node.clock.now_ms()),
            "changed": changed,
        },
    )


HANDLERS: dict[tuple[str, str], Handler] = {
    ("chat/voice", "SendVoiceMessage"): send_voice,
    ("chat/voice/ack", "VoiceMessageDelivered"): voice_delivered,
}

PIPELINED: frozenset[tuple[str, str]] = frozenset()
