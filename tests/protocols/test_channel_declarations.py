"""The spec-000 declarations against the spec's own channel index.

The index ships inside the package (spec-000-channels.json), so these tests
prove coverage without the shared spec directory: every channel, message and
field is declared with a compatible type, the generated module is up to date,
and the AsyncAPI document built from it matches the committed snapshot
(`UPDATE_SNAPSHOTS=1 pytest tests/protocols` rewrites it).
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import json
import os
import sys
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import Any

import msgspec
import pytest

import hubbub
from hubbub.errors import HubbubError
from hubbub.protocols.channels import schema
from hubbub.protocols.channels.asyncapi import build_asyncapi
from hubbub.protocols.channels.declarations import (
    ERROR_CODES,
    EXTRA_SERVER_EVENTS,
    HUBBUB_CHANNELS,
    REQUIRES_SUBSCRIPTION,
    Ack,
    Authenticate,
    ChatMessageReceived,
    ClientFrame,
    ClientMessage,
    ErrorData,
    ServerFrame,
    ServerMessage,
    resolve,
)
from hubbub.protocols.channels.schema import CHANNELS

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = Path(__file__).parent / "snapshots" / "asyncapi.json"
SPEC_BYTES = (resources.files("hubbub.protocols.channels") / "spec-000-channels.json").read_bytes()
SPEC: dict[str, Any] = json.loads(SPEC_BYTES)
SPEC_CHANNELS: list[dict[str, Any]] = SPEC["channels"]

_JSON_TYPES: dict[type[msgspec.inspect.Type], str] = {
    msgspec.inspect.StrType: "string",
    msgspec.inspect.IntType: "integer",
    msgspec.inspect.FloatType: "number",
    msgspec.inspect.BoolType: "boolean",
    msgspec.inspect.DictType: "object",
    msgspec.inspect.ListType: "array",
}


def _json_type(t: msgspec.inspect.Type) -> tuple[str, bool]:
    """(JSON type, nullable) of a Struct field's type."""
    if isinstance(t, msgspec.inspect.Metadata):
        return _json_type(t.type)
    if isinstance(t, msgspec.inspect.UnionType):
        rest = [u for u in t.types if not isinstance(u, msgspec.inspect.NoneType)]
        assert len(rest) == 1, t
        return _json_type(rest[0])[0], True
    return _JSON_TYPES[type(t)], False


DIRECTIONS = (("client_to_server", "client"), ("server_to_client", "server"))


# --- (a), (b) coverage of the spec ---------------------------------------------


def test_there_are_104_channels() -> None:
    assert len(SPEC_CHANNELS) == 104
    assert len(CHANNELS) == 104


def test_channels_are_exactly_the_spec_channels() -> None:
    assert list(CHANNELS) == [c["channel"] for c in SPEC_CHANNELS]
    for name, decl in CHANNELS.items():
        assert decl.name == name


@pytest.mark.parametrize("channel", SPEC_CHANNELS, ids=lambda c: c["channel"])
def test_channel_messages_and_fields_match_the_spec(channel: dict[str, Any]) -> None:
    decl = CHANNELS[channel["channel"]]
    assert decl.description == " ".join(channel["description"].split())
    for key, direction in DIRECTIONS:
        spec_msg = channel.get(key)
        message = decl.client_message if direction == "client" else decl.server_message
        struct = decl.client_type if direction == "client" else decl.server_type
        if spec_msg is None:
            assert message is None and struct is None
            continue
        assert message == spec_msg["message"]
        assert struct is not None
        assert issubclass(struct, ClientMessage if direction == "client" else ServerMessage)
        assert not struct.__struct_config__.omit_defaults
        params = inspect.signature(struct).parameters.values()
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params)
        info = msgspec.inspect.type_info(struct)
        assert isinstance(info, msgspec.inspect.StructType)
        assert [f.encode_name for f in info.fields] == [f["name"] for f in spec_msg["fields"]]
        for field, spec_field in zip(info.fields, spec_msg["fields"], strict=True):
            json_type, nullable = _json_type(field.type)
            assert json_type == spec_field["type"], (struct.__name__, field.name)
            assert nullable == (not field.required), (struct.__name__, field.name)
            if direction == "server":
                assert not field.required and field.default is None


