"""Spec 002's real time over real sockets: python-socketio's AsyncClient and a
plain `/api/ws` client, a person and an agent, against a real server.

Typing expiry runs on a server with a short typing TTL and waits for the
`typing:stopped` its own timer sends (no sleep here; the lapse logic itself
runs with an injected clock in tests/core/test_typing_status.py)."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import socketio

from tests.integration.symbia import group, person
from tests.integration.symbia_rt import ApiWs, Sio
from tests.integration.test_chat_events import (  # the in-process server and its sink
    TP,
    TRACE,
    InProc,
    check_envelope,
    decoded,
    inproc,
    next_event,
)
from tests.support import Api, ServerProcess, hubbub_cli

PW = "correct horse battery"
RUN = "5b0e4a8e-4a8f-4c3e-9d1e-2f7a9c0b1d21"
__all__ = ["inproc"]  # a fixture, imported for the chat-events test


async def agent(api: Api) -> tuple[str, str, str]:
    """(user id, API key, username) of a new agent account (`hubbub user create --agent`)."""
    name = "agent" + secrets.token_hex(4)
    await hubbub_cli(api.server, "user", "create", name, "--agent", "--password-stdin", stdin=PW)
    key = (await hubbub_cli(api.server, "api-key", "create", name, "--name", "rt")).strip()
    r = await api.http.get("/v1/users", params={"username": name}, headers={"X-API-Key": key})
    assert r.status_code == 200, r.text
    return r.json()[0]["user_id"], key, name


def text(cid: str, content: str) -> dict[str, Any]:
    cmid = "c-" + secrets.token_hex(6)
    return {"client_message_id": cmid, "conversation_id": cid, "content": content, "type": "text"}


async def refused(server: ServerProcess, **kw: Any) -> Any:
    """Connect a Socket.IO client that must be refused; the connect_error data."""
    client = socketio.AsyncClient(reconnection=False)
    errors: list[Any] = []
    client.on("connect_error", errors.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(server.base_url, transports=["websocket"], wait_timeout=10, **kw)
    await client.disconnect()
    return errors[0] if errors else None


async def test_handshake_auth_order_and_refusals(server: ServerProcess, api: Api) -> None:
    ((uid, token, _),) = await api.user(1)
    bot_id, key, bot_name = await agent(api)
    assert await refused(server) == {"message": "Authentication required"}
    assert await refused(server, auth={"token": "nope"}) == {"message": "Authentication required"}
    assert await refused(server, headers={"Cookie": "token=nope"}) == {
        "message": "Authentication required"
    }
    origin = await refused(server, auth={"token": token}, headers={"Origin": "http://evil.example"})
    # Scope headers are validated as REST validates them, and named.
    scoped = await refused(server, auth={"token": token}, headers={"X-Data-Class": "nope"})
    assert scoped is not None and "must be one of" in str(scoped)
    w = await ApiWs.open(server, f"token={token}", headers={"X-Env": "moon"})
    assert (await w.event("connect_error"))["path"] == "$.headers.x-env"
    await w.wait_until(lambda: w.closed)
    assert w.closed is not None and w.closed[0] == 4400
    ok = await Sio.open(server, auth={"token": token}, headers={"X-Data-Class": "secret"})
    await ok.close()
    assert origin is not None
    # Each way in, in Symbia's order: a bad token falls through to a good API key.
    ways: list[dict[str, Any]] = [
        {"auth": {"token": token}},
        {"headers": {"Authorization": f"Bearer {token}"}},
        {"auth": {"token": "nope", "apiKey": key}},
        {"headers": {"X-API-Key": key}},
        {"headers": {"Cookie": f"a=b; token={token}"}},
        {"headers": {"Cookie": f"symbia_session={token}"}},
    ]
    for way in ways:
        s = await Sio.open(server, **way)
        await s.close()
    # The plain WebSocket: ?token= (browsers), ?apiKey=, and a refusal frame + 4401.
    w = await ApiWs.open(server, "token=nope")
    assert (await w.event("connect_error")) == {"message": "Authentication required"}
    await w.wait_until(lambda: w.closed)
    assert w.closed is not None and w.closed[0] == 4401
    for query in (f"token={token}", f"apiKey={key}"):
        w = await ApiWs.open(server, query)
        assert (await w.call("join:conversation", "none")) == {
            "success": False,
            "error": "Not a participant",
            "code": "not_found",
        }
        await w.close()
    assert uid and bot_id and bot_name


async def test_person_and_agent_flow(server: ServerProcess, api: Api) -> None:
    person, eve = await api.user(2)
    bot_id, key, bot_name = await agent(api)
    cid = await api.direct(person[1], bot_id)
    other = await api.direct(person[1], eve[0])  # eve shares a conversation with the person only
    ws_person = await api.client(person)  # a /ws client sends
    s_bot = await Sio.open(server, auth={"apiKey": key})
    s_person = await Sio.open(server, auth={"token": person[1]})
    s_eve = await Sio.open(server, auth={"token": eve[1]})
    w_bot = await ApiWs.open(server, headers={"X-API-Key": key})
    # The bot's connections announce it in its conversation.
    online = await s_person.event("participant:online", conversationId=cid, userId=bot_id)
    assert online["userType"] == "agent" and online["agentId"] == bot_name

    assert (await s_bot.call("join:conversation", cid)) == {"success": True}
    assert (await s_eve.call("join:conversation", cid))["error"] == "Not a participant"

    # A /ws message reaches Socket.IO and /api/ws, as the message row, not eve.
    sent = await ws_person.ok("chat/messages/ack", "SendChatMessageWithClientId", text(cid, "hi"))
    mid = sent["data"]["message_id"]
    row = await s_bot.event("message:new", id=mid)
    assert row["conversation_id"] == cid and row["sender_id"] == person[0]
    assert row["sender_type"] == "user" and row["content_type"] == "text/plain"
    assert isinstance(row["sequence"], int) and row["content"] == "hi"
    assert (await w_bot.event("message:new", id=mid)) == row
    assert (await s_person.event("message:new", id=mid)) == row

    # The agent answers over Socket.IO with Symbia's fields; sender_type is the account's.
    ack = await s_bot.call(
        "message:send",
        {
            "conversationId": cid,
            "content": "**ok**",
            "contentType": "text/markdown",
            "runId": RUN,
            "priority": "high",
            "metadata": {"k": 1},
        },
    )
    assert ack["success"] is True
    reply = ack["message"]
    assert reply["sender_type"] == "agent" and reply["content_type"] == "text/markdown"
    assert reply["run_id"] == RUN and reply["sequence"] > row["sequence"]
    got = await s_person.event("message:new", id=reply["id"])
    assert got["metadata"] == {"k": 1} and got["priority"] == "high"
    assert (await s_bot.event("message:new", id=reply["id"]))["id"] == reply["id"]  # sender too
    seen = await ws_person.wait_for(
        lambda f: f["type"] == "ChatMessageReceived" and f["data"]["message_id"] == reply["id"]
    )
    assert seen["data"]["content"] == "**ok**"
    bad = await s_bot.call("message:send", {"conversationId": cid, "content": "x", "priority": "?"})
    assert bad["success"] is False and bad["path"] == "$.data.priority"
    assert (await s_eve.call("message:send", {"conversationId": cid, "content": "x"}))[
        "error"
    ] == "Not a participant"

    # Edit and delete: only the sender; not yours is not found.
    assert (await s_person.call("message:edit", {"messageId": reply["id"], "content": "no"}))[
        "success"
    ] is False
    assert (await s_eve.call("message:delete", reply["id"]))["error"] == "Message not found"
    edited = await w_bot.call("message:edit", {"messageId": reply["id"], "content": "**done**"})
    assert edited["success"] is True and edited["message"]["content"] == "**done**"
    upd = await s_person.event("message:updated", id=reply["id"])
    assert upd["content"] == "**done**" and upd["updated_at"] is not None
    assert (await s_bot.call("message:delete", reply["id"])) == {"success": True}
    assert (await s_person.event("message:deleted", id=reply["id"])) == {
        "id": reply["id"],
        "conversationId": cid,
    }
    # control:send: a member without a capability is refused, as over REST (the
    # enforced effects: test_symbia_realtime_streams.py).
    ctl = await s_bot.call("control:send", {"conversationId": cid, "event": "stream.pause"})
    assert ctl["success"] is False, ctl
    assert ctl["error"] == "Not authorized to send control events", ctl

    # Leaving the room mutes it on that socket only; joining again unmutes it.
    assert (await s_bot.call("leave:conversation", cid)) == {"success": True}
    m2 = await ws_person.ok("chat/messages/ack", "SendChatMessageWithClientId", text(cid, "two"))
    await w_bot.event("message:new", id=m2["data"]["message_id"])
    assert (await s_bot.call("join:conversation", cid)) == {"success": True}
    m3 = await ws_person.ok("chat/messages/ack", "SendChatMessageWithClientId", text(cid, "3"))
    await s_bot.event("message:new", id=m3["data"]["message_id"])
    assert not s_bot.seen("message:new", id=m2["data"]["message_id"])

    # Typing: to the other members only, not the typist, not eve; /ws too.
    assert (await s_person.call("typing:start", cid))["success"] is True
    t = await s_bot.event("typing:started", conversationId=cid)
    assert t == {"conversationId": cid, "userId": person[0], "userType": "user"}
    await w_bot.event("typing:started", conversationId=cid)
    assert (await s_person.call("typing:stop", cid)) == {"success": True}
    await s_bot.event("typing:stopped", conversationId=cid, userId=person[0])
    assert (await s_eve.call("typing:start", cid))["error"] == "Not a participant"
    await s_bot.call("typing:start", cid)
    ws_t = await ws_person.wait_for(lambda f: f["type"] == "TypingStarted")
    assert ws_t["channel"] == "chat/typing" and ws_t["data"]["user_id"] == bot_id
    assert "seq" not in ws_t or ws_t["seq"] is None
    await ws_person.ok("chat/typing", "SetTyping", {"conversation_id": cid, "typing": True})
    await s_bot.wait_until(lambda: len(s_bot.seen("typing:started", userId=person[0])) == 2)

    # Presence: only to those who share a conversation.
    assert (await w_bot.call("presence:update", "busy")) == {"success": True, "status": "busy"}
    p = await s_person.event("presence:changed", userId=bot_id, status="busy")
    assert p == {"userId": bot_id, "userType": "agent", "agentId": bot_name, "status": "busy"}
    bad_status = await w_bot.call("presence:update", "asleep")
    assert bad_status["success"] is False and bad_status["code"] == "validation_failed"
    await s_person.call("presence:update", "away")
    await s_eve.event("presence:changed", userId=person[0], status="away")
    await s_bot.event("presence:changed", userId=person[0], status="away")

    # The last of everything eve could see: no event of the bot's conversation.
    assert not [d for n, d in s_eve.received if isinstance(d, dict) and cid in d.values()]
    assert not s_eve.seen("presence:changed", userId=bot_id)
    assert other
    for c in (s_bot, s_person, s_eve, w_bot):
        await c.close()
    await ws_person.close()


async def test_bad_frames_and_read_only_keys(server: ServerProcess, api: Api) -> None:
    ((uid, token, name),) = await api.user(1)
    w = await ApiWs.open(server, f"token={token}")
    await w.ws.send("not json")
    ack = await w.wait_until(lambda: w.acks.get(None))
    assert ack["data"]["code"] == "bad_frame"
    assert (await w.call("no:such", {}))["error"] == "Unknown event"
    await w.ws.send('{"event":"message:send","data":"' + "x" * 300_000 + '"}')
    await w.wait_until(lambda: w.acks[None]["data"]["code"] == "too_large")
    await w.close()
    r = await api.http.post(
        "/v1/api-keys",
        json={"name": "ro", "read_only": True},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 201, r.text
    s = await Sio.open(server, auth={"apiKey": r.json()["key"]})
    refusal = await s.call("typing:start", "x")
    assert refusal["success"] is False and refusal["code"] == "forbidden"
    await s.close()
    assert uid and name


@pytest.fixture
def quick_typing(tmp_path: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path / "typing", extra_env={"HUBBUB_TYPING_TTL_S": "0.3"}).start()
    yield proc
    proc.stop()


async def test_typing_expires_without_stop(quick_typing: ServerProcess) -> None:
    api = Api(quick_typing)
    a, b = await api.user(2)
    cid = await api.direct(a[1], b[0])
    sa = await Sio.open(quick_typing, auth={"token": a[1]})
    sb = await Sio.open(quick_typing, auth={"token": b[1]})
    wb = await api.client(b)
    await sa.call("typing:start", cid)
    await sb.event("typing:started", userId=a[0])
    stopped = await sb.event("typing:stopped", userId=a[0])  # the server's timer, no stop sent
    assert stopped == {"conversationId": cid, "userId": a[0], "userType": "user"}
    lapsed = await wb.wait_for(lambda f: f["type"] == "TypingStopped")
    assert lapsed["data"]["expired"] is True
    for s in (sa, sb):
        await s.close()
    await wb.close()
    await api.aclose()


@pytest.fixture
def pair(tmp_path: Path, pg_url: str, jetstream_url: str) -> Iterator[list[ServerProcess]]:
    env = {"HUBBUB_NATS_PREFIX": "hubbub_sym_" + secrets.token_hex(4)}
    nodes = [
        ServerProcess(
            tmp_path / f"n{i}",
            database_url=pg_url,
            nats_url=jetstream_url,
            extra_env={**env, "HUBBUB_NODE_ID": f"sym{i}"},
        ).start()
        for i in range(2)
    ]
    yield nodes
    for n in nodes:
        n.stop()


async def test_two_nodes_see_each_others_messages_and_typing(pair: list[ServerProcess]) -> None:
    n0, n1 = pair
    api = Api(n0)
    a, b, eve = await api.user(3)
    cid = await api.direct(a[1], b[0])
    sa = await Sio.open(n0, auth={"token": a[1]})
    sb = await Sio.open(n1, auth={"token": b[1]})
    se = await Sio.open(n1, auth={"token": eve[1]})
    wb = await ApiWs.open(n1, f"token={b[1]}")
    online = await sa.event("participant:online", conversationId=cid, userId=b[0])
    assert online["userType"] == "user"

    ack = await sa.call("message:send", {"conversationId": cid, "content": "from n0"})
    mid = ack["message"]["id"]
    assert (await sb.event("message:new", id=mid))["content"] == "from n0"
    await wb.event("message:new", id=mid)
    back = await sb.call("message:send", {"conversationId": cid, "content": "from n1"})
    await sa.event("message:new", id=back["message"]["id"])

    await sb.call("typing:start", cid)
    await sa.event("typing:started", conversationId=cid, userId=b[0])
    await sb.call("typing:stop", cid)
    await sa.event("typing:stopped", conversationId=cid, userId=b[0])
    await sa.call("message:edit", {"messageId": mid, "content": "edited"})
    assert (await sb.event("message:updated", id=mid))["content"] == "edited"
    await sa.call("presence:update", "busy")
    await sb.event("presence:changed", userId=a[0], status="busy")

    # A control event sent over Socket.IO on node 0 reaches Socket.IO and
    # /api/ws on node 1, and its effect holds there (the run is shared).
    owner, bot = await person(n0), await person(n0, agent=True)
    gid = (await group(owner, bot))["id"]
    so = await Sio.open(n0, auth={"token": owner.token})
    sg = await Sio.open(n1, auth={"token": bot.token})
    wg = await ApiWs.open(n1, f"token={bot.token}")
    run = str(uuid.uuid4())
    tok = {"conversationId": gid, "content": "tok", "runId": run}
    first = await sg.call("message:send", tok)
    assert (await so.event("message:new", id=first["message"]["id"])) == first["message"]
    ctl = await so.call(
        "control:send", {"conversationId": gid, "event": "stream.pause", "runId": run}
    )
    assert ctl["success"] is True, ctl
    got = await sg.event("stream.pause", runId=run)
    assert got["conversationId"] == gid and (await wg.event("stream.pause", runId=run)) == got
    assert (await sg.call("message:send", tok))["code"] == "run_paused"

    assert not se.seen("message:new") and not se.seen("typing:started")
    assert not se.seen("presence:changed", userId=a[0]) and not se.seen("stream.pause")
    for s in (sa, sb, se, wb, so, sg, wg):
        await s.close()
    for p in (owner, bot):
        await p.aclose()
    await api.aclose()


async def test_revocation_polling_and_going_away(server: ServerProcess, api: Api) -> None:
    a, b = await api.user(2)
    cid = await api.direct(a[1], b[0])
    # Long-polling (Socket.IO's first transport in browsers) is served too.
    sb = await Sio.open(server, auth={"token": b[1]}, transports=["polling"])
    r = await api.http.post(
        "/v1/auth/login", json={"username": a[2], "password": PW, "device_id": "second"}
    )
    assert r.status_code == 200, r.text
    second = r.json()["token"]
    # On WebSocket from the start: a kick that lands during the client's
    # polling-to-WebSocket upgrade reached it only at its ping timeout (seen once
    # on a loaded CI machine), which is python-socketio's, not what this tests.
    sa = await Sio.open(server, auth={"token": second}, transports=["websocket"])
    await sb.event("presence:changed", userId=a[0], status="online")
    await sa.call("typing:start", cid)
    await sb.event("typing:started", userId=a[0])
    # Signing that device out cuts its socket; its typing stops; presence goes offline.
    out = await api.http.post("/v1/auth/logout", headers={"Authorization": f"Bearer {second}"})
    assert out.status_code == 204
    await sa.wait_until(lambda: not sa.client.connected)
    await sb.event("typing:stopped", userId=a[0])
    await sb.event("presence:changed", userId=a[0], status="offline")
    await sb.close()


async def test_connections_are_chat_events_and_rate_limited(inproc: InProc) -> None:
    """Spec 004 for Socket.IO and /api/ws: connected, disconnected, rate limited
    (the in-process server allows bursts of 40 at 5/s)."""
    sub = inproc.node.chat_events_sink.subscribe()  # type: ignore[attr-defined]
    api = Api(inproc)  # type: ignore[arg-type]
    [a] = await api.user(1)
    s = await Sio.open(inproc, auth={"token": a[1]}, headers={"traceparent": TP})  # type: ignore[arg-type]
    conn = decoded(await next_event(sub, "userConnected", user_id=a[0]))
    check_envelope(conn, "userConnected", a[0], "ns-test")
    assert conn.clientId == "socket.io" and conn.traceId == TRACE
    # Calls until one is limited: 40 pass at once, the rest only as fast as
    # 5/s refill, so a slow machine needs more than 41 calls, never unbounded.
    acks: list[Any] = []
    while len(acks) < 400 and all(x["success"] for x in acks):
        acks.append(await s.call("presence:update", "online"))
    limited = [x for x in acks if not x["success"]]
    assert limited and limited[0]["code"] == "rate_limited" and limited[0]["retryAfterMs"] > 0
    await next_event(sub, "userChatRateLimited", user_id=a[0])
    await s.close()
    bye = decoded(await next_event(sub, "userDisconnected", user_id=a[0]))
    assert bye.sessionId == conn.sessionId and bye.payload.userDisconnected.forced is False
    w = await ApiWs.open(inproc, f"token={a[1]}")  # type: ignore[arg-type]
    conn2 = decoded(await next_event(sub, "userConnected", user_id=a[0]))
    assert conn2.clientId == "api-ws"
    await w.close()
    await next_event(sub, "userDisconnected", user_id=a[0])
    await api.aclose()


async def test_a_token_in_the_query_string_never_reaches_the_log(
    server: ServerProcess, api: Api
) -> None:
    """uvicorn logs every WebSocket handshake with its path: the query string
    (`?token=`, which browsers must use) is redacted before it is written."""
    ((_uid, token, _),) = await api.user(1)
    marker = secrets.token_hex(8)
    w = await ApiWs.open(server, f"token={token}&probe={marker}")
    await w.close()

    def logged() -> str:
        return server.log_path.read_text(errors="replace")

    deadline = asyncio.get_running_loop().time() + 10
    while "/api/ws?[redacted]" not in logged():  # the handshake's line, once written
        assert asyncio.get_running_loop().time() < deadline, logged()[-2000:]
        await asyncio.sleep(0.05)  # a poll interval, not a timing assumption
    assert token not in logged() and marker not in logged()
