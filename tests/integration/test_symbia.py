"""Symbia (spec 002) REST over real HTTP: sign-in and the three credentials,
conversations and participants with Symbia's statuses, messages with their
fields, idempotent sends, edit history, and the cross-protocol path to `/ws`."""

from __future__ import annotations

import secrets

from tests.integration.symbia import client, group, login, person
from tests.support import Api, Client, ServerProcess


async def test_login_session_cookie_api_key_and_logout(server: ServerProcess) -> None:
    alice = await person(server)
    r = await login(server, alice.email)
    assert r.status_code == 200
    body = r.json()
    assert body["user"]["id"] == alice.user_id and body["user"]["email"] == alice.email
    assert body["user"]["organizations"] == [] and body["user"]["type"] == "user"
    cookie = r.cookies["token"]
    assert cookie == body["token"]
    assert "httponly" in r.headers["set-cookie"].lower()
    assert "samesite=lax" in r.headers["set-cookie"].lower()

    bad = await login(server, alice.email, "wrong password!")
    assert bad.status_code == 401 and bad.json()["message"] == "Invalid email or password"
    unknown = await login(server, "nobody@example.test")
    assert unknown.status_code == 401

    async with client(server) as anon:
        s = await anon.get("/api/auth/session")
        assert s.status_code == 200 and s.json() == {"authenticated": False}
        r401 = await anon.get("/api/conversations")
        assert r401.status_code == 401 and r401.json() == {"error": "Authentication required"}
        for name in ("token", "symbia_session"):
            got = await anon.get("/api/auth/session", cookies={name: cookie})
            assert got.json()["authenticated"] is True
            assert got.json()["user"]["id"] == alice.user_id
            listed = await anon.get("/api/conversations", cookies={name: cookie})
            assert listed.status_code == 200 and listed.json() == []
        # An API key of the user's own, made over REST with a session token.
        k = await anon.post(
            "/v1/api-keys", json={"name": "agent"}, headers={"Authorization": f"Bearer {cookie}"}
        )
        assert k.status_code == 201, k.text
        key = k.json()["key"]
        mine = await anon.get("/api/auth/session", headers={"X-API-Key": key})
        assert mine.json()["user"]["id"] == alice.user_id
        made = await anon.post(
            "/api/conversations",
            json={"type": "group", "name": "by key"},
            headers={"X-API-Key": key},
        )
        assert made.status_code == 201
        revoked = await anon.delete(
            f"/v1/api-keys/{k.json()['key_id']}", headers={"Authorization": f"Bearer {cookie}"}
        )
        assert revoked.status_code == 204
        gone = await anon.get("/api/conversations", headers={"X-API-Key": key})
        assert gone.status_code == 401
        # The first credential present decides: a bad bearer is not saved by a cookie.
        mixed = await anon.get(
            "/api/conversations",
            headers={"Authorization": "Bearer nope"},
            cookies={"token": cookie},
        )
        assert mixed.status_code == 401
        out = await anon.post("/api/auth/logout", cookies={"token": cookie})
        assert out.status_code == 200
        after = await anon.get("/api/auth/session", cookies={"token": cookie})
        assert after.json() == {"authenticated": False}
    await alice.aclose()


async def test_health_and_bootstrap(server: ServerProcess) -> None:
    async with client(server) as anon:
        assert (await anon.get("/api/health")).json() == {"status": "ok", "service": "messaging"}
        boot = (await anon.get("/api/bootstrap")).json()
        assert "message:send" in boot["websocketEvents"]["client"]
        assert "stream.preempt" in boot["websocketEvents"]["server"]
        assert boot["version"] and boot["service"] == "messaging"