def test_one_class_per_message_name_unless_fields_differ() -> None:
    by_name: dict[str, set[type[msgspec.Struct]]] = {}
    for decl in CHANNELS.values():
        for name, struct in (
            (decl.client_message, decl.client_type),
            (decl.server_message, decl.server_type),
        ):
            if name is not None and struct is not None:
                by_name.setdefault(name, set()).add(struct)
    # SendCallSignal / CallSignalReceived appear on call/signaling and call/signal.
    assert CHANNELS["call/signaling"].client_type is CHANNELS["call/signal"].client_type
    assert CHANNELS["call/signaling"].server_type is CHANNELS["call/signal"].server_type
    assert all(len(structs) == 1 for structs in by_name.values())


def test_id_lists_are_lists_of_strings() -> None:
    group = msgspec.json.decode(b'{"name": "g", "member_ids": ["a"]}', type=schema.CreateGroup)
    assert group.member_ids == ["a"]
    with pytest.raises(msgspec.ValidationError, match=r"at `\$\.member_ids\[0\]`"):
        msgspec.json.decode(b'{"name": "g", "member_ids": [1]}', type=schema.CreateGroup)


def test_generated_module_is_up_to_date() -> None:
    assert schema.SPEC_SHA256 == hashlib.sha256(SPEC_BYTES).hexdigest()
    if importlib.util.find_spec("ruff") is None:
        pytest.skip("ruff is not installed")
    gen = _load_generator()
    expected = gen.format_source(gen.render(SPEC, hashlib.sha256(SPEC_BYTES).hexdigest()))
    actual = (ROOT / "src" / "hubbub" / "protocols" / "channels" / "schema.py").read_text()
    assert actual == expected, "run: python scripts/gen_channels.py"


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_channels", ROOT / "scripts" / "gen_channels.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


# --- (c) decoding and validation -----------------------------------------------


def test_decoding_a_valid_client_payload() -> None:
    data = b"""{"conversation_id": "c1", "content": "hi", "type": "text",
                "self_destruct": true, "ttl_seconds": 30, "extra": "ignored"}"""
    msg = msgspec.json.decode(data, type=schema.SendChatMessageWithClientId)
    assert msg.conversation_id == "c1" and msg.content == "hi"
    assert msg.self_destruct is True and msg.ttl_seconds == 30
    assert msg.client_message_id is None


def test_optional_fields_follow_the_rules() -> None:
    fields = {f.name: f for f in msgspec.structs.fields(schema.UpsertGroupEvent)}
    assert fields["group_id"].required and fields["title"].required
    assert not fields["event_id"].required  # "omit for create"
    assert not fields["request_id"].required
    encrypted = {f.name: f for f in msgspec.structs.fields(schema.SendEncryptedMessage)}
    assert all(encrypted[n].required for n in ("conversation_id", "ciphertext", "nonce", "key_id"))
    assert not encrypted["signature"].required


def test_missing_required_field_is_a_validation_error_naming_the_field() -> None:
    with pytest.raises(msgspec.ValidationError, match="`content`"):
        msgspec.json.decode(b'{"conversation_id": "c1"}', type=schema.SendChatMessageWithClientId)


def test_wrong_type_is_a_validation_error_with_the_field_path() -> None:
    data = b'{"conversation_id": "c1", "content": "hi", "ttl_seconds": "soon"}'
    with pytest.raises(msgspec.ValidationError, match=r"at `\$\.ttl_seconds`"):
        msgspec.json.decode(data, type=schema.SendChatMessageWithClientId)


