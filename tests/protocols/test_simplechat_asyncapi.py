"""The AsyncAPI document of the public room (spec 001) and the frames it is built from.

The room's decoder and the document come from the same declarations
(`protocols/simplechat/frames.py`): every frame the room accepts or sends is
in it, its references resolve, and it matches the committed snapshot
(`UPDATE_SNAPSHOTS=1` regenerates it). That real frames of a real
connection validate against it is tests/integration/test_simplechat_asyncapi.py.
"""

from __future__ import annotations

import json
import os
import typing
from pathlib import Path
from typing import Any

import pytest

import hubbub
from hubbub.protocols.simplechat.asyncapi import PATHS, build_simplechat_asyncapi
from hubbub.protocols.simplechat.frames import (
    CLIENT_FRAMES,
    ERROR_CODES,
    SERVER_FRAMES,
    ClientMessage,
)

SNAPSHOT = Path(__file__).parent / "snapshots" / "asyncapi-simplechat.json"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build_simplechat_asyncapi()


def _refs(node: Any) -> typing.Iterator[str]:
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_the_decoder_accepts_exactly_the_declared_client_frames() -> None:
    assert set(typing.get_args(ClientMessage)) == set(CLIENT_FRAMES.values())
    for wire, struct in {**CLIENT_FRAMES, **SERVER_FRAMES}.items():
        assert struct.__struct_config__.tag == wire


def test_basics(document: dict[str, Any]) -> None:
    assert document["asyncapi"] == "3.0.0"
    assert document["info"]["title"] == "hubbub public room (spec 001)"
    assert {s["pathname"] for s in document["servers"].values()} == set(PATHS)
    for code in ERROR_CODES:
        assert f"`{code}`" in document["info"]["description"]


def test_every_frame_is_a_message_with_its_schema(document: dict[str, Any]) -> None:
    messages = document["components"]["messages"]
    schemas = document["components"]["schemas"]
    assert set(messages) == set(CLIENT_FRAMES) | set(SERVER_FRAMES)
    for wire, struct in {**CLIENT_FRAMES, **SERVER_FRAMES}.items():
        assert messages[wire]["name"] == wire
        assert messages[wire]["payload"] == {"$ref": f"#/components/schemas/{struct.__name__}"}
        assert schemas[struct.__name__]["properties"]["type"] == {"enum": [wire]}
    actions = {
        op["messages"][0]["$ref"].rsplit("/", 1)[1]: op["action"]
        for op in document["operations"].values()
    }
    assert actions == {
        **dict.fromkeys(CLIENT_FRAMES, "receive"),
        **dict.fromkeys(SERVER_FRAMES, "send"),
    }
    # the loosely typed fields get their real items
    assert schemas["UserDataOut"]["properties"]["users"]["items"] == {
        "$ref": "#/components/schemas/UserOut"
    }
    assert schemas["HistoryOut"]["properties"]["messages"]["items"] == {
        "$ref": "#/components/schemas/MessageOut"
    }


def test_references_resolve(document: dict[str, Any]) -> None:
    refs = list(_refs(document))
    assert refs
    for ref in refs:
        target: Any = document
        assert ref.startswith("#/"), ref
        for part in ref[2:].split("/"):
            assert part in target, ref
            target = target[part]


def test_round_trips_through_json(document: dict[str, Any]) -> None:
    assert json.loads(json.dumps(document)) == document
    assert build_simplechat_asyncapi() == document


def test_snapshot(document: dict[str, Any]) -> None:
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
