"""Encoding of server frames, done once per event.

A frame is `{"channel", "type", "seq"?, "ref"?, "data"}` (DESIGN.md). The data
of a stored event is already JSON, so it is spliced in as `msgspec.Raw` and
never decoded again, whether the frame goes to one device or a thousand.
"""

from __future__ import annotations

from typing import Any

import msgspec

from hubbub.core.model import NewEvent, Scope, StoredEvent

__all__ = ["Frame", "encode", "encode_frame", "event", "frame_of", "raw_frame"]


class Frame(msgspec.Struct, omit_defaults=True):
    channel: str
    type: str
    seq: int | None = None
    ref: str | None = None
    data: Any = None


_encoder = msgspec.json.Encoder()
encode = _encoder.encode


def event(
    scope: Scope,
    target: str,
    channel: str,
    type_: str,
    data: dict[str, Any],
    message_id: str | None = None,
) -> NewEvent:
    return NewEvent(scope, target, channel, type_, _encoder.encode(data), message_id)


def frame_of(ev: StoredEvent) -> Frame:
    return Frame(ev.channel, ev.type, ev.pos, None, msgspec.Raw(ev.data))


def raw_frame(ev: StoredEvent) -> msgspec.Raw:
    return msgspec.Raw(_encoder.encode(frame_of(ev)))


def encode_frame(
    channel: str, type_: str, data: Any, *, seq: int | None = None, ref: str | None = None
) -> bytes:
    return _encoder.encode(Frame(channel, type_, seq, ref, data))