def test_numbers_accept_integers_and_booleans_are_strict() -> None:
    voice = (
        b'{"conversation_id": "c", "audio_payload": "AA==", "duration_ms": 1200, "mime_type": "a"}'
    )
    assert msgspec.json.decode(voice, type=schema.SendVoiceMessage).duration_ms == 1200.0
    with pytest.raises(msgspec.ValidationError, match=r"\$\.pinned"):
        msgspec.json.decode(b'{"conversation_id": "c", "pinned": "yes"}', type=schema.SetChatPinned)


def test_server_messages_encode_missing_values_as_null() -> None:
    encoded = msgspec.json.encode(schema.ChatMessageAccepted(message_id="m1"))
    assert json.loads(encoded) == {
        "client_message_id": None,
        "message_id": "m1",
        "timestamp": None,
        "self_destruct": None,
        "expires_at": None,
    }


def test_client_frame_defaults_and_raw_data() -> None:
    frame = msgspec.json.decode(
        b'{"type": "Authenticate", "data": {"token": "t"}}', type=ClientFrame
    )
    assert frame.id is None and frame.channel == ""
    assert msgspec.json.decode(frame.data, type=Authenticate) == Authenticate(token="t")
    bare = msgspec.json.decode(
        b'{"channel": "broadcast/news", "type": "Subscribe"}', type=ClientFrame
    )
    assert bytes(bare.data) == b"{}"
    with pytest.raises(msgspec.ValidationError, match="`type`"):
        msgspec.json.decode(b'{"channel": "chat/messages"}', type=ClientFrame)


def test_server_frame_omits_unset_seq_and_ref() -> None:
    ack = ServerFrame(channel="chat/groups", type="Ack", ref="r-1", data=Ack(ids={"group_id": "g"}))
    assert json.loads(msgspec.json.encode(ack)) == {
        "channel": "chat/groups",
        "type": "Ack",
        "ref": "r-1",
        "data": {"ids": {"group_id": "g"}},
    }
    error = ServerFrame(channel="", type="Error", data=ErrorData(code="bad_frame", message="x"))
    assert json.loads(msgspec.json.encode(error))["data"] == {
        "code": "bad_frame",
        "message": "x",
        "path": None,
        "retry_after_ms": None,
    }
    event = ServerFrame(channel="chat/messages", type="ChatMessageReceived", seq=7, data={})
    assert json.loads(msgspec.json.encode(event)) == {
        "channel": "chat/messages",
        "type": "ChatMessageReceived",
        "seq": 7,
        "data": {},
    }


def test_extra_server_events() -> None:
    assert EXTRA_SERVER_EVENTS[("chat/messages", "ChatMessageReceived")] is ChatMessageReceived
    for channel, _ in EXTRA_SERVER_EVENTS:
        assert channel in CHANNELS or channel in HUBBUB_CHANNELS
    assert not HUBBUB_CHANNELS.keys() & CHANNELS.keys()  # hubbub's channels are its own
    fields = [f.name for f in msgspec.structs.fields(ChatMessageReceived)]
    assert fields == [
        "message_id",
        "conversation_id",
        "sender_id",
        "content",
        "type",
        "timestamp",
        "self_destruct",
        "expires_at",
        # optional, present only when set (a Symbia message, spec 002)
        "content_type",
        "sender_type",
        "run_id",
        "trace_id",
        "priority",
        "interruptible",
        "preempted_by",
        "metadata",
        "org_id",
        "reply_to_id",
    ]


def test_error_codes_match_the_error_hierarchy() -> None:
    def codes(cls: type[HubbubError]) -> set[str]:
        return {cls.code}.union(*(codes(sub) for sub in cls.__subclasses__()))

    assert set(ERROR_CODES) == codes(HubbubError)


# --- (d) channel resolution ----------------------------------------------------


def test_resolve_exact_names() -> None:
    for name, decl in CHANNELS.items():
        if "{" not in name:
            assert resolve(name) == (decl, {})


