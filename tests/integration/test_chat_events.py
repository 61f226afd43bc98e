"""Spec 004: chat events, decoded with the generated protobuf classes.

Without NATS (the in-process subscriber API): a server runs in this process
on a real port, real clients speak `/ws` and spec 001 to it, and every event
type arrives with every field right. With NATS JetStream: a server relays
to a real stream; a node SIGKILLed between committing messages and
publishing them (its relay off) publishes them after the restart, once each,
`Nats-Msg-Id` = event id, protobuf and JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pytest
import uvicorn

from hubbub.app import Edge, create_app
from hubbub.config import Settings
from hubbub.core.chatevents import event_id_of_message
from hubbub.core.ports.chatevents import ChatEvent
from hubbub.protocols.chatevents import chat_pb2
from hubbub.protocols.chatevents.codec import as_dict, encode
from hubbub.protocols.chatevents.inprocess import InProcessChatEvents, Subscription
from hubbub.protocols.chatevents.jetstream import stream_name
from hubbub.protocols.wsserver import websocket_protocol
from hubbub.runtime import Node
from tests.roomclient import RoomClient
from tests.support import Api, Client, ServerProcess

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
TP = f"00-{TRACE}-00f067aa0ba902b7-01"
ENVELOPE = (
    "id",
    "version",
    "name",
    "namespace",
    "parentNamespace",
    "timestamp",
    "clientId",
    "userId",
    "traceId",
    "sessionId",
    "spanContext",
)


@dataclass
class InProc:
    """A server in this process: `base_url`/`ws_url` as `ServerProcess` has them."""

    node: Node
    base_url: str

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/ws"


@pytest.fixture
async def inproc(tmp_path: Path) -> AsyncIterator[InProc]:
    settings = Settings(
        port=0,
        data_dir=tmp_path / "data",
        argon2_time_cost=1,
        argon2_memory_kib=64,
        rate_per_second=5,
        rate_burst=40,
        chat_events_namespace="ns-test",
        registration="open",  # as every test server (tests/support.py OPEN_DOORS)
        auth_rate_limit=False,
    )
    app = create_app(settings)
    node: Node = app.state.node
    config = uvicorn.Config(
        Edge(app, node),
        host="127.0.0.1",
        port=0,
        ws=websocket_protocol(),
        lifespan="on",
        log_config=None,
        access_log=False,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "server failed to start"
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield InProc(node, f"http://127.0.0.1:{port}")
    server.should_exit = True
    with contextlib.suppress(Exception):
        await asyncio.wait_for(task, 10)


async def next_event(sub: Subscription, name: str, timeout: float = 10, **match: Any) -> ChatEvent:
    async def find() -> ChatEvent:
        while True:
            ev = await sub.get()
            if ev.name == name and all(getattr(ev, k) == v for k, v in match.items()):
                return ev

    return await asyncio.wait_for(find(), timeout)


def decoded(ev: ChatEvent) -> chat_pb2.Event:
    """The event through the wire: protobuf bytes, parsed by the generated class."""
    msg = chat_pb2.Event()
    msg.ParseFromString(encode(ev, "protobuf"))
    return msg


def check_envelope(msg: chat_pb2.Event, name: str, user_id: str, namespace: str) -> None:
    assert msg.name == name and msg.userId == user_id and msg.namespace == namespace
    assert msg.version == 1 and msg.id and msg.timestamp.endswith("Z")
    assert len(msg.traceId) == 32 and msg.spanContext.split("-")[1] == msg.traceId
    assert msg.sessionId


async def test_every_event_type_in_process(inproc: InProc) -> None:
    sink = inproc.node.chat_events_sink
    assert isinstance(sink, InProcessChatEvents)
    sub = sink.subscribe()
    api = Api(inproc)  # type: ignore[arg-type]
    a, b, c = await api.user(3)
    dm = await api.direct(a[1], b[0])
    ca = await Client(inproc, a[0], a[1], "a-dev").connect(headers={"traceparent": TP})  # type: ignore[arg-type]

    conn = decoded(await next_event(sub, "userConnected", user_id=a[0]))
    check_envelope(conn, "userConnected", a[0], "ns-test")
    assert conn.traceId == TRACE and conn.clientId == "a-dev"
    assert conn.payload.WhichOneof("kind") == "userConnected"

    r = await ca.ok(
        "chat/messages/ack",
        "SendChatMessageWithClientId",
        {"client_message_id": "k1", "conversation_id": dm, "content": "hi b"},
    )
    mid = r["data"]["message_id"]
    ev = await next_event(sub, "personalChatSent", user_id=a[0])
    msg = decoded(ev)
    check_envelope(msg, "personalChatSent", a[0], "ns-test")
    assert msg.id == event_id_of_message(mid) and msg.traceId == TRACE
    assert msg.clientId == "a-dev" and msg.sessionId == conn.sessionId
    p = msg.payload.personalChatSent
    assert (p.message_id, p.sender_id, p.target_id, p.payload, p.target_type) == (
        mid,
        a[0],
        b[0],
        "hi b",
        "user",
    )
    assert list(p.target_members) == [b[0]]
    # the JSON form has the seed's keys exactly
    doc = msgspec.json.decode(encode(ev, "json"))
    assert set(doc) == {"payload", *ENVELOPE}
    assert set(doc["payload"]["personalChatSent"]) == {
        "message_id",
        "sender_id",
        "target_id",
        "payload",
        "target_type",
        "target_members",
    }
    assert doc == as_dict(ev)

    g = await ca.ok(
        "chat/groups",
        "CreateGroup",
        {"name": "g", "member_ids": [b[0], c[0]], "client_request_id": "g"},
    )
    gid = g["data"]["group_id"]
    e2e = await ca.ok(
        "chat/messages",
        "SendEncryptedMessage",
        {
            "conversation_id": gid,
            "ciphertext": "c2VjcmV0",
            "nonce": "bg==",
            "algorithm": "AES-GCM",
            "key_id": "k",
        },
    )
    assert e2e["type"] != "Error"
    p = decoded(await next_event(sub, "personalChatSent", user_id=a[0])).payload.personalChatSent
    assert (p.target_type, p.target_id, p.payload) == ("group", gid, "c2VjcmV0")
    assert sorted(p.target_members) == sorted([b[0], c[0]])

    # spec 001: a room message is a group message of the room's conversation
    room = await RoomClient(inproc).connect({"traceparent": TP})  # type: ignore[arg-type]
    await room.init()
    joined = decoded(await next_event(sub, "userConnected", client_id=room.handle))
    assert joined.traceId == TRACE
    sent = await room.text("hello room")
    ev = await next_event(sub, "personalChatSent", client_id=room.handle)
    msg = decoded(ev)
    assert msg.userId == joined.userId and msg.traceId == TRACE
    p = msg.payload.personalChatSent
    assert (p.message_id, p.payload, p.target_type) == (sent["id"], "hello room", "group")
    assert p.sender_id == joined.userId and p.target_id == await inproc.node.rooms.room_id()

    # rate limited (/ws: 40 burst, 5/s): one event per burst, under the seed's key
    for _ in range(60):
        await ca.send_raw(
            msgspec.json.encode(
                {"channel": "status/response", "type": "RequestStatus", "data": {}}
            ).decode()
        )
    await ca.wait_for(lambda f: f.get("data", {}).get("code") == "rate_limited")
    lim = decoded(await next_event(sub, "userChatRateLimited", user_id=a[0]))
    check_envelope(lim, "userChatRateLimited", a[0], "ns-test")
    assert lim.payload.WhichOneof("kind") == "userDisconnected"
    d = lim.payload.userDisconnected
    assert d.code == 429 and not d.forced and "rate limited" in d.reason

    await ca.close()
    bye = decoded(await next_event(sub, "userDisconnected", user_id=a[0]))
    check_envelope(bye, "userDisconnected", a[0], "ns-test")
    d = bye.payload.userDisconnected
    assert (d.code, d.forced) == (1000, False) and d.reason
    await room.close()
    left = decoded(await next_event(sub, "userDisconnected", client_id=room.handle))
    assert left.payload.userDisconnected.code == 1000
    await api.aclose()


# -- on NATS JetStream ------------------------------------------------------------


async def jetstream_events(
    url: str, prefix: str, want: int, timeout: float = 20, delete: bool = True
) -> list[Any]:
    """Every message of the chat-event stream, once `want` have arrived."""
    import nats

    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        sub = await js.subscribe(f"{prefix}.chat_events.>", ordered_consumer=True)
        got: list[Any] = []
        deadline = asyncio.get_running_loop().time() + timeout
        while len(got) < want:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                break
            with contextlib.suppress(TimeoutError, nats.errors.TimeoutError):
                got.append(await sub.next_msg(timeout=min(left, 1.0)))
        # and nothing more (no duplicate) within a short grace
        with contextlib.suppress(TimeoutError, nats.errors.TimeoutError):
            while True:
                got.append(await sub.next_msg(timeout=1.0))
        return got
    finally:
        if delete:
            with contextlib.suppress(Exception):
                await nc.jetstream().delete_stream(stream_name(prefix))
        await nc.close()


@pytest.mark.parametrize("fmt", ["protobuf", "json"])
async def test_sigkill_between_commit_and_publish(
    tmp_path: Path, jetstream_url: str, fmt: str
) -> None:
    prefix = "hubbub_t_" + secrets.token_hex(4)
    env = {"HUBBUB_NATS_PREFIX": prefix, "HUBBUB_CHAT_EVENTS_FORMAT": fmt}
    # Its own database: the relay's cursor is per database, and the session's
    # servers (another NATS prefix) relay the shared one.
    srv = ServerProcess(
        tmp_path / "n",
        nats_url=jetstream_url,
        database_url=f"sqlite:///{tmp_path / 'ev.db'}",
        extra_env={**env, "HUBBUB_CHAT_EVENTS_RELAY": "false"},
    )
    srv.start()
    api = Api(srv)
    a, b = await api.user(2)
    dm = await api.direct(a[1], b[0])
    ca = await Client(srv, a[0], a[1], "a-dev").connect(headers={"traceparent": TP})
    r = await ca.ok(
        "chat/messages/ack",
        "SendChatMessageWithClientId",
        {"client_message_id": "k1", "conversation_id": dm, "content": "over ws"},
    )
    ws_mid = r["data"]["message_id"]
    room = await RoomClient(srv).connect()
    await room.init()
    room_mid = (await room.text("over spec 001"))["id"]
    # committed and acked, never relayed (the connections were announced)
    before = await jetstream_events(jetstream_url, prefix, want=2, delete=False)
    assert [m.subject.rsplit(".", 1)[-1] for m in before] == ["userConnected"] * 2
    srv.kill9()  # the node dies now
    await api.aclose()
    srv.extra_env = env
    srv.start()  # the relay is on again, from its cursor
    try:
        msgs = await jetstream_events(jetstream_url, prefix, want=4)
    finally:
        srv.stop()
    events = []
    for m in msgs:
        if fmt == "protobuf":
            assert m.headers["Content-Type"] == "application/protobuf"
            ev = chat_pb2.Event()
            ev.ParseFromString(m.data)
            events.append((m, ev.name, ev.id, ev))
        else:
            assert m.headers["Content-Type"] == "application/json"
            doc = msgspec.json.decode(m.data)
            assert set(doc) == {"payload", *ENVELOPE}
            events.append((m, doc["name"], doc["id"], doc))
        assert m.headers["Nats-Msg-Id"] == events[-1][2]
        assert m.subject.startswith(f"{prefix}.chat_events.")
    sent = [e for e in events if e[1] == "personalChatSent"]
    ids = [e[2] for e in sent]
    assert sorted(ids) == sorted({event_id_of_message(ws_mid), event_id_of_message(room_mid)})
    for m, _, eid, ev in sent:
        assert m.subject == f"{prefix}.chat_events.personalChat.personalChatSent"
        p = (
            ev.payload.personalChatSent
            if fmt == "protobuf"
            else msgspec.convert(ev["payload"]["personalChatSent"], dict)
        )
        get = (lambda k, p=p: getattr(p, k)) if fmt == "protobuf" else (lambda k, p=p: p[k])
        if eid == event_id_of_message(ws_mid):
            assert (get("payload"), get("target_type"), get("target_id")) == (
                "over ws",
                "user",
                b[0],
            )
            assert list(get("target_members")) == [b[0]]
            trace = ev.traceId if fmt == "protobuf" else ev["traceId"]
            assert trace == TRACE  # kept with the message across the crash
        else:
            assert (get("payload"), get("target_type")) == ("over spec 001", "group")
    # the connections of the first run were announced while it lived
    names = [e[1] for e in events]
    assert names.count("userConnected") >= 2


async def _relay_owner(url: str) -> str | None:
    import asyncpg

    conn = await asyncpg.connect(url, timeout=5)
    try:
        owner: str | None = await conn.fetchval(
            "SELECT owner FROM relay_cursors WHERE name = 'chatevents'"
        )
        return owner
    finally:
        await conn.close()


async def test_another_node_takes_the_relay_over(tmp_path: Path, jetstream_url: str) -> None:
    """Two nodes on one database: the relay's node is SIGKILLed; a message sent
    on the other afterwards is published by it once the lease has run out."""
    from tests.conftest import PG_ADMIN_URL, REQUIRE, _pg_create, _pg_drop

    name = "hubbub_relay_" + secrets.token_hex(4)
    try:
        await _pg_create(name)
    except Exception as exc:
        if REQUIRE:
            raise
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    prefix = "hubbub_t_" + secrets.token_hex(4)
    env = {"HUBBUB_NATS_PREFIX": prefix}
    first = ServerProcess(
        tmp_path / "a",
        database_url=url,
        nats_url=jetstream_url,
        extra_env={**env, "HUBBUB_NODE_ID": "relay-a"},
    ).start()
    second: ServerProcess | None = None
    try:

        async def owner_is(node: str) -> None:
            while await _relay_owner(url) != node:  # noqa: ASYNC110 - state in another process
                await asyncio.sleep(0.05)

        await asyncio.wait_for(owner_is("relay-a"), 15)
        second = ServerProcess(
            tmp_path / "b",
            database_url=url,
            nats_url=jetstream_url,
            extra_env={**env, "HUBBUB_NODE_ID": "relay-b"},
        ).start()
        first.kill9()
        room = await RoomClient(second).connect()
        await room.init()
        mid = (await room.text("after the relay died"))["id"]
        msgs = await jetstream_events(jetstream_url, prefix, want=2, timeout=30)
        assert await _relay_owner(url) == "relay-b"
        sent = []
        for m in msgs:
            ev = chat_pb2.Event.FromString(m.data)
            if ev.name == "personalChatSent":
                sent.append(ev)
        assert [e.id for e in sent] == [event_id_of_message(mid)]
        assert sent[0].payload.personalChatSent.payload == "after the relay died"
        await room.close()
    finally:
        first.stop()
        if second is not None:
            second.stop()
        await _pg_drop(name)


async def test_every_event_type_on_jetstream(tmp_path: Path, jetstream_url: str) -> None:
    """Each event type from a real server, read back from JetStream and decoded
    with the generated classes, every field checked."""
    prefix = "hubbub_t_" + secrets.token_hex(4)
    env = {
        "HUBBUB_NATS_PREFIX": prefix,
        "HUBBUB_RATE_PER_SECOND": "5",
        "HUBBUB_RATE_BURST": "30",
        "HUBBUB_CHAT_EVENTS_NAMESPACE": "ns-js",
    }
    srv = ServerProcess(
        tmp_path / "js",
        nats_url=jetstream_url,
        database_url=f"sqlite:///{tmp_path / 'js.db'}",
        extra_env=env,
    ).start()
    try:
        api = Api(srv)
        a, b, c = await api.user(3)
        dm = await api.direct(a[1], b[0])
        ca = await Client(srv, a[0], a[1], "a-dev").connect(headers={"traceparent": TP})
        r = await ca.ok(
            "chat/messages/ack",
            "SendChatMessageWithClientId",
            {"client_message_id": "k1", "conversation_id": dm, "content": "hi b"},
        )
        dm_mid = r["data"]["message_id"]
        g = await ca.ok(
            "chat/groups",
            "CreateGroup",
            {"name": "g", "member_ids": [b[0], c[0]], "client_request_id": "g"},
        )
        gid = g["data"]["group_id"]
        await ca.ok(
            "chat/messages",
            "SendEncryptedMessage",
            {
                "conversation_id": gid,
                "ciphertext": "c2VjcmV0",
                "nonce": "bg==",
                "algorithm": "AES-GCM",
                "key_id": "k",
            },
        )
        room = await RoomClient(srv).connect()
        await room.init()
        room_mid = (await room.text("in the room"))["id"]
        for _ in range(50):
            await ca.send_raw(
                msgspec.json.encode(
                    {"channel": "status/response", "type": "RequestStatus", "data": {}}
                ).decode()
            )
        await ca.wait_for(lambda f: f.get("data", {}).get("code") == "rate_limited")
        await ca.close()
        await room.close()
        await api.aclose()
        # 2 connected, 3 sent, 1 rate limited, 2 disconnected
        msgs = await jetstream_events(jetstream_url, prefix, want=8)
    finally:
        srv.stop()
    events = [chat_pb2.Event.FromString(m.data) for m in msgs]
    for m, ev in zip(msgs, events, strict=True):
        assert m.headers["Nats-Msg-Id"] == ev.id
        topic = "personalChat" if ev.name == "personalChatSent" else "chat"
        assert m.subject == f"{prefix}.chat_events.{topic}.{ev.name}"
        assert ev.namespace == "ns-js"
        assert ev.version == 1 and ev.timestamp.endswith("Z") and ev.sessionId and ev.clientId
        assert len(ev.traceId) == 32 and ev.spanContext.split("-")[1] == ev.traceId
    by_name: dict[str, list[chat_pb2.Event]] = {}
    for ev in events:
        by_name.setdefault(ev.name, []).append(ev)
    assert sorted(by_name) == [
        "personalChatSent",
        "userChatRateLimited",
        "userConnected",
        "userDisconnected",
    ]
    mine = [e for e in by_name["userConnected"] if e.userId == a[0]]
    assert len(mine) == 1 and mine[0].traceId == TRACE and mine[0].clientId == "a-dev"
    assert mine[0].payload.WhichOneof("kind") == "userConnected"
    sent = {e.payload.personalChatSent.message_id: e for e in by_name["personalChatSent"]}
    assert set(sent) >= {dm_mid, room_mid}
    p = sent[dm_mid].payload.personalChatSent
    assert (p.sender_id, p.target_id, p.payload, p.target_type, list(p.target_members)) == (
        a[0],
        b[0],
        "hi b",
        "user",
        [b[0]],
    )
    assert sent[dm_mid].id == event_id_of_message(dm_mid) and sent[dm_mid].traceId == TRACE
    [e2e] = [e for e in sent.values() if e.payload.personalChatSent.target_id == gid]
    p = e2e.payload.personalChatSent
    assert (p.payload, p.target_type, sorted(p.target_members)) == (
        "c2VjcmV0",
        "group",
        sorted([b[0], c[0]]),
    )
    assert sent[room_mid].payload.personalChatSent.payload == "in the room"
    [lim] = by_name["userChatRateLimited"]
    assert lim.userId == a[0] and lim.payload.WhichOneof("kind") == "userDisconnected"
    assert lim.payload.userDisconnected.code == 429
    bye = {e.userId: e.payload.userDisconnected for e in by_name["userDisconnected"]}
    assert (bye[a[0]].code, bye[a[0]].forced) == (1000, False)
    assert len(bye) == 2


async def test_mtchat_connections_are_chat_events_too(inproc: InProc) -> None:
    """Spec 004 covers every protocol's connections: MTChat's WebSocket (spec 003)."""
    from websockets.asyncio.client import connect

    sub = inproc.node.chat_events_sink.subscribe()  # type: ignore[attr-defined]
    api = Api(inproc)  # type: ignore[arg-type]
    [a] = await api.user(1)
    url = inproc.base_url.replace("http://", "ws://") + f"/api/v1/ws?token={a[1]}"
    async with connect(url, additional_headers={"traceparent": TP}) as ws:
        hello = msgspec.json.decode(await ws.recv())
        assert hello["type"] == "connected"
        conn = decoded(await next_event(sub, "userConnected", user_id=a[0]))
        check_envelope(conn, "userConnected", a[0], "ns-test")
        assert conn.traceId == TRACE and conn.clientId == "mtchat"
    bye = decoded(await next_event(sub, "userDisconnected", user_id=a[0]))
    check_envelope(bye, "userDisconnected", a[0], "ns-test")
    assert bye.sessionId == conn.sessionId and bye.traceId == TRACE
    d = bye.payload.userDisconnected
    assert d.forced is False and d.code == 1000
    await api.aclose()


async def _relayed_to_head(node: Node) -> None:
    """Until the relay's cursor is at the stream head (it polls on its own)."""
    head = await node.stores.events.max_pos()
    while (node.chat_relay.cursor or 0) < head:  # noqa: ASYNC110 - the relay's own loop moves it
        await asyncio.sleep(0.02)


