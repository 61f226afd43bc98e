"""Real frames of real `/api/ws` connections validate against the served AsyncAPI.

The document is fetched from the server (`GET /docs/asyncapi-symbia.json`);
a person and an agent connect to `/api/ws`, join, send, edit, delete, type,
change presence and break rules, and every frame either receives (each ack
and each server event) validates against the schema of its event, as every
client payload they send validates against its client schema.
"""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import jsonschema

from tests.integration.symbia_rt import ApiWs
from tests.support import Api, ServerProcess, hubbub_cli

PW = "correct horse battery"


def validator(doc: dict[str, Any], event: str) -> jsonschema.Draft202012Validator:
    """The payload schema of an event, resolved inside the whole document."""
    [message] = [m for m in doc["components"]["messages"].values() if m["name"] == event]
    return jsonschema.Draft202012Validator({**message["payload"], "components": doc["components"]})


async def test_real_frames_validate_against_the_document(server: ServerProcess, api: Api) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        r = await http.get("/docs/asyncapi-symbia.json")
        assert r.status_code == 200
        llms = await http.get("/docs/llms.txt")
    assert "/docs/asyncapi-symbia.json" in llms.text
    doc = r.json()
    [person] = await api.user(1)
    name = "asy" + secrets.token_hex(4)
    await hubbub_cli(server, "user", "create", name, "--agent", "--password-stdin", stdin=PW)
    key = (await hubbub_cli(server, "api-key", "create", name, "--name", "asy")).strip()
    found = await api.http.get("/v1/users", params={"username": name}, headers={"X-API-Key": key})
    bot_id = found.json()[0]["user_id"]
    cid = await api.direct(person[1], bot_id)

    w_person = await ApiWs.open(server, query=f"token={person[1]}")
    w_bot = await ApiWs.open(server, headers={"X-API-Key": key})
    await w_person.event("participant:online", conversationId=cid, userId=bot_id)
    sent: list[tuple[str, Any]] = []

    async def call(ws: ApiWs, event: str, data: Any) -> Any:
        sent.append((event, data))
        return await ws.call(event, data)

    assert (await call(w_bot, "join:conversation", cid))["success"] is True
    ack = await call(w_bot, "message:send", {"conversationId": cid, "content": "hi", "runId": None})
    mid = ack["message"]["id"]
    await w_person.event("message:new", id=mid)
    assert (await call(w_bot, "message:edit", {"messageId": mid, "content": "hey"}))["success"]
    await w_person.event("message:updated", id=mid)
    assert (await call(w_person, "typing:start", {"conversationId": cid}))["success"]
    await w_bot.event("typing:started", conversationId=cid)
    assert (await call(w_person, "typing:stop", cid))["success"]
    await w_bot.event("typing:stopped", conversationId=cid)
    assert (await call(w_bot, "presence:update", {"status": "busy"}))["success"]
    await w_person.event("presence:changed", userId=bot_id, status="busy")
    assert (await call(w_bot, "message:delete", {"messageId": mid}))["success"]
    await w_person.event("message:deleted", id=mid)
    assert (await call(w_bot, "leave:conversation", cid))["success"]
    ctl = await call(w_bot, "control:send", {"conversationId": cid, "event": "stream.pause"})
    assert ctl["success"] is False
    # refusals are acks too
    bad = await w_bot.call("message:send", {"conversationId": cid, "content": "x", "priority": "?"})
    assert bad["success"] is False and bad["path"] == "$.data.priority"
    assert (await w_bot.call("no:such", {}))["code"] == "bad_frame"
    assert (await w_person.call("message:delete", "nope"))["success"] is False

    checked = set()
    for ws in (w_person, w_bot):
        for event, data in ws.received:
            errors = [e.message for e in validator(doc, event).iter_errors(data)]
            assert not errors, (event, data, errors)
            checked.add(event)
    assert {
        "ack",
        "message:new",
        "message:updated",
        "message:deleted",
        "typing:started",
        "typing:stopped",
        "presence:changed",
        "participant:online",
    } <= checked
    for event, data in sent:
        errors = [e.message for e in validator(doc, event).iter_errors(data)]
        assert not errors, (event, data, errors)
    for ws in (w_person, w_bot):
        await ws.close()