async def test_conversation_and_participant_lifecycle(server: ServerProcess) -> None:
    owner, bob, carol, outsider = [await person(server) for _ in range(4)]
    bot = await person(server, agent=True)
    conv = await group(owner, bob, bot, description="d", metadata={"k": [1, 2]})
    cid = conv["id"]
    assert conv["type"] == "group" and conv["metadata"] == {"k": [1, 2]}
    parts = {p["user_id"]: p for p in conv["participants"]}
    assert parts[owner.user_id]["role"] == "owner" and parts[bob.user_id]["role"] == "member"
    assert parts[bot.user_id]["user_type"] == "agent"
    assert parts[owner.user_id]["user_type"] == "user"

    got = await bob.ok("GET", f"/conversations/{cid}")
    assert {p["user_id"] for p in got["participants"]} == set(parts)
    assert [c["id"] for c in await bob.ok("GET", "/conversations")] == [cid]
    r = await outsider.call("GET", f"/conversations/{cid}")
    assert r.status_code == 403 and r.json()["error"] == "Not a participant in this conversation"
    for bad in ("not-a-uuid", "00000000-0000-4000-8000-000000000000"):
        r = await owner.call("GET", f"/conversations/{bad}")
        assert r.status_code == 404 and r.json()["error"] == "Conversation not found"

    # Only owner and admins rename; only the owner deletes.
    r = await bob.call("PATCH", f"/conversations/{cid}", json={"name": "x"})
    assert r.status_code == 403
    patched = await owner.ok("PATCH", f"/conversations/{cid}", json={"name": "renamed"})
    assert patched["name"] == "renamed" and patched["description"] == "d"
    assert patched["updated_at"] >= conv["updated_at"]

    # Join (group only), leave, add, remove.
    joined = await carol.ok("POST", f"/conversations/{cid}/join", 201)
    assert joined["user_id"] == carol.user_id and joined["role"] == "member"
    assert (await carol.call("POST", f"/conversations/{cid}/leave")).status_code == 204
    r = await owner.call("POST", f"/conversations/{cid}/leave")
    assert r.status_code == 400
    r = await bob.call("POST", f"/conversations/{cid}/participants", json={"userId": carol.user_id})
    assert r.status_code == 403
    added = await owner.ok(
        "POST",
        f"/conversations/{cid}/participants",
        201,
        json={"userId": carol.user_id, "userType": "agent"},
    )
    assert added["user_type"] == "user"  # from the account, not the request
    r = await owner.call("DELETE", f"/conversations/{cid}/participants/{owner.user_id}")
    assert r.status_code == 400
    r = await owner.call("DELETE", f"/conversations/{cid}/participants/{carol.user_id}")
    assert r.status_code == 204
    r = await owner.call("DELETE", f"/conversations/{cid}/participants/{carol.user_id}")
    assert r.status_code == 404

    private = await owner.ok("POST", "/conversations", 201, json={"type": "private"})
    r = await carol.call("POST", f"/conversations/{private['id']}/join")
    assert r.status_code == 400
    r = await owner.call("POST", "/conversations", json={"type": "group"})
    assert r.status_code == 400 and r.json()["error"] == "Group conversations require a name"
    r = await owner.call("POST", "/conversations", json={"type": "chatroom", "name": "x"})
    assert r.status_code == 400 and r.json()["path"] == "$.type"

    assert (await bob.call("DELETE", f"/conversations/{cid}")).status_code == 403
    assert (await owner.call("DELETE", f"/conversations/{cid}")).status_code == 204
    assert (await owner.call("GET", f"/conversations/{cid}")).status_code == 404
    for p in (owner, bob, carol, outsider, bot):
        await p.aclose()


