"""Voice notes: a message whose content is an audio blob (`chat/voice`).

`SendVoiceMessage` carries the audio as base64. It is decoded strictly, its
size checked against `--voice-max-bytes`, its MIME type against the
allowlist below, and its first bytes against that format's signature (an
`audio/ogg` that is not an Ogg stream is refused), so members are never
handed something else under an audio type. A content problem is not an
error frame: the spec answers `VoiceMessageAck{status: "rejected", reason}`.

The audio is stored in the blob store (`core/blobs.py`), tied to its
conversation (`blob_refs`, for downloads: `core/blob_access.py`), then the
message commits through `Messages.commit_keyed`, so a retry with the same
`client_message_id` answers the first `message_id`; the retry's own copy of
the audio is deleted again (an orphan nobody references).

Members get `VoiceMessageReceived` whose `audio_url` is the stable path
`/v1/blobs/{blob_id}`: fetched with `Authorization`, or through a
short-lived signed URL minted by `POST /v1/blobs/{blob_id}/url` (an event is
stored once and replayed by sync for days, so it cannot carry an expiring
signature). `VoiceMessageDelivered` records a `delivered` receipt and the
sender gets `VoiceMessageAck{status: "delivered"}` on `chat/voice/ack`.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from hubbub.clock import Clock, iso, parse_iso
from hubbub.core.blobs import ORPHAN_AFTER_MS, Blobs
from hubbub.core.context import Caller
from hubbub.core.conversations import Conversations
from hubbub.core.frames import encode, event
from hubbub.core.messages import Messages
from hubbub.core.model import MessageRecord, NewEvent
from hubbub.core.ports.blobs import BlobRefStore
from hubbub.errors import ValidationFailed
from hubbub.ids import new_id

__all__ = [
    "ORPHAN_AFTER_MS",
    "VOICE_PURPOSE",
    "VOICE_TYPES",
    "Voice",
    "VoicePolicy",
    "VoiceResult",
    "sniff",
]

VOICE_PURPOSE = "voice"
MAX_CLIENT_ID = 128


def _ogg(b: bytes) -> bool:
    return b[:4] == b"OggS"


def _webm(b: bytes) -> bool:
    return b[:4] == b"\x1a\x45\xdf\xa3"


def _mp4(b: bytes) -> bool:
    return len(b) >= 12 and b[4:8] == b"ftyp"


def _mpeg(b: bytes) -> bool:
    # An ID3v2 tag, or an MPEG audio frame header (11 sync bits, a layer).
    return b[:3] == b"ID3" or (
        len(b) >= 2 and b[0] == 0xFF and b[1] & 0xE0 == 0xE0 and b[1] & 6 != 0
    )


def _wav(b: bytes) -> bool:
    return len(b) >= 12 and b[:4] == b"RIFF" and b[8:12] == b"WAVE"


# Canonical type -> (file extension, signature check).
VOICE_TYPES: dict[str, tuple[str, Callable[[bytes], bool]]] = {
    "audio/ogg": (".ogg", _ogg),
    "audio/webm": (".webm", _webm),
    "audio/mp4": (".m4a", _mp4),
    "audio/mpeg": (".mp3", _mpeg),
    "audio/wav": (".wav", _wav),
}
_ALIASES = {
    "audio/opus": "audio/ogg",
    "audio/x-m4a": "audio/mp4",
    "audio/m4a": "audio/mp4",
    "audio/aac": "audio/mp4",
    "audio/mp3": "audio/mpeg",
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/vnd.wave": "audio/wav",
}


def sniff(mime: str, data: bytes) -> bool:
    """Whether `data` starts like the (canonical) audio type `mime`."""
    found = VOICE_TYPES.get(mime)
    return found is not None and found[1](data)


@dataclass(frozen=True, slots=True)
class VoicePolicy:
    max_bytes: int
    max_duration_ms: int = 15 * 60 * 1000

    def __post_init__(self) -> None:
        if self.max_bytes < 1 or self.max_duration_ms < 1:
            raise ValueError("--voice-max-bytes and --voice-max-duration-ms must be at least 1")


@dataclass(frozen=True, slots=True)
class VoiceResult:
    """The `VoiceMessageAck` to send: accepted with its message, or rejected why."""

    status: str  # accepted | rejected
    message_id: str | None
    reason: str | None
    timestamp: str


def audio_path(blob_id: str) -> str:
    return f"/v1/blobs/{blob_id}"


class _Rejected(Exception):
    pass


class Voice:
    def __init__(
        self,
        messages: Messages,
        conversations: Conversations,
        blobs: Blobs,
        refs: BlobRefStore,
        clock: Clock,
        policy: VoicePolicy,
    ) -> None:
        self.messages = messages
        self.conversations = conversations
        self.blobs = blobs
        self.refs = refs
        self.clock = clock
        self.policy = policy

    def _audio(self, payload: str, duration_ms: float, mime_type: str) -> tuple[bytes, str]:
        """The decoded audio and its canonical type, or `_Rejected(reason)`."""
        base = mime_type.split(";", 1)[0].strip().lower()
        mime = _ALIASES.get(base, base)
        if mime not in VOICE_TYPES:
            allowed = ", ".join(sorted(VOICE_TYPES))
            raise _Rejected(f"unsupported_type: mime_type must be one of {allowed}")
        limit = self.policy.max_duration_ms
        if not math.isfinite(duration_ms) or not 1 <= duration_ms <= limit:
            raise _Rejected(f"invalid_duration: duration_ms must be 1..{limit}")
        max_bytes = self.policy.max_bytes
        if len(payload) > 4 * ((max_bytes + 2) // 3) + 4:
            raise _Rejected(f"too_large: audio may be at most {max_bytes} bytes")
        try:
            data = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise _Rejected("invalid_base64: audio_payload is not valid base64") from None
        if not data:
            raise _Rejected("empty: audio_payload holds no audio")
        if len(data) > max_bytes:
            raise _Rejected(f"too_large: audio may be at most {max_bytes} bytes")
        if not sniff(mime, data):
            raise _Rejected(f"format_mismatch: the audio is not {mime}")
        return data, mime

    async def send(
        self,
        caller: Caller,
        conversation_id: str,
        audio_payload: str,
        duration_ms: float,
        mime_type: str,
        client_message_id: str | None,
    ) -> VoiceResult:
        await self.conversations.require_member(caller, conversation_id)
        if client_message_id is not None and not 1 <= len(client_message_id) <= MAX_CLIENT_ID:
            raise ValidationFailed(
                f"must be 1-{MAX_CLIENT_ID} characters", path="$.data.client_message_id"
            )
        now = self.clock.now_ms()
        try:
            data, mime = self._audio(audio_payload, duration_ms, mime_type)
        except _Rejected as r:
            return VoiceResult("rejected", None, str(r), iso(now))
        mid = new_id()
        ext = VOICE_TYPES[mime][0]
        meta = await self.blobs.put_checked(
            caller.user_id, VOICE_PURPOSE, f"voice{ext}", mime, data
        )
        await self.refs.put_ref(meta.id, conversation_id, mid, now)
        record = MessageRecord(
            mid, conversation_id, caller.user_id, "voice", now, None, None, client_message_id,
            False, None,
        )  # fmt: skip
        content = {"blob_id": meta.id, "duration_ms": duration_ms, "mime_type": mime}
        fields: dict[str, object] = {"content_type": "voice", "content": encode(content).decode()}
        body: dict[str, Any] = {
            "message_id": mid,
            "conversation_id": conversation_id,
            "sender_id": caller.user_id,
            "audio_url": audio_path(meta.id),
            "duration_ms": duration_ms,
            "mime_type": mime,
            "timestamp": iso(now),
        }
        ev = event("c", conversation_id, "chat/voice", "VoiceMessageReceived", body, mid)
        try:
            rec = await self.messages.commit_keyed(caller, record, fields, ev)
        except ValidationFailed:  # the client id names a message elsewhere: nothing commits
            await self._forget(meta.id, conversation_id)
            raise
        if rec.id != mid:  # a retry: the first message stands, this copy is an orphan
            await self._forget(meta.id, conversation_id)
        return VoiceResult("accepted", rec.id, None, iso(rec.created_at))

    async def _forget(self, blob_id: str, conversation_id: str) -> None:
        await self.refs.delete_ref(blob_id, conversation_id)
        await self.blobs.delete(blob_id)

    async def collect_orphans(self, limit: int = 200) -> int:
        """Delete voice blobs no live message carries any more; how many went.

        Safe on every node at once: deleting an absent blob is a no-op."""
        before = self.clock.now_ms() - ORPHAN_AFTER_MS
        gone = await self.refs.unreferenced(VOICE_PURPOSE, before, limit)
        for blob_id in gone:
            await self.refs.delete_refs(blob_id)
            await self.blobs.delete(blob_id)
        return len(gone)

    async def forward_event(
        self, content: str, to_conversation_id: str, base: dict[str, Any]
    ) -> NewEvent:
        """A forwarded copy's `VoiceMessageReceived`: the copy shares the audio,
        which becomes downloadable by the target's members too."""
        note = msgspec.json.decode(content)
        blob_id = str(note["blob_id"])
        mid = str(base["message_id"])
        await self.refs.put_ref(blob_id, to_conversation_id, mid, self.clock.now_ms())
        body = {
            **base,
            "audio_url": audio_path(blob_id),
            "duration_ms": note["duration_ms"],
            "mime_type": note["mime_type"],
        }
        return event("c", to_conversation_id, "chat/voice", "VoiceMessageReceived", body, mid)

    async def delivered(
        self, caller: Caller, message_id: str, conversation_id: str, received_at: str | None
    ) -> bool:
        """Record that a member's device has the voice note; its sender hears of it.

        Returns False when this member's delivery was already recorded.
        """
        if received_at is not None:
            try:
                parse_iso(received_at)
            except ValueError:
                raise ValidationFailed("not an ISO 8601 time", path="$.data.received_at") from None

        def notice(data: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
            return (
                "chat/voice/ack",
                "VoiceMessageAck",
                {
                    "client_message_id": None,
                    "message_id": data["message_id"],
                    "status": "delivered",
                    "reason": None,
                    "timestamp": data["ack_timestamp"],
                    "conversation_id": data["conversation_id"],
                    "user_id": data["user_id"],
                    "received_at": received_at,
                },
            )

        return await self.messages.acknowledge(
            caller, message_id, conversation_id, "delivered", None, kind="voice", notice=notice
        )
