"""The client fields hubbub adds to spec requests (`protocols/channels/additions.py`).

An addition must keep every frame the spec allows meaning what it meant:
it subclasses the spec's Struct under the same name, adds only optional
fields, and the adapter and the AsyncAPI document both use it.
"""

from __future__ import annotations

import msgspec

from hubbub.protocols.channels.additions import (
    CLIENT_ADDITIONS,
    SendChatMessageWithClientId,
    client_type,
)
from hubbub.protocols.channels.asyncapi import build_asyncapi
from hubbub.protocols.channels.declarations import resolve
from hubbub.protocols.channels.schema import CHANNELS


def test_additions_extend_the_spec_structs_with_optional_fields_only() -> None:
    assert CLIENT_ADDITIONS
    for spec, ours in CLIENT_ADDITIONS.items():
        assert issubclass(ours, spec) and ours.__name__ == spec.__name__
        theirs = {f.name for f in msgspec.structs.fields(spec)}
        added = [f for f in msgspec.structs.fields(ours) if f.name not in theirs]
        assert added, ours
        assert all(not f.required and f.default is None for f in added), ours


def test_the_adapter_decodes_with_the_addition_and_the_spec_frame_still_decodes() -> None:
    found = resolve("chat/messages/ack")
    assert found is not None
    decl = found[0]
    assert decl is CHANNELS["chat/messages/ack"]  # the spec's table is untouched
    assert client_type(decl) is SendChatMessageWithClientId
    assert client_type(CHANNELS["chat/groups"]) is CHANNELS["chat/groups"].client_type
    spec_frame = b'{"conversation_id": "c", "content": "hi"}'
    plain = msgspec.json.decode(spec_frame, type=SendChatMessageWithClientId)
    assert plain.reply_to_id is None and plain.content == "hi"
    with_reply = b'{"conversation_id": "c", "content": "hi", "reply_to_id": "m1"}'
    assert msgspec.json.decode(with_reply, type=SendChatMessageWithClientId).reply_to_id == "m1"


def test_asyncapi_documents_the_added_fields() -> None:
    schemas = build_asyncapi()["components"]["schemas"]
    for name in ("SendChatMessageWithClientId", "SendEncryptedMessage"):
        prop = schemas[name]["properties"]["reply_to_id"]
        assert prop["description"].startswith("(hubbub)")
        assert "reply_to_id" not in schemas[name].get("required", [])
    assert "reply_to_id" in schemas["EncryptedMessageReceived"]["properties"]
    assert "reply_to_id" in schemas["ChatMessageReceived"]["properties"]