async def test_messages_fields_order_and_idempotency(server: ServerProcess) -> None:
    owner = await person(server)
    bot = await person(server, agent=True)
    cid = (await group(owner, bot))["id"]
    mid = "5d6f0a4e-3a7b-4c1d-9e2f-" + secrets.token_hex(6)
    run = "7a1b2c3d-4e5f-4a6b-8c7d-" + secrets.token_hex(6)
    body = {
        "id": mid,
        "content": "# plan",
        "contentType": "text/markdown",
        "metadata": {"step": 1},
        "runId": run,
        "traceId": "trace-1",
        "priority": "high",
        "interruptible": False,
    }
    first = await bot.ok("POST", f"/conversations/{cid}/messages", 201, json=body)
    assert first["id"] == mid and first["sender_type"] == "agent"
    assert first["content_type"] == "text/markdown" and first["metadata"] == {"step": 1}
    assert first["run_id"] == run and first["trace_id"] == "trace-1"
    assert first["priority"] == "high" and first["interruptible"] is False
    assert isinstance(first["sequence"], int)
    again = await bot.ok("POST", f"/conversations/{cid}/messages", 201, json=body)
    assert again == first
    reply = await owner.ok(
        "POST", f"/conversations/{cid}/messages", 201, json={"content": "ok", "replyTo": mid}
    )
    assert reply["sender_type"] == "user" and reply["content_type"] == "text/plain"
    assert reply["reply_to"] == mid and reply["sequence"] > first["sequence"]
    for i in range(3):
        await owner.ok("POST", f"/conversations/{cid}/messages", 201, json={"content": f"m{i}"})
    listed = await owner.ok("GET", f"/conversations/{cid}/messages")
    assert [m["content"] for m in listed] == ["# plan", "ok", "m0", "m1", "m2"]
    seqs = [m["sequence"] for m in listed]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5
    assert [
        m["content"] for m in await owner.ok("GET", f"/conversations/{cid}/messages?limit=2")
    ] == [
        "# plan",
        "ok",
    ]
    after = await owner.ok(
        "GET", f"/conversations/{cid}/messages", params={"after": first["created_at"]}
    )
    assert "# plan" not in [m["content"] for m in after]
    before = await owner.ok(
        "GET", f"/conversations/{cid}/messages", params={"before": listed[-1]["created_at"]}
    )
    assert "m2" not in [m["content"] for m in before]
    r = await owner.call("GET", f"/conversations/{cid}/messages", params={"before": "yesterday"})
    assert r.status_code == 400 and r.json()["path"] == "$.query.before"
    # last_read_at follows the list
    conv = await owner.ok("GET", f"/conversations/{cid}")
    mine = next(p for p in conv["participants"] if p["user_id"] == owner.user_id)
    assert mine["last_read_at"] is not None

    for bad, path in (
        ({"content": "x", "contentType": "event"}, "$.contentType"),
        ({"content": "x", "contentType": "text/html"}, "$.contentType"),
        ({"content": ""}, "$.content"),
        ({"content": "x", "runId": "nope"}, "$.runId"),
        ({"content": "x", "priority": "urgent"}, "$.priority"),
    ):
        r = await owner.call("POST", f"/conversations/{cid}/messages", json=bad)
        assert r.status_code == 400 and r.json()["path"] == path, (bad, r.text)
    outsider = await person(server)
    r = await outsider.call("POST", f"/conversations/{cid}/messages", json={"content": "x"})
    assert r.status_code == 403
    # someone else's id is not theirs to reuse
    r = await owner.call("POST", f"/conversations/{cid}/messages", json={"id": mid, "content": "x"})
    assert r.status_code == 409
    for p in (owner, bot, outsider):
        await p.aclose()


async def test_edit_history_and_delete(server: ServerProcess) -> None:
    owner, bob, outsider = [await person(server) for _ in range(3)]
    cid = (await group(owner, bob))["id"]
    m = await owner.ok("POST", f"/conversations/{cid}/messages", 201, json={"content": "v1"})
    url = f"/conversations/{cid}/messages/{m['id']}"
    assert (await bob.call("PATCH", url, json={"content": "hack"})).status_code == 403
    e1 = await owner.ok("PATCH", url, json={"content": "v2"})
    assert e1["content"] == "v2" and e1["updated_at"] is not None
    await owner.ok("PATCH", url, json={"content": "v3"})
    hist = await bob.ok("GET", url + "/history")
    assert [v["content"] for v in hist["versions"]] == ["v1", "v2", "v3"]
    assert hist["versions"][0]["valid_from"] == m["created_at"]
    assert hist["versions"][0]["replaced_at"] == hist["versions"][1]["valid_from"]
    assert hist["versions"][-1]["replaced_at"] is None and hist["message"]["content"] == "v3"
    assert (await outsider.call("GET", url + "/history")).status_code == 403
    assert (await bob.call("DELETE", url)).status_code == 403
    assert (await owner.call("DELETE", url)).status_code == 204
    assert m["id"] not in [x["id"] for x in await owner.ok("GET", f"/conversations/{cid}/messages")]
    assert (await bob.call("GET", url + "/history")).status_code == 404
    for p in (owner, bob, outsider):
        await p.aclose()


