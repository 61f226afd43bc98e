"""Several hubbub processes sharing one PostgreSQL and one NATS.

Clients spread over the nodes exchange direct and group messages, receipts
and presence; then a node is SIGKILLed mid-traffic. Its clients reconnect to
another node and resume from their `seq`: no acked message lost, none twice,
order kept per conversation; a self-destruct timer it scheduled still fires;
and its users' presence expires instead of staying online.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import Api, Client, ServerProcess


@pytest.fixture
def cluster(tmp_path: Path, pg_url: str, jetstream_url: str) -> Iterator[list[ServerProcess]]:
    env = {
        "HUBBUB_NATS_PREFIX": "hubbub_t_" + secrets.token_hex(4),
        "HUBBUB_PRESENCE_TTL_S": "3",
        "HUBBUB_RATE_PER_SECOND": "10000",
        "HUBBUB_RATE_BURST": "10000",
    }
    nodes = [
        ServerProcess(
            tmp_path / f"n{i}",
            database_url=pg_url,
            nats_url=jetstream_url,
            extra_env={**env, "HUBBUB_NODE_ID": f"n{i}"},
        ).start()
        for i in range(3)
    ]
    yield nodes
    for n in nodes:
        n.stop()


async def connect(srv: ServerProcess, user: tuple[str, str, str], device: str) -> Client:
    return await Client(srv, user[0], user[1], device).connect()


def send_text(cid: str, content: str, key: str) -> dict[str, Any]:
    return {"client_message_id": key, "conversation_id": cid, "content": content}


async def test_cluster_delivery_and_node_death(cluster: list[ServerProcess]) -> None:
    n0, n1, n2 = cluster
    api = Api(n1)
    a, b, c, d = await api.user(4)
    dm = await api.direct(a[1], b[0])
    await api.direct(b[1], d[0])
    ca = await connect(n0, a, "a1")  # a lives on node 0
    cb = await connect(n1, b, "b1")  # b on node 1
    cb2 = await connect(n2, b, "b2")  # and on node 2
    cc = await connect(n2, c, "c1")
    cd = await connect(n0, d, "d1")  # d on node 0 and will not come back

    # direct message across nodes, to every device; receipt back across nodes
    r = await ca.ok("chat/messages/ack", "SendChatMessageWithClientId", send_text(dm, "hi", "h"))
    mid = r["data"]["message_id"]
    for client in (cb, cb2):
        await client.events("ChatMessageReceived", message_id=mid)
    await cb.ok(
        "chat/acks",
        "SendEncryptedAck",
        {"message_id": mid, "conversation_id": dm, "status": "read"},
    )
    [receipt] = await ca.events("EncryptedMessageAck", message_id=mid)
    assert receipt["data"]["user_id"] == b[0]

    # group across three nodes
    g = await cc.ok(
        "chat/groups",
        "CreateGroup",
        {"name": "g", "member_ids": [a[0], b[0]], "client_request_id": "g"},
    )
    gid = g["data"]["group_id"]
    for client in (ca, cb, cb2):
        await client.events("GroupCreated", group_id=gid)
    r = await cb.ok("chat/messages/ack", "SendChatMessageWithClientId", send_text(gid, "yo", "y"))
    for client in (ca, cc, cb2):
        await client.events("ChatMessageReceived", message_id=r["data"]["message_id"])

    # presence crosses nodes: b (node 1) saw a (node 0) online
    await cb.wait_for(
        lambda f: (
            f["type"] == "PresenceStatusUpdated"
            and f["data"]["user_id"] == d[0]
            and f["data"]["status"] == "online"
        )
    )

    # call signalling crosses nodes: a (node 0) rings b (nodes 1 and 2)
    offer = {"call_id": "c1", "to_user_id": b[0], "type": "offer", "payload": {"sdp": "v=0"}}
    await ca.ok("call/signaling", "SendCallSignal", offer)
    for client in (cb, cb2):
        await client.events("CallSignalReceived", call_id="c1")
    answer = {"call_id": "c1", "to_user_id": a[0], "type": "answer", "payload": {"sdp": "x"}}
    await cb2.ok("call/signaling", "SendCallSignal", answer)
    await ca.events("CallSignalReceived", type="answer")

    # a self-destruct timer scheduled on node 0 before it dies
    burn = await ca.ok(
        "chat/messages/ack",
        "SendChatMessageWithClientId",
        {**send_text(dm, "ephemeral", "burn"), "self_destruct": True, "ttl_seconds": 3},
    )

    # node 0 dies while a is sending to the group
    acked: dict[str, str] = {}
    total = 200

    async def sender() -> None:
        with contextlib.suppress(Exception):
            for i in range(total):
                rr = await ca.request(
                    "chat/messages/ack",
                    "SendChatMessageWithClientId",
                    send_text(gid, f"m{i}", f"k{i}"),
                    timeout=5,
                )
                assert rr["type"] == "ChatMessageAccepted"
                acked[f"k{i}"] = rr["data"]["message_id"]

    task = asyncio.create_task(sender())
    await cc.wait_for(lambda _f: len(acked) >= 30, timeout=30)
    n0.kill9()
    await task
    assert 30 <= len(acked) < total
    await asyncio.gather(ca.close(), cd.close())

    # a reconnects to node 1, retries everything with the same client ids
    ca = await connect(n1, a, "a1")
    for i in range(total):
        rr = await ca.ok(
            "chat/messages/ack", "SendChatMessageWithClientId", send_text(gid, f"m{i}", f"k{i}")
        )
        if f"k{i}" in acked:
            assert rr["data"]["message_id"] == acked[f"k{i}"]

    # every member resumes from what it had seen: each message once, in order
    for client in (cc, cb2):
        await client.events("ChatMessageReceived", total, timeout=30)
        last = client.max_seq()
        resp = await client.ok("sync/request", "SyncRequest", {"since_sequence": 0})
        changes = resp["data"]["changes"]
        got = [
            ch["data"]["content"]
            for ch in changes
            if ch["type"] == "ChatMessageReceived" and ch["data"]["conversation_id"] == gid
        ]
        assert got == ["yo"] + [f"m{i}" for i in range(total)]
        assert [ch["seq"] for ch in changes] == sorted({ch["seq"] for ch in changes})
        assert last <= resp["data"]["to_sequence"]

    # the timer node 0 scheduled fires on a surviving node, exactly once
    await cb.wait_for(
        lambda f: (
            f["type"] == "ChatMessageExpired"
            and f["data"]["message_id"] == burn["data"]["message_id"]
        ),
        timeout=20,
    )
    resp = await cb.ok("sync/request", "SyncRequest", {"since_sequence": 0})
    expired = [ch for ch in resp["data"]["changes"] if ch["type"] == "ChatMessageExpired"]
    assert len(expired) == 1

    # d's presence (on the dead node) expires: a fresh connection of b sees d offline
    async def d_offline() -> bool:
        probe = await connect(n2, b, "probe-" + secrets.token_hex(2))
        snap = await probe.events("PresenceStatusUpdated", user_id=d[0])
        await probe.close()
        return bool(snap[0]["data"]["status"] == "offline")

    async def until_offline() -> None:
        while not await d_offline():  # noqa: ASYNC110 - polls a remote condition
            await asyncio.sleep(0.5)

    await asyncio.wait_for(until_offline(), timeout=30)
    await asyncio.gather(ca.close(), cb.close(), cb2.close(), cc.close())
    await api.aclose()