async def test_without_a_subscriber_the_relay_skips_messages(inproc: InProc) -> None:
    """Nobody subscribed in process: messages are passed without being read back;
    a subscriber that attaches gets the events of messages committed after it."""
    node, sink = inproc.node, inproc.node.chat_events_sink
    assert isinstance(sink, InProcessChatEvents) and not sink.consumed()
    room = await RoomClient(inproc).connect()  # type: ignore[arg-type]
    await room.init()
    for n in range(5):
        await room.text(f"unheard {n}")
    await asyncio.wait_for(_relayed_to_head(node), 10)
    assert node.chat_relay.published == 0 and node.chat_relay.skipped >= 1
    assert sink.published == 0  # not even built

    sub = sink.subscribe()
    assert sink.consumed()
    sent = await room.text("heard")
    ev = await next_event(sub, "personalChatSent")
    assert ev.payload["message_id"] == sent["id"] and ev.payload["payload"] == "heard"
    assert node.chat_relay.published == 1
    sub.close()
    assert not sink.consumed()
    await room.close()


async def test_a_skip_relays_nothing_so_the_relay_waits(inproc: InProc) -> None:
    """A step that skips (nobody consumes) moves the cursor to the head but
    reports that nothing was relayed, so the relay's loop waits (`skip_idle_s`) instead
    of stepping again at once; stepping at once under steady traffic read the
    head and wrote the cursor once per group commit (issue 13: the fan-out
    benchmark's regression). With a subscriber, a step that relays says so."""
    node, sink = inproc.node, inproc.node.chat_events_sink
    assert isinstance(sink, InProcessChatEvents) and not sink.consumed()
    relay = node.chat_relay
    await relay.close()  # stepped by hand below
    assert relay.cursor is None
    room = await RoomClient(inproc).connect()  # type: ignore[arg-type]
    await room.init()
    for n in range(3):
        await room.text(f"unheard {n}")
    skipped = relay.skipped
    assert await relay.step() is False
    assert relay.cursor == await node.stores.events.max_pos()
    assert relay.skipped == skipped + 1 and relay.published == 0
    assert await relay.step() is False  # at the head: nothing to do either

    sub = sink.subscribe()
    sent = await room.text("heard")
    assert await relay.step() is True
    ev = await next_event(sub, "personalChatSent")
    assert ev.payload["message_id"] == sent["id"] and relay.published == 1
    assert relay.cursor == await node.stores.events.max_pos()
    assert await relay.step() is False
    sub.close()
    await room.close()


