"""Spec 003 (MTChat) over real sockets, driven the way its SDK drives it:
dialogs created by the host backend, users with JWTs and access scopes,
REST for everything durable, the WebSocket for events."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

from tests.integration.mtchat import (
    ADMIN,
    ENV,
    Mt,
    MtSocket,
    admin,
    create_dialog,
    new_user,
    scope_header,
    token_for,
)
from tests.support import DEFAULT_TIMEOUT, ServerProcess

WRONG = "another-secret-of-32-bytes-or-more!!"
TENANT_A = scope_header(["tenant-a"], [], ["manager"])
RULE_A = {"scope_level0": ["tenant-a"], "scope_level1": [], "scope_level2": ["manager", "admin"]}


@pytest.fixture(scope="module")
def mt_server(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("mtchat"), extra_env=ENV).start()
    yield proc
    proc.stop()


@pytest.fixture
async def http(mt_server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=mt_server.base_url, timeout=DEFAULT_TIMEOUT) as c:
        yield c


async def test_refusals_without_valid_identity(
    mt_server: ServerProcess, http: httpx.AsyncClient
) -> None:
    me = new_user()
    bearer = lambda t: {"Authorization": f"Bearer {t}"}  # noqa: E731
    r = await http.get("/api/v1/dialogs")
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    r = await http.get("/api/v1/dialogs", params={"user_id": me})  # trust mode is off
    assert r.status_code == 401
    r = await http.get("/api/v1/dialogs", headers=bearer(token_for(me, secret=WRONG)))
    assert r.status_code == 401
    r = await http.get("/api/v1/dialogs", headers=bearer(token_for(me, ttl=-60)))
    assert r.status_code == 401 and "expired" in r.json()["error"]["message"]
    r = await http.get(
        "/api/v1/dialogs", params={"user_id": new_user()}, headers=bearer(token_for(me))
    )
    assert r.status_code == 403
    r = await http.get("/api/v1/dialogs", params={"user_id": me}, headers=bearer(token_for(me)))
    assert r.status_code == 200 and r.json() == {"data": []}
    # The management API wants the admin token, not a user's.
    body = {"object_id": "o1", "object_type": "order", "participants": []}
    r = await http.post("/api/v1/management/dialogs", json=body, headers=bearer(token_for(me)))
    assert r.status_code == 401
    r = await http.post("/api/v1/management/dialogs", json=body, headers=bearer(ADMIN + "x"))
    assert r.status_code == 401
    r = await http.get("/api/v1/dialogs", headers={**bearer(token_for(me)), "X-Scope-Config": "%%"})
    assert (
        r.status_code == 400
        and r.json()["error"]["code"] == "INVALID_INPUT"
        and r.json()["error"]["path"] == "$.headers.x-scope-config"
    )
    # The WebSocket refuses the same way.
    wrong = token_for(me, secret=WRONG)
    for query in (f"user_id={me}", f"token={wrong}"):
        with pytest.raises(InvalidStatus):
            await MtSocket.open(mt_server, query)
    # U+0000 (which PostgreSQL text cannot hold) is refused the same on every backend.
    r = await http.get("/api/v1/dialogs/a%00b", headers=bearer(token_for(me)))
    assert r.status_code == 400
    nul = {"object_id": "o\x00", "object_type": "order", "participants": []}
    r = await http.post("/api/v1/management/dialogs", json=nul, headers=bearer(ADMIN))
    assert r.status_code == 400
    r = await http.get("/health")
    assert r.status_code == 200 and r.json()["status"] == "ok" and r.json()["version"]


async def test_hubbub_token_is_accepted(mt_server: ServerProcess, http: httpx.AsyncClient) -> None:
    r = await http.post(
        "/v1/auth/register", json={"username": "mt" + new_user()[:8], "password": "x" * 12}
    )
    uid, token = r.json()["user_id"], r.json()["token"]
    r = await http.get("/api/v1/dialogs", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    r = await http.get(
        "/api/v1/dialogs", params={"user_id": uid}, headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 200


async def test_dialog_lifecycle_over_rest_and_websocket(mt_server: ServerProcess) -> None:
    alice, bob = Mt(mt_server, scope=TENANT_A), Mt(mt_server, scope=TENANT_A)
    carol = Mt(mt_server, scope=scope_header(["tenant-b"], [], ["manager"]))
    cid = await create_dialog(mt_server, [alice], [RULE_A], meta={"priority": 1})
    ws_a = await MtSocket.open(mt_server, f"token={alice.token}")
    ws_b = await MtSocket.open(mt_server, f"token={bob.token}")
    connected = ws_a.frames[0]
    assert connected == {"type": "connected", "employee_id": alice.user}

    # Lists: alice takes part, bob may join by scope, carol sees nothing.
    [mine] = (await alice.ok("GET", "/dialogs", params={"type": "participating"}))["data"]
    assert mine["id"] == cid and mine["i_am_participant"] and mine["meta"] == {"priority": 1}
    assert mine["last_message"]["message_type"] == "system"
    avail = (await bob.ok("GET", "/dialogs", params={"type": "available"}))["data"]
    assert [d["id"] for d in avail] == [cid] and avail[0]["can_join"]
    assert "last_message" not in avail[0]
    assert (await carol.ok("GET", "/dialogs", params={"type": "available"}))["data"] == []
    assert (await carol.call("GET", f"/dialogs/{cid}")).status_code == 404
    r = await carol.call("POST", f"/dialogs/{cid}/join", json={"display_name": "Carol"})
    assert r.status_code == 404
    assert (await carol.call("GET", f"/dialogs/{cid}/messages")).status_code == 404
    assert (await bob.call("GET", f"/dialogs/{cid}/messages")).status_code == 404  # not yet in

    # Bob joins with a profile; alice is told, with a system message.
    joined = await bob.ok(
        "POST", f"/dialogs/{cid}/join", json={"display_name": "Bob", "company": "Beta"}
    )
    assert joined == {"status": "joined", "dialog_id": cid}
    await ws_a.event("participant.joined", dialog_id=cid, user_id=bob.user)
    sys_msg = await ws_a.event("message.new", dialog_id=cid, message_type="system")
    assert sys_msg["sender_id"] is None
    assert json.loads(sys_msg["content"]) == {
        "event": "participant_joined", "name": "Bob", "company": "Beta"
    }  # fmt: skip
    people = (await alice.ok("GET", f"/dialogs/{cid}/participants"))["data"]
    assert {p["user_id"] for p in people} == {alice.user, bob.user}
    assert next(p for p in people if p["user_id"] == bob.user)["is_online"] is True

    # Send with script in it: stored and delivered sanitised.
    sent = await bob.ok(
        "POST",
        f"/dialogs/{cid}/messages",
        json={"content": '<p onclick="x()">Hi <script>alert(1)</script><b>there</b></p>'},
    )
    msg = sent["data"]
    assert msg["content"] == "<p>Hi <b>there</b></p>" and msg["sender_id"] == bob.user
    got = await ws_a.event("message.new", id=msg["id"])
    assert got["content"] == "<p>Hi <b>there</b></p>" and got["sender_id"] == bob.user
    r = await bob.call("POST", f"/dialogs/{cid}/messages", json={"content": "<script>x</script>"})
    assert r.status_code == 400 and r.json()["error"]["path"] == "$.content"
    reply = (
        await alice.ok(
            "POST", f"/dialogs/{cid}/messages", json={"content": "ok", "reply_to": msg["id"]}
        )
    )["data"]
    assert reply["reply_to_id"] == msg["id"]

    # Paging and unread.
    page = (await alice.ok("GET", f"/dialogs/{cid}/messages"))["data"]
    ids = [m["id"] for m in page["messages"]]
    assert ids[-2:] == [msg["id"], reply["id"]] and not page["has_more_before"]
    assert page["first_unread_message_id"] == ids[1]  # bob's join notice is the first unread
    older = await alice.ok("GET", f"/dialogs/{cid}/messages", params={"before": reply["id"]})
    assert [m["id"] for m in older["data"]["messages"]] == ids[:-1]
    around = await alice.ok(
        "GET", f"/dialogs/{cid}/messages", params={"around": msg["id"], "limit": 2}
    )
    assert msg["id"] in [m["id"] for m in around["data"]["messages"]]
    [item] = (await alice.ok("GET", "/dialogs"))["data"]
    assert item["unread_count"] == 1  # bob's message; system messages and her own do not count

    # Edit: only the sender; everyone is told.
    r = await alice.call("PUT", f"/dialogs/{cid}/messages/{msg['id']}", json={"content": "x"})
    assert r.status_code == 403
    edited = await bob.ok(
        "PUT", f"/dialogs/{cid}/messages/{msg['id']}", json={"content": "<i>fixed</i>"}
    )
    assert edited["data"]["content"] == "<i>fixed</i>" and edited["data"]["last_edited_at"]
    ev = await ws_a.event("message.edited", id=msg["id"])
    assert ev["content"] == "<i>fixed</i>" and ev["dialog_id"] == cid

    # Read position.
    assert await alice.ok(
        "POST", f"/dialogs/{cid}/read", json={"last_read_message_id": msg["id"]}
    ) == {"success": True}
    ev = await ws_b.event("message.read", dialog_id=cid, user_id=alice.user)
    assert ev["last_read_message_id"] == msg["id"]
    [item] = (await alice.ok("GET", "/dialogs"))["data"]
    assert item["unread_count"] == 0

    # Archive is alice's own; a new message brings the dialog back.
    await alice.ok("POST", f"/dialogs/{cid}/archive")
    await ws_a.event("dialog.archived", dialog_id=cid)
    assert [
        d["id"] for d in (await alice.ok("GET", "/dialogs", params={"archived": "true"}))["data"]
    ] == [cid]
    assert (await bob.ok("GET", "/dialogs", params={"archived": "true"}))["data"] == []
    await bob.ok("POST", f"/dialogs/{cid}/messages", json={"content": "wake up"})
    await ws_a.event("dialog.unarchived", dialog_id=cid)
    assert (await alice.ok("GET", "/dialogs", params={"archived": "true"}))["data"] == []
    assert not ws_b.seen("dialog.archived")

    # Pin and notifications are per user.
    await alice.ok("POST", f"/dialogs/{cid}/pin")
    await alice.ok("POST", f"/dialogs/{cid}/notifications", json={"enabled": False})
    [item] = (await alice.ok("GET", "/dialogs"))["data"]
    assert item["is_pinned"] is True and item["notifications_enabled"] is False
    [item] = (await bob.ok("GET", "/dialogs"))["data"]
    assert item["is_pinned"] is False and item["notifications_enabled"] is True
    await alice.ok("POST", f"/dialogs/{cid}/unpin")
    [item] = (await alice.ok("GET", "/dialogs"))["data"]
    assert item["is_pinned"] is False

    # Archived and unarchived by hand, told to alice's connections.
    await alice.ok("POST", f"/dialogs/{cid}/archive")
    await alice.ok("POST", f"/dialogs/{cid}/unarchive")
    await ws_a.wait_for(lambda f: len(ws_a.seen("dialog.unarchived", dialog_id=cid)) == 2)
    assert (await alice.ok("GET", "/dialogs", params={"archived": "false"}))["data"][0]["id"] == cid

    # Delete: only the sender; 204; then gone for everyone.
    assert (await alice.call("DELETE", f"/dialogs/{cid}/messages/{msg['id']}")).status_code == 403
    assert (await bob.call("DELETE", f"/dialogs/{cid}/messages/{msg['id']}")).status_code == 204
    await ws_a.event("message.deleted", id=msg["id"], dialog_id=cid)
    assert (await alice.call("GET", f"/dialogs/{cid}/messages/{msg['id']}")).status_code == 404
    page = (await alice.ok("GET", f"/dialogs/{cid}/messages"))["data"]
    assert msg["id"] not in [m["id"] for m in page["messages"]]

    # Leaving: told to those who stay; the leaver can no longer read.
    await bob.ok("POST", f"/dialogs/{cid}/leave")
    await ws_a.event("participant.left", dialog_id=cid, user_id=bob.user)
    assert (await bob.call("GET", f"/dialogs/{cid}/messages")).status_code == 404
    assert [
        d["id"] for d in (await bob.ok("GET", "/dialogs", params={"type": "available"}))["data"]
    ] == [cid]
    # By object: the host's own ids find it.
    d = (await alice.ok("GET", f"/dialogs/{cid}"))["data"]
    found = await alice.ok("GET", f"/dialogs/by-object/order/{d['object_id']}")
    assert found["data"]["id"] == cid
    listed = await bob.ok("GET", f"/dialogs/by-object/order/{d['object_id']}/list")
    assert listed["data"][0]["dialog"]["id"] == cid and listed["data"][0]["can_join"]
    for c in (alice, bob, carol):
        await c.aclose()
    await ws_a.close()
    await ws_b.close()


async def test_management_adds_and_removes_participants(mt_server: ServerProcess) -> None:
    alice, bob = Mt(mt_server), Mt(mt_server)
    cid = await create_dialog(mt_server, [alice], [])
    ws_b = await MtSocket.open(mt_server, f"token={bob.token}")
    r = await admin(
        mt_server, "POST", f"/dialogs/{cid}/participants",
        json={"user_id": bob.user, "display_name": "Bob"},
    )  # fmt: skip
    assert r.status_code == 201
    await ws_b.event("participant.joined", dialog_id=cid, user_id=bob.user)
    r = await admin(mt_server, "GET", f"/dialogs/{cid}")
    assert {p["user_id"] for p in r.json()["data"]["participants"]} == {alice.user, bob.user}
    await bob.ok("POST", f"/dialogs/{cid}/messages", json={"content": "hello"})
    r = await admin(mt_server, "DELETE", f"/dialogs/{cid}/participants/{bob.user}")
    assert r.status_code == 204
    await ws_b.event("participant.left", dialog_id=cid, user_id=bob.user)
    assert (
        await bob.call("POST", f"/dialogs/{cid}/messages", json={"content": "x"})
    ).status_code == 404
    r = await admin(mt_server, "GET", "/dialogs/" + new_user())
    assert r.status_code == 404
    r = await admin(mt_server, "POST", "/dialogs", json={"object_type": "order"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "INVALID_INPUT"

    # Find-or-create: by object and exactly the same scope rules (as sets).
    obj = (await admin(mt_server, "GET", f"/dialogs/{cid}")).json()["data"]["object_id"]
    rules = [{"scope_level0": ["t2", "t1"], "scope_level2": ["chat"]}]
    scoped = await create_dialog(mt_server, [alice], rules, object_id=obj)
    find = {"object_id": obj, "object_type": "order"}
    r = await admin(mt_server, "POST", "/dialogs/search", json={**find, "access_scopes": []})
    assert r.json()["data"]["id"] == cid
    same = [{"scope_level0": ["t1", "t2"], "scope_level1": [], "scope_level2": ["chat"]}]
    r = await admin(mt_server, "POST", "/dialogs/search", json={**find, "access_scopes": same})
    assert r.json()["data"]["id"] == scoped
    part = [{"scope_level0": ["t1", "t2"]}]
    r = await admin(mt_server, "POST", "/dialogs/search", json={**find, "access_scopes": part})
    assert r.status_code == 200 and r.json() == {"data": None}

    # Replacing the scopes changes who may see the dialog.
    carol = Mt(mt_server, scope=scope_header(["t3"]))
    assert (await carol.call("GET", f"/dialogs/{scoped}")).status_code == 404
    r = await admin(
        mt_server, "PUT", f"/dialogs/{scoped}/access-scopes",
        json={"access_scopes": [{"scope_level0": ["t3"]}]},
    )  # fmt: skip
    assert r.status_code == 200
    assert (await carol.call("GET", f"/dialogs/{scoped}")).status_code == 200
    await carol.aclose()

    # Deleting a dialog takes everyone out and its content with it.
    ws_a = await MtSocket.open(mt_server, f"token={alice.token}")
    said = await alice.ok("POST", f"/dialogs/{scoped}/messages", json={"content": "private"})
    assert (await admin(mt_server, "DELETE", f"/dialogs/{scoped}")).status_code == 204
    await ws_a.event("dialog.deleted", dialog_id=scoped)
    assert (await admin(mt_server, "DELETE", f"/dialogs/{scoped}")).status_code == 404
    assert (await alice.call("GET", f"/dialogs/{scoped}")).status_code == 404
    r = await alice.call("GET", f"/dialogs/{scoped}/messages/{said['data']['id']}")
    assert r.status_code == 404
    assert scoped not in [d["id"] for d in (await alice.ok("GET", "/dialogs"))["data"]]
    await ws_a.close()
    await ws_b.close()
    for c in (alice, bob):
        await c.aclose()


async def test_subscribe_to_an_available_dialog(mt_server: ServerProcess) -> None:
    alice, dave = Mt(mt_server, scope=TENANT_A), Mt(mt_server, scope=TENANT_A)
    watched = await create_dialog(mt_server, [alice], [RULE_A])
    own = await create_dialog(mt_server, [alice, dave], [])
    foreign = await create_dialog(mt_server, [alice], [{"scope_level0": ["tenant-z"]}])
    ws_d = await MtSocket.open(mt_server, f"token={dave.token}&scope_config={quote(TENANT_A)}")
    await ws_d.send({"type": "subscribe", "dialog_id": foreign})
    await ws_d.event("error")
    await ws_d.send({"type": "subscribe", "dialog_id": watched})
    await ws_d.send({"type": "ping"})
    await ws_d.event("pong")  # the subscribe before it was handled
    m1 = (await alice.ok("POST", f"/dialogs/{watched}/messages", json={"content": "one"}))["data"]
    await ws_d.event("message.new", id=m1["id"], dialog_id=watched)
    await ws_d.send({"type": "unsubscribe", "dialog_id": watched})
    await ws_d.send({"type": "ping"})
    await ws_d.wait_for(lambda f: len([x for x in ws_d.frames if x["type"] == "pong"]) == 2)
    m2 = (await alice.ok("POST", f"/dialogs/{watched}/messages", json={"content": "two"}))["data"]
    m3 = (await alice.ok("POST", f"/dialogs/{own}/messages", json={"content": "three"}))["data"]
    await ws_d.event("message.new", id=m3["id"])  # delivered in stream order: m2 came first
    assert not ws_d.seen("message.new", id=m2["id"])
    await ws_d.close()
    for c in (alice, dave):
        await c.aclose()


async def test_presence_reaches_only_those_who_share_a_dialog(mt_server: ServerProcess) -> None:
    alice, bob, eve = Mt(mt_server), Mt(mt_server), Mt(mt_server)
    await create_dialog(mt_server, [alice, bob], [])
    await create_dialog(mt_server, [eve], [])
    ws_a = await MtSocket.open(mt_server, f"token={alice.token}")
    ws_e = await MtSocket.open(mt_server, f"token={eve.token}")
    ws_b = await MtSocket.open(mt_server, f"token={bob.token}")
    await ws_a.event("presence.update", user_id=bob.user, is_online=True)
    await ws_b.send({"type": "ping"})
    await ws_b.event("pong")
    await ws_b.close()
    await ws_a.event("presence.update", user_id=bob.user, is_online=False)
    # Eve shares nothing with bob: a marker event of hers arrives, bob's presence never did.
    await ws_e.send({"type": "ping"})
    await ws_e.event("pong")
    assert not ws_e.seen("presence.update", user_id=bob.user)
    await ws_a.close()
    await ws_e.close()
    for c in (alice, bob, eve):
        await c.aclose()


async def test_trusted_user_id_mode(tmp_path: Path, backend: str) -> None:
    env = {
        **ENV,
        "HUBBUB_MTCHAT_TRUST_USER_ID": "true",
        "HUBBUB_PUBLIC_URL": "https://chat.example.com/",
        "HUBBUB_ALLOWED_ORIGINS": "https://host.example",
    }
    proc = ServerProcess(tmp_path, extra_env=env).start()
    try:
        me = new_user()
        async with httpx.AsyncClient(base_url=proc.base_url, timeout=DEFAULT_TIMEOUT) as http:
            r = await http.get("/api/v1/dialogs", params={"user_id": me})
            assert r.status_code == 200
            # A token still decides, and a disagreeing user_id is still refused.
            r = await http.get(
                "/api/v1/dialogs",
                params={"user_id": me},
                headers={"Authorization": f"Bearer {token_for(new_user())}"},
            )
            assert r.status_code == 403
            # The SDK runs on the host's page: CORS for allowed origins only.
            ask = {
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization,x-scope-config",
            }
            r = await http.options(
                "/api/v1/dialogs", headers={"Origin": "https://host.example", **ask}
            )
            assert r.status_code == 200
            assert r.headers["access-control-allow-origin"] == "https://host.example"
            assert "x-scope-config" in r.headers["access-control-allow-headers"].lower()
            r = await http.options(
                "/api/v1/dialogs", headers={"Origin": "https://evil.example", **ask}
            )
            assert "access-control-allow-origin" not in r.headers
        with pytest.raises(InvalidStatus):
            url = proc.base_url.replace("http://", "ws://") + f"/api/v1/ws?user_id={me}"
            await connect(url, origin=Origin("https://evil.example"))
        cid = await create_dialog(proc, [Mt(proc, me)], [])
        ws = await MtSocket.open(proc, f"user_id={me}")
        assert ws.frames[0] == {"type": "connected", "employee_id": me}
        other = Mt(proc)
        await admin(proc, "POST", f"/dialogs/{cid}/participants",
                    json={"user_id": other.user, "display_name": "O"})  # fmt: skip
        await ws.event("participant.joined", dialog_id=cid, user_id=other.user)
        pre = await other.ok(
            "POST",
            "/upload/presign",
            json={"dialog_id": cid, "filename": "a.png", "content_type": "image/png", "size": 3},
        )
        assert pre["data"]["upload_url"].startswith("https://chat.example.com/api/v1/attachments/")
        await ws.close()
        await other.aclose()
    finally:
        proc.stop()


async def test_attachments_upload_and_download(
    mt_server: ServerProcess, http: httpx.AsyncClient
) -> None:
    alice, bob, carol = Mt(mt_server), Mt(mt_server), Mt(mt_server)
    cid = await create_dialog(mt_server, [alice, bob], [])
    blob = b"quarterly figures\n" * 100
    ask = {"dialog_id": cid, "filename": "report.txt", "content_type": "text/plain"}
    r = await carol.call("POST", "/upload/presign", json={**ask, "size": len(blob)})
    assert r.status_code == 404
    r = await alice.call("POST", "/upload/presign", json={**ask, "size": 10, "content_type": "x/y"})
    assert (
        r.status_code == 400
        and r.json()["error"]["code"] == "UNSUPPORTED_FILE_TYPE"
        and r.json()["error"]["path"] == "$.content_type"
    )
    r = await alice.call("POST", "/upload/presign", json={**ask, "size": 10**9})
    assert r.status_code == 400 and r.json()["error"]["code"] == "FILE_TOO_LARGE"
    pre = (await alice.ok("POST", "/upload/presign", json={**ask, "size": len(blob)}))["data"]
    url, key = pre["upload_url"], pre["s3_key"]
    assert url.startswith(mt_server.base_url + "/") and pre["expires_in"] == 300

    # The URL is the permission: tampered, wrong size, or used twice, it is refused.
    assert (await http.put(url.replace("sig=", "sig=0"), content=blob)).status_code == 404
    assert (await http.put(url.replace("exp=", "exp=9"), content=blob)).status_code == 404
    assert (await http.put(url, content=blob[:-1])).status_code == 400
    assert (await http.put(url, content=blob)).status_code == 200
    assert (await http.put(url, content=blob)).status_code == 404

    # Someone else cannot send alice's file; alice can, with no text.
    att = [{"s3_key": key, "filename": "report.txt", "content_type": "text/plain", "size": 1}]
    r = await bob.call("POST", f"/dialogs/{cid}/messages", json={"attachments": att})
    assert (
        r.status_code == 404
        and r.json()["error"]["code"] == "ATTACHMENT_NOT_FOUND"
        and r.json()["error"]["path"] == "$.attachments[0]"
    )
    sent = (await alice.ok("POST", f"/dialogs/{cid}/messages", json={"attachments": att}))["data"]
    [a] = sent["attachments"]
    assert a["id"] == key and a["filename"] == "report.txt" and a["size"] == len(blob)
    r = await alice.call("POST", f"/dialogs/{cid}/messages", json={"attachments": att})
    assert r.status_code == 404  # bound once

    # Participants get a signed download URL; it works without credentials.
    page = (await bob.ok("GET", f"/dialogs/{cid}/messages"))["data"]
    assert page["messages"][-1]["attachments"][0]["id"] == key
    link = (await bob.ok("GET", f"/attachments/{key}/url"))["data"]
    assert link["expires_in"] == 3600 and link["url"].startswith(mt_server.base_url)
    got = await http.get(link["url"])
    assert got.status_code == 200 and got.content == blob
    assert got.headers["content-disposition"].startswith("attachment")
    assert got.headers["x-content-type-options"] == "nosniff"
    assert (await http.get(link["url"].replace("sig=", "sig=f"))).status_code == 404
    r = await carol.call("GET", f"/attachments/{key}/url")
    assert r.status_code == 404
    assert r.json() == (await carol.call("GET", f"/attachments/{new_user()}/url")).json()
    for c in (alice, bob, carol):
        await c.aclose()


async def test_inactive_dialogs_archive_themselves(tmp_path: Path, backend: str) -> None:
    proc = ServerProcess(tmp_path, extra_env={**ENV, "HUBBUB_MTCHAT_ARCHIVE_AFTER_S": "1"}).start()
    try:
        alice = Mt(proc)
        ws = await MtSocket.open(proc, f"token={alice.token}")  # first: the event is live
        cid = await create_dialog(proc, [alice], [])
        await ws.event("dialog.archived", dialog_id=cid)  # a second without a message
        listed = await alice.ok("GET", "/dialogs", params={"archived": "true"})
        assert [d["id"] for d in listed["data"]] == [cid]
        await alice.ok("POST", f"/dialogs/{cid}/messages", json={"content": "back"})
        await ws.event("dialog.unarchived", dialog_id=cid)
        await ws.close()
        await alice.aclose()
    finally:
        proc.stop()
