"""Core frames -> Symbia events for the frames that need no account lookup:
stream control (s_shared #4: the core's `StreamControl` on `chat/messages`
becomes the Socket.IO event its `event` names) and frames Symbia has no word
for. Message, typing and presence events are checked over real sockets in
tests/integration/test_symbia_realtime.py."""

from __future__ import annotations

from typing import Any, cast

import msgspec
import pytest

from hubbub.protocols.symbia.events import STREAM_EVENTS, Translator, event_view
from hubbub.protocols.symbia.rows import message_row
from hubbub.runtime import Node


def frame(channel: str, type_: str, data: dict[str, Any], seq: int | None = None) -> bytes:
    return msgspec.json.encode({"channel": channel, "type": type_, "seq": seq, "data": data})


@pytest.mark.parametrize("event", sorted(STREAM_EVENTS))
async def test_stream_control_becomes_its_event(event: str) -> None:
    t = Translator(cast(Node, None))  # stream control needs no account
    data = {
        "conversation_id": "c1",
        "message_id": "m1",
        "event": event,
        "target": {"principalId": "u2", "principalType": "agent"},
        "reason": "why",
        "preempted_by": "run-2",
        "run_id": "run-1",
        "trace_id": "t1",
        "effective_at": "2026-12-04T00:00:00.000Z",
    }
    out = await t.translate(frame("chat/messages", "StreamControl", data, 9))
    assert out == (
        event,
        {
            "event": event,
            "conversationId": "c1",
            "target": {"principalId": "u2", "principalType": "agent"},
            "reason": "why",
            "preemptedBy": "run-2",
            "runId": "run-1",
            "traceId": "t1",
            "effectiveAt": "2026-12-04T00:00:00.000Z",
        },
        "c1",
    )


async def test_unknown_and_malformed_frames_are_dropped() -> None:
    t = Translator(cast(Node, None))
    bad_event = {"conversation_id": "c1", "event": "stream.explode"}
    assert await t.translate(frame("chat/messages", "StreamControl", bad_event)) is None
    assert await t.translate(frame("chat/polls", "PollCreated", {"poll_id": "p"})) is None
    assert await t.translate(b"not json") is None
    assert await t.translate(msgspec.json.encode({"channel": "x", "data": 3})) is None


def test_event_rows_are_rest_rows_with_defaults_and_symbia_fields() -> None:
    core = {
        "message_id": "m",
        "conversation_id": "c",
        "sender_id": "u",
        "content": "hi",
        "type": "text",
        "timestamp": "2026-12-04T00:00:00.000Z",
    }
    row = message_row(event_view(core, "user", 4))
    assert row["content_type"] == "text/plain" and row["sender_type"] == "user"
    assert row["sequence"] == 4 and row["metadata"] == {} and row["run_id"] is None
    assert row["priority"] == "normal" and row["interruptible"] is True
    assert row["created_at"] == "2026-12-04T00:00:00.000Z" and row["updated_at"] is None
    assert message_row(event_view(core, "agent", 4))["sender_type"] == "agent"
    symbia = {
        **core,
        "content_type": "application/json",
        "sender_type": "agent",
        "run_id": "r",
        "priority": "high",
        "interruptible": False,
        "metadata": {"k": 1},
    }
    row = message_row(event_view(symbia, "user", 5))
    assert row["content_type"] == "application/json" and row["sender_type"] == "agent"
    assert row["run_id"] == "r" and row["priority"] == "high" and row["interruptible"] is False
    assert row["metadata"] == {"k": 1}