@pytest.mark.parametrize(
    ("address", "template", "params"),
    [
        ("broadcast/news", "broadcast/{channel_id}", {"channel_id": "news"}),
        ("call/groups/abc/signal", "call/groups/{call_id}/signal", {"call_id": "abc"}),
        ("call/groups/abc/control", "call/groups/{call_id}/control", {"call_id": "abc"}),
        ("call/groups/c-1/ack", "call/groups/{call_id}/ack", {"call_id": "c-1"}),
        ("ai/chat/c1/messages", "ai/chat/{conversation_id}/messages", {"conversation_id": "c1"}),
        ("ai/chat/c1/events", "ai/chat/{conversation_id}/events", {"conversation_id": "c1"}),
    ],
)
def test_resolve_templates(address: str, template: str, params: dict[str, str]) -> None:
    assert resolve(address) == (CHANNELS[template], params)


def test_exact_name_wins_over_template() -> None:
    found = resolve("broadcast/messages")
    assert found is not None
    assert found[0].name == "broadcast/messages" and found[1] == {}


@pytest.mark.parametrize(
    "address",
    [
        "broadcast/",
        "broadcast/a/b",
        "call/groups//signal",
        "call/groups/a/b/signal",
        "broadcast/{channel_id}",
        "ai/chat//messages",
        "chat/nope",
        "",
        "chat/messages/",
        "/chat/messages",
    ],
)
def test_resolve_rejects(address: str) -> None:
    assert resolve(address) is None


def test_parameters_of_templated_channels() -> None:
    assert CHANNELS["call/groups/{call_id}/signal"].parameters == ("call_id",)
    assert CHANNELS["chat/messages"].parameters == ()
    assert REQUIRES_SUBSCRIPTION <= set(CHANNELS)


# --- (e) AsyncAPI --------------------------------------------------------------


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build_asyncapi()


def test_asyncapi_basics(document: dict[str, Any]) -> None:
    assert document["asyncapi"] == "3.0.0"
    assert document["info"]["title"] == "hubbub realtime API (spec 000)"
    assert "server's point of view" in document["info"]["description"]
    for code in ERROR_CODES:
        assert f"`{code}`" in document["info"]["description"]
    assert document["servers"]["hubbub"]["pathname"] == "/ws"


def test_asyncapi_has_every_channel_and_message(document: dict[str, Any]) -> None:
    addresses = {c["address"] for c in document["channels"].values()}
    assert {c["channel"] for c in SPEC_CHANNELS} <= addresses
    names = {m["name"] for m in document["components"]["messages"].values()}
    for channel in SPEC_CHANNELS:
        for key, _ in DIRECTIONS:
            if channel.get(key):
                assert channel[key]["message"] in names
    assert {"Authenticate", "Subscribe", "Unsubscribe", "Ack", "Error"} <= names
    assert {name for _, name in EXTRA_SERVER_EVENTS} <= names


def test_asyncapi_references_resolve(document: dict[str, Any]) -> None:
    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                yield node["$ref"]
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    for ref in walk(document):
        target: Any = document
        assert ref.startswith("#/"), ref
        for part in ref[2:].split("/"):
            assert part in target, ref
            target = target[part]


def test_asyncapi_round_trips_through_json(document: dict[str, Any]) -> None:
    assert json.loads(json.dumps(document)) == document
    assert build_asyncapi() == document


def test_asyncapi_absolute_server_url() -> None:
    server = build_asyncapi("wss://chat.example.com/ws")["servers"]["hubbub"]
    assert server["host"] == "chat.example.com"
    assert server["protocol"] == "wss" and server["pathname"] == "/ws"


def test_asyncapi_snapshot(document: dict[str, Any]) -> None:
    # The version is masked so a release bump does not need a new snapshot.
    current = json.loads(json.dumps(document))
    current["info"]["version"] = "<version>"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(current, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        SNAPSHOT.write_text(text, encoding="utf-8")
    assert SNAPSHOT.exists(), "run with UPDATE_SNAPSHOTS=1 to create the snapshot"
    assert json.loads(SNAPSHOT.read_text(encoding="utf-8")) == current
    assert document["info"]["version"] == hubbub.__version__
