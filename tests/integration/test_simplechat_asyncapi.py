"""Real frames of a real room connection validate against the served AsyncAPI.

The document is fetched from the server (`GET /docs/asyncapi-simplechat.json`);
two plain WebSocket clients join, talk, share a file, leave and break rules,
and every frame either of them receives, of every server type, validates
against the schema of its `type`, as every valid frame they send validates
against its client schema.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

import httpx
import jsonschema

from tests.roomclient import RoomClient
from tests.support import ServerProcess

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def validator(doc: dict[str, Any], wire: str) -> jsonschema.Draft202012Validator:
    """The schema of a message, resolved inside the whole document."""
    ref = doc["components"]["messages"][wire]["payload"]["$ref"]
    return jsonschema.Draft202012Validator({"$ref": ref, "components": doc["components"]})


async def test_real_frames_validate_against_the_document(server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        r = await http.get("/docs/asyncapi-simplechat.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["info"]["title"] == "hubbub public room (spec 001)"
    sent: list[dict[str, Any]] = []

    a = await RoomClient(server, "/").connect()
    err = await a.error({"type": "text", "text": "too early"})
    assert err["code"] == "not_initialized"
    init_a = {
        "type": "init",
        "username": "asy" + secrets.token_hex(3),
        "id": "asy-" + secrets.token_hex(4),
    }
    sent.append(init_a)
    await a.send(init_a)
    await a.wait_for(lambda f: f.get("type") == "history")
    text = {"type": "text", "text": "hello " + secrets.token_hex(4)}
    sent.append(text)
    await a.send(text)
    await a.wait_for(lambda f: f.get("type") == "message" and f.get("content") == text["text"])
    upload = {
        "type": "file",
        "file": {
            "name": "dot.png",
            "type": "image/png",
            "size": len(PNG),
            "data": base64.b64encode(PNG).decode(),
        },
    }
    sent.append(upload)
    await a.send(upload)
    await a.wait_for(lambda f: f.get("type") == "message" and "file" in f)
    for bad in (
        "not json",
        {"type": "nope"},
        {"type": "text", "text": ""},
        {"type": "init", "username": "x", "id": "y"},
    ):
        await a.error(bad)

    b = await RoomClient(server, "/chat").connect()
    _, history = await b.init()
    assert any(m.get("content") == text["text"] for m in history["messages"])
    assert any("file" in m for m in history["messages"])
    await a.wait_for(
        lambda f: f.get("type") == "userStatus" and f["userId"] == b.handle and f["online"]
    )
    await b.close()
    await a.wait_for(
        lambda f: f.get("type") == "userStatus" and f["userId"] == b.handle and not f["online"]
    )
    await a.close()

    seen = set()
    for frame in [*a.frames, *b.frames]:
        wire = frame["type"]
        assert wire in doc["components"]["messages"], frame
        validator(doc, wire).validate(frame)
        seen.add(wire)
        if wire == "error":
            assert f"`{frame['code']}`" in doc["info"]["description"]
    assert seen == {"userData", "history", "message", "userStatus", "error"}
    for frame in sent:
        validator(doc, frame["type"]).validate(frame)
    # and a frame breaking the seed's constraints does not
    assert not validator(doc, "text").is_valid({"type": "text", "text": ""})
    assert not validator(doc, "init").is_valid({"type": "init", "username": "ab", "id": "a b"})
