"""The committed protobuf classes of spec 004 are what protoc makes of chat.proto,
and they round-trip every event the core emits."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hubbub.core.ports.chatevents import ChatEvent
from hubbub.protocols.chatevents import chat_pb2
from hubbub.protocols.chatevents.codec import as_dict, encode

DIR = Path(__file__).resolve().parents[2] / "src" / "hubbub" / "protocols" / "chatevents"


def test_generated_code_matches_the_proto(tmp_path: Path) -> None:
    pytest.importorskip("grpc_tools")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{DIR}",
            f"--python_out={tmp_path}",
            f"--pyi_out={tmp_path}",
            str(DIR / "chat.proto"),
        ],
        check=True,
    )
    for name in ("chat_pb2.py", "chat_pb2.pyi"):
        assert (tmp_path / name).read_text() == (DIR / name).read_text(), (
            f"{name} is stale: run scripts/gen_chat_proto.sh"
        )


def event(key: str, payload: dict[str, object]) -> ChatEvent:
    return ChatEvent(
        id="e1",
        name="n",
        topic="chat",
        namespace="ns",
        timestamp="2026-01-01T00:00:00.000Z",
        user_id="u1",
        trace_id="t" * 32,
        span_context="00-" + "t" * 32 + "-" + "s" * 16 + "-01",
        payload_key=key,
        payload=payload,
        session_id="s1",
        client_id="c1",
    )


@pytest.mark.parametrize(
    ("key", "payload"),
    [
        (
            "personalChatSent",
            {
                "message_id": "m",
                "sender_id": "a",
                "target_id": "b",
                "payload": "hi",
                "target_type": "user",
                "target_members": ["b"],
            },
        ),
        ("userConnected", {}),
        ("userDisconnected", {"reason": "bye", "code": 1000, "forced": True}),
    ],
)
def test_every_payload_round_trips(key: str, payload: dict[str, object]) -> None:
    ev = event(key, payload)
    msg = chat_pb2.Event.FromString(encode(ev, "protobuf"))
    assert msg.payload.WhichOneof("kind") == key
    got = {f.name: v for f, v in msg.ListFields() if f.name != "payload"}
    want = {k: v for k, v in as_dict(ev).items() if k != "payload" and v not in ("", 0)}
    assert got == want
    sub = getattr(msg.payload, key)
    assert {
        f.name: (v if isinstance(v, str | int | bool) else list(v)) for f, v in sub.ListFields()
    } == {k: v for k, v in payload.items() if v not in ("", 0, False)}