async def test_target_members_follow_joins_and_leaves(inproc: InProc) -> None:
    """`target_members` is as of each message's commit, through the relay's
    cached member windows: a leave and a join between two messages show."""
    sub = inproc.node.chat_events_sink.subscribe()  # type: ignore[attr-defined]
    api = Api(inproc)  # type: ignore[arg-type]
    a, b, c = await api.user(3)
    ca = await api.client(a, "a-dev")
    g = await ca.ok(
        "chat/groups",
        "CreateGroup",
        {"name": "g", "member_ids": [b[0], c[0]], "client_request_id": "g"},
    )
    gid = g["data"]["group_id"]

    async def say(text: str) -> list[str]:
        r = await ca.ok(
            "chat/messages/ack",
            "SendChatMessageWithClientId",
            {"client_message_id": text, "conversation_id": gid, "content": text},
        )
        ev = await next_event(sub, "personalChatSent")
        assert ev.payload["message_id"] == r["data"]["message_id"]
        return sorted(ev.payload["target_members"])

    assert await say("all three") == sorted([b[0], c[0]])
    assert await say("again") == sorted([b[0], c[0]])  # from the cache
    cc = await api.client(c, "c-dev")
    await cc.ok("group/membership", "LeaveGroup", {"group_id": gid})
    assert await say("c left") == [b[0]]

    # the room: a guest who joins is a recipient of the messages after it only
    x = await RoomClient(inproc).connect()  # type: ignore[arg-type]
    await x.init()
    x_id = (await next_event(sub, "userConnected", client_id=x.handle)).user_id
    first = await x.text("before y")
    ev1 = await next_event(sub, "personalChatSent", client_id=x.handle)
    y = await RoomClient(inproc).connect()  # type: ignore[arg-type]
    await y.init()
    y_id = (await next_event(sub, "userConnected", client_id=y.handle)).user_id
    second = await x.text("after y")
    ev2 = await next_event(sub, "personalChatSent", client_id=x.handle)
    assert ev1.payload["message_id"] == first["id"] and ev2.payload["message_id"] == second["id"]
    assert y_id not in ev1.payload["target_members"]
    assert y_id in ev2.payload["target_members"] and x_id not in ev2.payload["target_members"]
    for conn in (x, y):
        await conn.close()
    for client in (ca, cc):
        await client.close()
    await api.aclose()
