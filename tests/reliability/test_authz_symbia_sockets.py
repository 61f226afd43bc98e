"""The authorization matrix of Symbia's socket events (spec 002), beside
tests/reliability/test_authz_matrix.py, whose rows are HTTP requests.

Every client event that names a conversation or a message (join, message
send/edit/delete, control, typing start/stop), on `/api/ws` and on
Socket.IO, from a non-participant, a member of another organisation (the
conversation is org A's), and a participant's read-only API key: refused
with a typed ack, and nothing stored (the conversation's messages and the
target message are unchanged over REST) or delivered (a participant's
connection hears none of it, only the marker sent after). A revoked token
gets no connection at all. A read-only key may join (reading): that is its
documented right, and it stores nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import pytest

from tests.integration.symbia import Person, group, person
from tests.integration.symbia_rt import ApiWs, Sio
from tests.support import ServerProcess

RUN = "5b0e4a8e-4a8f-4c3e-9d1e-2f7a9c0b1d22"
EVENTS = (
    "join:conversation",
    "message:send",
    "message:edit",
    "message:delete",
    "control:send",
    "typing:start",
    "typing:stop",
)
ROLES = ("outsider", "other_tenant", "read_only_key")
TRANSPORTS = ("api-ws", "socket.io")
HEARD = ("message:", "typing:", "stream.")


@dataclass
class World:
    owner: Person
    cid: str
    mid: str
    creds: dict[str, dict[str, str]]  # role -> how it connects


async def build(server: ServerProcess) -> World:
    root = await person(server, admin=True)
    owner, member, outsider, other = [await person(server) for _ in range(4)]
    orgs = []
    for name in ("A", "B"):
        org = await root.ok("POST", "/admin/orgs", 201, json={"name": name + secrets.token_hex(3)})
        orgs.append(org["id"])
    for p, org in ((owner, orgs[0]), (member, orgs[0]), (other, orgs[1])):
        await root.ok("POST", f"/admin/orgs/{org}/members", 204, json={"userId": p.user_id})
    conv = await group(owner, member, headers={"X-Org-Id": orgs[0]})
    msg = await owner.ok(
        "POST", f"/conversations/{conv['id']}/messages", 201, json={"content": "original"}
    )
    r = await member.http.post("/v1/api-keys", json={"name": "ro", "read_only": True})
    assert r.status_code == 201, r.text
    creds = {
        "outsider": {"token": outsider.token},
        "other_tenant": {"token": other.token},
        "read_only_key": {"apiKey": r.json()["key"]},
    }
    for p in (root, member, outsider, other):
        await p.aclose()
    return World(owner, conv["id"], msg["id"], creds)


def payload(world: World, event: str) -> Any:
    return {
        "join:conversation": world.cid,
        "message:send": {"conversationId": world.cid, "content": "sneaked " + event},
        "message:edit": {"messageId": world.mid, "content": "taken over"},
        "message:delete": world.mid,
        "control:send": {"conversationId": world.cid, "event": "stream.pause", "runId": RUN},
        "typing:start": world.cid,
        "typing:stop": world.cid,
    }[event]


async def connect(server: ServerProcess, transport: str, creds: dict[str, str]) -> ApiWs | Sio:
    if transport == "socket.io":
        return await Sio.open(server, auth=creds)
    if "apiKey" in creds:
        return await ApiWs.open(server, headers={"X-API-Key": creds["apiKey"]})
    return await ApiWs.open(server, query=f"token={creds['token']}")


CASES = [(t, r) for t in TRANSPORTS for r in ROLES]


@pytest.mark.parametrize(("transport", "role"), CASES, ids=[f"{t}-{r}" for t, r in CASES])
async def test_socket_events_refused_store_and_deliver_nothing(
    server: ServerProcess, transport: str, role: str
) -> None:
    world = await build(server)
    listener = await ApiWs.open(server, query=f"token={world.owner.token}")
    before = await world.owner.ok("GET", f"/conversations/{world.cid}/messages")
    conn = await connect(server, transport, world.creds[role])
    for event in EVENTS:
        ack = await conn.call(event, payload(world, event))
        if role == "read_only_key" and event == "join:conversation":
            assert ack == {"success": True}, ack  # reading is a read-only key's right
            continue
        assert ack["success"] is False, (event, ack)
        assert isinstance(ack["code"], str) and ack["code"] != "internal", ack
        expected = "forbidden" if role == "read_only_key" else None
        if expected:
            assert ack["code"] == expected, (event, ack)
        else:
            assert ack["code"] in ("not_found", "forbidden", "validation_failed"), ack
            assert "original" not in str(ack)
    # nothing delivered: the listener hears only the marker sent after
    marker = "marker " + secrets.token_hex(4)
    sent = await world.owner.ok(
        "POST", f"/conversations/{world.cid}/messages", 201, json={"content": marker}
    )
    await listener.event("message:new", id=sent["id"])
    heard = [(n, d) for n, d in listener.received if n.startswith(HEARD) and n != "message:new"]
    heard += [(n, d) for n, d in listener.received if n == "message:new" and d["id"] != sent["id"]]
    assert not heard, heard
    # nothing stored
    after = await world.owner.ok("GET", f"/conversations/{world.cid}/messages")
    assert [m for m in _list(after) if m["id"] != sent["id"]] == _list(before)
    await world.owner.ok("DELETE", f"/conversations/{world.cid}/messages/{sent['id']}", 204)
    await conn.close()
    await listener.close()
    await world.owner.aclose()


def _list(page: Any) -> list[dict[str, Any]]:
    rows = page["messages"] if isinstance(page, dict) else page
    return [r for r in rows if r.get("deleted_at") is None]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_revoked_token_gets_no_connection(server: ServerProcess, transport: str) -> None:
    p = await person(server)
    r = await p.http.post("/v1/auth/logout")
    assert r.status_code == 204, r.text
    if transport == "socket.io":
        from tests.integration.test_symbia_realtime import refused

        assert await refused(server, auth={"token": p.token}) == {
            "message": "Authentication required"
        }
    else:
        ws = await ApiWs.open(server, query=f"token={p.token}")
        await ws.wait_until(lambda: ws.closed)
        assert ws.closed is not None and ws.closed[0] == 4401
        assert ws.seen("connect_error") == [{"message": "Authentication required"}]
    await p.aclose()
