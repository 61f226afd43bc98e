"""The AsyncAPI document of Symbia's real time (spec 002) and what it is built from.

Every client event the connection handles (`sockets.CLIENT_EVENTS`) and
every event the translator can emit is in it with its schema, its
references resolve, and it matches the committed snapshot
(`UPDATE_SNAPSHOTS=1` regenerates it). That real frames of a real `/api/ws`
connection validate against it is tests/integration/test_symbia_asyncapi.py.
"""

from __future__ import annotations

import json
import os
import typing
from pathlib import Path
from typing import Any

import pytest

import hubbub
from hubbub.protocols.symbia.asyncapi import TITLE, build_symbia_asyncapi
from hubbub.protocols.symbia.event_payloads import CLIENT_PAYLOADS, SERVER_PAYLOADS
from hubbub.protocols.symbia.events import STREAM_EVENTS
from hubbub.protocols.symbia.sockets import CLIENT_EVENTS

SNAPSHOT = Path(__file__).parent / "snapshots" / "asyncapi-symbia.json"
TRANSLATED = {
    "message:new",
    "message:updated",
    "message:deleted",
    "typing:started",
    "typing:stopped",
    "presence:changed",
    "participant:online",
} | STREAM_EVENTS


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build_symbia_asyncapi()


def _refs(node: Any) -> typing.Iterator[str]:
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_every_event_is_declared(document: dict[str, Any]) -> None:
    assert set(CLIENT_PAYLOADS) == set(CLIENT_EVENTS)
    assert set(SERVER_PAYLOADS) == TRANSLATED
    names = {m["name"] for m in document["components"]["messages"].values()}
    assert names == set(CLIENT_EVENTS) | TRANSLATED | {"ack"}
    assert document["asyncapi"] == "3.0.0" and document["info"]["title"] == TITLE
    assert {s["pathname"] for s in document["servers"].values()} == {"/socket.io/", "/api/ws"}


def test_every_client_event_is_answered_by_an_ack(document: dict[str, Any]) -> None:
    receives = [op for op in document["operations"].values() if op["action"] == "receive"]
    assert len(receives) == 2 * len(CLIENT_EVENTS)
    for op in receives:
        assert op["reply"]["messages"][0]["$ref"].endswith("/messages/ack")


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
    assert build_symbia_asyncapi() == document


def test_snapshot(document: dict[str, Any]) -> None:
    current = json.loads(json.dumps(document))
    current["info"]["version"] = "<version>"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(current, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        SNAPSHOT.write_text(text, encoding="utf-8")
    assert SNAPSHOT.exists(), "run with UPDATE_SNAPSHOTS=1 to create the snapshot"
    assert json.loads(SNAPSHOT.read_text(encoding="utf-8")) == current
    assert document["info"]["version"] == hubbub.__version__