async def test_symbia_and_ws_share_messages(server: ServerProcess, api: Api) -> None:
    """A Symbia message reaches `/ws` members with its fields; a `/ws` message
    is in the Symbia list; control events reach `/ws` as `StreamControl`."""
    owner = await person(server)
    bot = await person(server, agent=True)
    cid = (await group(owner, bot))["id"]
    ws = await Client(server, owner.user_id, owner.token, "d-" + secrets.token_hex(3)).connect()
    run = "0b1c2d3e-4f5a-4b6c-8d7e-" + secrets.token_hex(6)
    sent = await bot.ok(
        "POST",
        f"/conversations/{cid}/messages",
        201,
        json={"content": "{}", "contentType": "application/json", "runId": run},
    )
    [got] = await ws.events("ChatMessageReceived", message_id=sent["id"])
    d = got["data"]
    assert d["content_type"] == "application/json" and d["sender_type"] == "agent"
    assert d["run_id"] == run and d["conversation_id"] == cid and got["seq"] == sent["sequence"]
    assert "trace_id" not in d  # only keys that are set

    r = await ws.ok(
        "chat/messages/ack",
        "SendChatMessageWithClientId",
        {
            "client_message_id": "c-" + secrets.token_hex(4),
            "conversation_id": cid,
            "content": "from ws",
            "type": "text",
        },
    )
    listed = await bot.ok("GET", f"/conversations/{cid}/messages")
    last = listed[-1]
    assert last["id"] == r["data"]["message_id"] and last["content"] == "from ws"
    assert last["content_type"] == "text/plain" and last["sender_type"] == "user"

    ctl = await owner.ok(
        "POST", f"/conversations/{cid}/control", 201, json={"event": "stream.pause", "runId": run}
    )
    [sc] = await ws.events("StreamControl", message_id=ctl["id"])
    assert sc["data"]["event"] == "stream.pause" and sc["data"]["run_id"] == run
    assert sc["seq"] == ctl["sequence"] and ctl["content_type"] == "event"
    await ws.close()
    for p in (owner, bot):
        await p.aclose()


async def test_openapi_documents_every_api_route_with_security(server: ServerProcess) -> None:
    from hubbub.protocols.symbia import admin, conversations, login, messages, meta

    async with client(server) as anon:
        doc = (await anon.get("/docs/openapi.json")).json()
    schemes = doc["components"]["securitySchemes"]
    assert schemes["bearerAuth"]["scheme"] == "bearer"
    assert schemes["apiKeyAuth"] == {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    assert {schemes["cookieAuthToken"]["name"], schemes["cookieAuthSession"]["name"]} == {
        "token",
        "symbia_session",
    }
    for module in (admin, conversations, login, messages, meta):
        for route in module.router.routes:
            path = route.path  # type: ignore[attr-defined]
            for method in route.methods:  # type: ignore[attr-defined]
                op = doc["paths"][path][method.lower()]
                assert (
                    "200" in op["responses"] or "201" in op["responses"] or "204" in op["responses"]
                ), (method, path)
                if path.startswith(("/api/conversations", "/api/admin")):
                    assert {"bearerAuth": []} in op["security"], (method, path)
    send = doc["paths"]["/api/conversations/{id}/messages"]["post"]
    assert "requestBody" in send
    assert "$ref" in str(send["responses"]["201"]["content"]["application/json"]["schema"])
