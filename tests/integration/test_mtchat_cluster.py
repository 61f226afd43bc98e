"""Spec 003 across two nodes sharing one PostgreSQL and one NATS: REST on one
node, MTChat WebSockets on the other; events, subscriptions and presence
reach the right users wherever they are connected."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.integration.mtchat import ENV, Mt, MtSocket, create_dialog, scope_header
from tests.support import ServerProcess

SCOPE = scope_header(["tenant-c"])


@pytest.fixture
def pair(tmp_path: Path, pg_url: str, jetstream_url: str) -> Iterator[list[ServerProcess]]:
    env = {**ENV, "HUBBUB_NATS_PREFIX": "hubbub_mt_" + secrets.token_hex(4)}
    nodes = [
        ServerProcess(
            tmp_path / f"n{i}",
            database_url=pg_url,
            nats_url=jetstream_url,
            extra_env={**env, "HUBBUB_NODE_ID": f"mt{i}"},
        ).start()
        for i in range(2)
    ]
    yield nodes
    for n in nodes:
        n.stop()


async def test_events_cross_nodes(pair: list[ServerProcess]) -> None:
    n0, n1 = pair
    alice, bob = Mt(n0, scope=SCOPE), Mt(n0, scope=SCOPE)  # REST on node 0
    eve = Mt(n0, scope=scope_header(["tenant-other"]))
    cid = await create_dialog(n0, [alice], [{"scope_level0": ["tenant-c"]}])
    ws_a = await MtSocket.open(n1, f"token={alice.token}")  # sockets on node 1
    ws_b = await MtSocket.open(n1, f"token={bob.token}&scope_config={quote(SCOPE)}")
    ws_e = await MtSocket.open(n1, f"token={eve.token}&scope_config={quote(eve.scope)}")

    # Bob watches the dialog before joining; eve's scope does not let her.
    await ws_b.send({"type": "subscribe", "dialog_id": cid})
    await ws_b.send({"type": "ping"})
    await ws_b.event("pong")
    m1 = (await alice.ok("POST", f"/dialogs/{cid}/messages", json={"content": "one"}))["data"]
    await ws_a.event("message.new", id=m1["id"])
    await ws_b.event("message.new", id=m1["id"])

    await bob.ok("POST", f"/dialogs/{cid}/join", json={"display_name": "Bob", "company": "B"})
    await ws_a.event("participant.joined", dialog_id=cid, user_id=bob.user)
    m2 = (await bob.ok("POST", f"/dialogs/{cid}/messages", json={"content": "two"}))["data"]
    await ws_a.event("message.new", id=m2["id"], sender_id=bob.user)
    await bob.ok("PUT", f"/dialogs/{cid}/messages/{m2['id']}", json={"content": "2"})
    await ws_a.event("message.edited", id=m2["id"], content="2")
    await alice.ok("POST", f"/dialogs/{cid}/read", json={"last_read_message_id": m2["id"]})
    await ws_b.event("message.read", user_id=alice.user, last_read_message_id=m2["id"])
    await alice.ok("POST", f"/dialogs/{cid}/archive")
    await ws_a.event("dialog.archived", dialog_id=cid)

    # Presence between nodes: bob's socket on node 0 is seen by alice on node 1.
    ws_b0 = await MtSocket.open(n0, f"token={bob.token}")
    await ws_b0.send({"type": "ping"})
    await ws_b0.event("pong")
    await ws_b.close()
    await ws_b0.close()
    await ws_a.event("presence.update", user_id=bob.user, is_online=False)

    await ws_e.send({"type": "subscribe", "dialog_id": cid})
    await ws_e.event("error")
    assert not ws_e.seen("message.new")
    for s in (ws_a, ws_e):
        await s.close()
    for c in (alice, bob, eve):
        await c.aclose()
