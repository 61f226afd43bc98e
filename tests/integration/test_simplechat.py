"""Spec 001, the public room, over real sockets with a plain WebSocket client.

Every message and error of the seed: init, userData, history, userStatus,
text and file messages (and downloading the file), each error code with the
connection staying usable, the name rules (taken while online, the same id
takes it back, a token reserves it), history after a restart, the room off
with `--simplechat false`, and two users on two nodes (PostgreSQL + NATS).

The session's server is shared with other tests and the room is one room:
each test uses fresh names and ids and looks only at its own.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.roomclient import RoomClient, fresh_name, room_url
from tests.support import Api, ServerProcess

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def file_msg(raw: bytes, **over: Any) -> dict[str, Any]:
    body = {
        "name": "dot.png",
        "type": "image/png",
        "size": len(raw),
        "data": base64.b64encode(raw).decode(),
    }
    body.update(over)
    return {"type": "file", "file": body}


def user_named(user_data: dict[str, Any], handle: str) -> dict[str, Any]:
    [found] = [u for u in user_data["users"] if u["id"] == handle]
    return found


async def test_join_chat_and_presence(server: ServerProcess) -> None:
    a = await RoomClient(server, "/").connect()
    users, history = await a.init()
    me = user_named(users, a.handle)
    assert me["username"] == a.username and me["online"] is True
    assert isinstance(me["lastActive"], int) and me["lastActive"] > 0
    assert isinstance(history["messages"], list)

    b = await RoomClient(server, "/chat").connect()  # the other path
    users_b, _ = await b.init()
    assert user_named(users_b, a.handle)["online"] is True
    assert user_named(users_b, b.handle)["online"] is True
    status = await a.wait_for(lambda f: f.get("type") == "userStatus" and f["userId"] == b.handle)
    assert status == {
        "type": "userStatus",
        "userId": b.handle,
        "username": b.username,
        "online": True,
    }
    # the joiner is not told about itself
    assert not [f for f in b.frames if f.get("type") == "userStatus" and f["userId"] == b.handle]

    text = "hello " + secrets.token_hex(4)
    echoed = await a.text(text)  # the sender gets its own message too
    assert echoed["type"] == "message"
    assert set(echoed) >= {"id", "sender", "content", "timestamp"}
    assert echoed["sender"] == a.username and echoed["senderId"] == a.handle
    assert isinstance(echoed["timestamp"], int) and echoed["timestamp"] > 1_600_000_000_000
    got = await b.wait_for(lambda f: f.get("type") == "message" and f.get("id") == echoed["id"])
    assert got == echoed

    await b.close()
    gone = await a.wait_for(
        lambda f: f.get("type") == "userStatus" and f["userId"] == b.handle and not f["online"]
    )
    assert gone["username"] == b.username

    c = await RoomClient(server).connect()
    users_c, history_c = await c.init()
    assert user_named(users_c, b.handle)["online"] is False
    assert (
        user_named(users_c, b.handle)["lastActive"] >= user_named(users_b, b.handle)["lastActive"]
    )
    assert echoed in history_c["messages"]
    ts = [m["timestamp"] for m in history_c["messages"]]
    assert ts == sorted(ts)  # oldest first
    await a.close()
    await c.close()


async def test_errors_keep_the_connection_usable(server: ServerProcess) -> None:
    c = await RoomClient(server).connect()

    async def code(payload: Any) -> dict[str, Any]:
        return await c.error(payload)

    e = await code({"type": "text", "text": "too early"})
    assert e["code"] == "not_initialized" and e["message"]
    e = await code(
        {"type": "file", "file": {"name": "a", "type": "text/plain", "size": 1, "data": "YQ=="}}
    )
    assert e["code"] == "not_initialized"
    assert (await code("not json"))["code"] == "bad_frame"
    assert (await code("[1, 2]"))["code"] == "bad_frame"
    assert (await code({"type": "nope"}))["code"] == "bad_frame"
    assert (await code({"text": "no type"}))["code"] == "bad_frame"
    for bad, path in (
        ({"type": "init", "username": "ab", "id": "x1"}, "$.username"),
        ({"type": "init", "username": "a" * 21, "id": "x1"}, "$.username"),
        ({"type": "init", "username": "abc", "id": "no spaces"}, "$.id"),
        ({"type": "init", "username": "abc", "id": ""}, "$.id"),
        ({"type": "init", "id": "x1"}, "$.username"),
        ({"type": "init", "username": "abc"}, "$.id"),
        ({"type": "init", "username": "bad\u0001name", "id": "x1"}, "$.username"),
    ):
        e = await code(bad)
        assert (e["code"], e.get("path")) == ("validation_failed", path), (bad, e)
        assert e["message"]

    await c.init()
    assert (await code({"type": "init", "username": fresh_name(), "id": "x2"}))[
        "code"
    ] == "bad_frame"
    for bad, path in (
        ({"type": "text", "text": ""}, "$.text"),
        ({"type": "text", "text": "x" * 1001}, "$.text"),
        ({"type": "text", "text": 5}, "$.text"),
        ({"type": "text", "text": "nul\u0000"}, "$.text"),
        ({"type": "text"}, "$.text"),
        (file_msg(PNG, size=0), "$.file.size"),
        (file_msg(PNG, size=len(PNG) + 1), "$.file.size"),
        (file_msg(PNG, data="***not base64***"), "$.file.data"),
        (file_msg(PNG, type="text/html"), "$.file.type"),
        (file_msg(PNG, name=""), "$.file.name"),
        ({"type": "file", "file": {"name": "a", "type": "text/plain", "size": 1}}, "$.file.data"),
    ):
        e = await code(bad)
        assert (e["code"], e.get("path")) == ("validation_failed", path), (bad, e)
    # 1000 characters exactly is fine, and the connection still works after all that
    m = await c.text("y" * 1000)
    assert m["type"] == "message" and m["content"] == "y" * 1000
    await c.close()


async def test_a_burst_of_texts_arrives_in_order(server: ServerProcess) -> None:
    a = await RoomClient(server).connect()
    b = await RoomClient(server).connect()
    await a.init()
    await b.init()
    tag = secrets.token_hex(3)
    for i in range(60):  # sent without waiting: pipelined by the server
        await a.send({"type": "text", "text": f"{tag}-{i}"})
    await b.wait_for(lambda f: f.get("content") == f"{tag}-59")
    got = [m["content"] for m in b.messages() if str(m["content"]).startswith(tag)]
    assert got == [f"{tag}-{i}" for i in range(60)]
    ts = [m["timestamp"] for m in b.messages() if str(m["content"]).startswith(tag)]
    assert ts == sorted(ts)
    await a.close()
    await b.close()


async def test_usernames_taken_and_taken_back(server: ServerProcess, api: Api) -> None:
    name = fresh_name("n")
    a = await RoomClient(server).connect()
    await a.init(name)
    other = await RoomClient(server).connect()
    for variant in (name, name.upper()):
        e = await other.error(
            {"type": "init", "username": variant, "id": "o-" + secrets.token_hex(4)}
        )
        assert e["code"] == "username_taken" and e["message"]
    # the same id, a second connection (a reconnect before the old one is gone)
    again = await RoomClient(server).connect()
    await again.init(name, a.handle)
    watcher = await RoomClient(server).connect()
    await watcher.init()
    await a.close()
    await again.close()
    await watcher.wait_for(
        lambda f: f.get("type") == "userStatus" and f["userId"] == a.handle and not f["online"]
    )
    await watcher.close()
    # nobody holds it now: another id may use it
    users, _ = await other.init(name)
    assert user_named(users, other.handle)["username"] == name
    await other.close()


async def test_token_binds_the_id_and_reserves_the_name(server: ServerProcess, api: Api) -> None:
    _, token, _ = await api.register()
    name = fresh_name("t")
    a = await RoomClient(server).connect()
    await a.init(name, token=token)
    await a.close()
    anon = await RoomClient(server).connect()
    e = await anon.error({"type": "init", "username": fresh_name(), "id": a.handle})
    assert e["code"] == "unauthorized"
    e = await anon.error({"type": "init", "username": name, "id": "z-" + secrets.token_hex(4)})
    assert e["code"] == "username_taken"  # reserved although its owner is offline
    e = await anon.error({"type": "init", "username": fresh_name(), "id": "z1", "token": "bogus"})
    assert e["code"] == "unauthorized"
    # the owner comes back with the token in the header this time
    back = await RoomClient(server).connect({"Authorization": f"Bearer {token}"})
    await back.init(name, a.handle)
    await anon.init()  # still usable
    await back.close()
    await anon.close()


async def test_files_are_stored_broadcast_and_downloadable(server: ServerProcess) -> None:
    a = await RoomClient(server).connect()
    b = await RoomClient(server).connect()
    await a.init()
    await b.init()
    mark = len(a.frames)
    await a.send(file_msg(PNG))
    sent = await a.wait_for(lambda f: f.get("type") == "message" and "file" in f, after=mark)
    f = sent["file"]
    assert (f["name"], f["type"], f["size"]) == ("dot.png", "image/png", len(PNG))
    assert "dot.png" in sent["content"] and sent["sender"] == a.username
    got = await b.wait_for(lambda m: m.get("id") == sent["id"])
    assert got == sent
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        r = await http.get(f["url"])
        assert r.status_code == 200
        assert r.content == PNG
        assert r.headers["content-type"] == "image/png"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "attachment" in r.headers["content-disposition"]
        # an unknown id and a malformed one: the same 404
        for wrong in ("/chat/files/" + secrets.token_urlsafe(24), "/chat/files/not-an-id!"):
            r2 = await http.get(wrong)
            assert r2.status_code == 404
            assert r2.json()["error"]["code"] == "not_found"
    c = await RoomClient(server).connect()
    _, history = await c.init()
    assert sent in history["messages"]  # files are in the history too
    for x in (a, b, c):
        await x.close()


@pytest.fixture
def small_server(tmp_path: Path) -> Iterator[ServerProcess]:
    env = {
        "HUBBUB_SIMPLECHAT_MAX_FILE_BYTES": "1000",
        "HUBBUB_MAX_FRAME_BYTES": "4096",
        "HUBBUB_RATE_PER_SECOND": "2",
        "HUBBUB_RATE_BURST": "20",
        "HUBBUB_SIMPLECHAT_HISTORY": "3",
    }
    srv = ServerProcess(tmp_path / "small", extra_env=env).start()
    yield srv
    srv.stop()


async def test_limits_and_history_after_restart(small_server: ServerProcess) -> None:
    srv = small_server
    c = await RoomClient(srv).connect()
    await c.init()
    e = await c.error(file_msg(b"x" * 1001, type="text/plain"))
    assert (e["code"], e["path"]) == ("too_large", "$.file.size")
    e = await c.error({"type": "text", "text": "x" * 10_000})  # over the frame limit
    assert e["code"] == "too_large"
    sent = [await c.text(f"m{i}") for i in range(5)]
    # a burst beyond the rate limit: refused, with a retry hint, and still open
    mark = len(c.frames)
    for i in range(25):
        await c.send({"type": "text", "text": f"flood{i}"})
    limited = await c.wait_for(
        lambda f: f.get("type") == "error" and f["code"] == "rate_limited", after=mark
    )
    assert limited["retryAfterMs"] >= 1
    await c.close()

    srv.stop()
    srv.start()
    d = await RoomClient(srv).connect()
    users, history = await d.init()
    assert user_named(users, c.handle)["online"] is False
    kept = history["messages"]
    assert len(kept) == 3  # --simplechat-history
    ts = [m["timestamp"] for m in kept]
    assert ts == sorted(ts)
    assert not {m["id"] for m in sent[:2]} & {m["id"] for m in kept}  # older ones left out
    await d.close()


async def test_history_is_the_most_recent_oldest_first(small_server: ServerProcess) -> None:
    c = await RoomClient(small_server).connect()
    await c.init()
    sent = [await c.text(f"h{i}") for i in range(4)]
    await c.close()
    small_server.stop()
    small_server.start()
    d = await RoomClient(small_server).connect()
    _, history = await d.init()
    assert history["messages"] == sent[-3:]
    await d.close()


async def test_room_can_be_turned_off_and_get_of_root_is_free(tmp_path: Path) -> None:
    srv = ServerProcess(tmp_path / "off", extra_env={"HUBBUB_SIMPLECHAT": "false"}).start()
    try:
        with pytest.raises(InvalidStatus):
            async with connect(room_url(srv, "/")):
                pass
        async with httpx.AsyncClient(base_url=srv.base_url) as http:
            assert (await http.get("/chat/files/" + secrets.token_urlsafe(24))).status_code == 404
    finally:
        srv.stop()


async def test_plain_get_of_root_is_not_the_room(server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        r = await http.get("/")
        # the web client (issue 14), not the room: the room is WebSocket only
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")


@pytest.fixture
def two_nodes(tmp_path: Path, pg_url: str, jetstream_url: str) -> Iterator[list[ServerProcess]]:
    env = {"HUBBUB_NATS_PREFIX": "hubbub_t_" + secrets.token_hex(4), "HUBBUB_PRESENCE_TTL_S": "3"}
    nodes = [
        ServerProcess(
            tmp_path / f"n{i}",
            database_url=pg_url,
            nats_url=jetstream_url,
            extra_env={**env, "HUBBUB_NODE_ID": f"room{i}"},
        ).start()
        for i in range(2)
    ]
    yield nodes
    for n in nodes:
        n.stop()


async def test_two_users_on_two_nodes(two_nodes: list[ServerProcess]) -> None:
    n0, n1 = two_nodes
    a = await RoomClient(n0).connect()
    await a.init()
    b = await RoomClient(n1).connect()
    users, _ = await b.init()
    assert user_named(users, a.handle)["online"] is True  # a is on the other node
    await a.wait_for(lambda f: f.get("type") == "userStatus" and f["userId"] == b.handle)
    m1 = await a.text("from node 0")
    assert (await b.wait_for(lambda f: f.get("id") == m1["id"])) == m1
    m2 = await b.text("from node 1")
    assert (await a.wait_for(lambda f: f.get("id") == m2["id"])) == m2
    # a name held on one node is taken on the other
    c = await RoomClient(n1).connect()
    e = await c.error({"type": "init", "username": a.username, "id": "c-" + secrets.token_hex(4)})
    assert e["code"] == "username_taken"
    # a file posted on node 1 downloads from node 0 (blobs in the database)
    await b.send(file_msg(PNG))
    f = await a.wait_for(lambda x: x.get("type") == "message" and "file" in x)
    async with httpx.AsyncClient(base_url=n0.base_url) as http:
        assert (await http.get(f["file"]["url"])).content == PNG
    await b.close()
    await a.wait_for(
        lambda f: f.get("type") == "userStatus" and f["userId"] == b.handle and not f["online"]
    )
    await a.close()
    await c.close()


async def test_foreign_origin_is_refused(server: ServerProcess) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(room_url(server, "/chat"), origin="https://evil.example"):  # type: ignore[arg-type]
            pass
    assert refused.value.response.status_code == 403


async def test_signing_out_closes_a_bound_room_connection(server: ServerProcess, api: Api) -> None:
    _, token, _ = await api.register()
    c = await RoomClient(server).connect()
    await c.init(token=token)
    r = await api.http.post("/v1/auth/logout", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code in (200, 204)
    code, _ = await c.wait_closed()
    assert code == 4401


async def test_a_bound_account_sees_the_room_on_ws_too(server: ServerProcess, api: Api) -> None:
    user = await api.register()
    bound = await RoomClient(server).connect()
    await bound.init(token=user[1])
    ws_client = await api.client(user)  # the same account on /ws
    other = await RoomClient(server).connect()
    await other.init()
    sent = await other.text("seen on /ws " + secrets.token_hex(3))
    [got] = await ws_client.events("ChatMessageReceived", message_id=sent["id"])
    data = got["data"]
    assert data["content"] == sent["content"] and got["seq"] > 0
    assert (data["sender_name"], data["sender_handle"]) == (other.username, other.handle)
    # the room connection of that account gets it once, not once per key it is known by
    await bound.wait_for(lambda f: f.get("id") == sent["id"])
    await other.text("after")
    await bound.wait_for(lambda f: f.get("content") == "after")
    assert len(bound.messages(id=sent["id"])) == 1
    for c in (bound, other):
        await c.close()
    await ws_client.close()
