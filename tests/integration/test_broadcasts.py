"""Broadcasts over real HTTP and `/ws`, on servers of their own (two nodes on
PostgreSQL + NATS, one on SQLite): announcements to everyone and to the
admins' segment, named channels with durable subscriptions, publisher
permissions, expiry (live and in sync), acknowledgements, idempotent publish."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from hubbub.clock import iso
from tests.conftest import BACKEND
from tests.integration.operators_support import auth, own_server, register
from tests.support import Client, ServerProcess, full_resume, hubbub_cli

NODES = 2 if BACKEND == "postgres-nats" else 1


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[ServerProcess]]:
    env = {"HUBBUB_REGISTRATION": "open", "HUBBUB_NATS_PREFIX": "hb_b_" + secrets.token_hex(4)}
    with own_server(tmp_path_factory.mktemp("bcast"), env, nodes=NODES) as srvs:
        yield srvs


User = tuple[str, str, str]
_state: dict[str, Any] = {}


@pytest.fixture
async def http(nodes: list[ServerProcess]) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=nodes[0].base_url, timeout=15) as c:
        yield c


async def user(http: httpx.AsyncClient) -> User:
    r = await register(http)
    assert r.status_code == 201, r.text
    body = r.json()
    return body["user_id"], body["token"], ""


async def admin(http: httpx.AsyncClient, srv: ServerProcess) -> User:
    """An account made admin by the operator (`hubbub admin grant`)."""
    if "admin" not in _state:
        r = await register(http, "founder")
        assert r.status_code == 201, r.text
        await hubbub_cli(srv, "admin", "grant", "founder")
        _state["admin"] = (r.json()["user_id"], r.json()["token"], "founder")
    return _state["admin"]  # type: ignore[no-any-return]


async def device(nodes: list[ServerProcess], u: User, i: int = 0) -> Client:
    srv = nodes[i % len(nodes)]
    return await Client(srv, u[0], u[1], "d-" + secrets.token_hex(3)).connect()


async def announce(http: httpx.AsyncClient, token: str, **body: Any) -> httpx.Response:
    body = {"title": "Maintenance", "content": "Tonight at 22:00", **body}
    return await http.post("/v1/broadcasts", json=body, headers=auth(token))


async def quiet(client: Client, type_: str, **match: Any) -> list[dict[str, Any]]:
    """What `client` has of `type_` after a round trip (a later frame proves order)."""
    await client.ok("status/response", "RequestStatus", {"request_id": secrets.token_hex(3)})
    return [
        f
        for f in client.frames
        if f.get("type") == type_ and all(f["data"].get(k) == v for k, v in match.items())
    ]


def synced(changes: list[dict[str, Any]], message_id: str) -> list[dict[str, Any]]:
    return [c for c in changes if c["data"].get("message_id") == message_id]


async def test_announcement_to_all_live_on_every_device_and_by_sync(
    http: httpx.AsyncClient, nodes: list[ServerProcess]
) -> None:
    a = await admin(http, nodes[0])
    u1, u2 = await user(http), await user(http)
    devices = [await device(nodes, u1, 0), await device(nodes, u1, 1), await device(nodes, u2, 1)]
    r = await announce(http, a[1], priority="high", client_request_id="maint-1")
    assert r.status_code == 201, r.text
    mid = r.json()["message_id"]
    for d in devices:
        [f] = await d.events("BroadcastMessageReceived", message_id=mid)
        assert f["channel"] == "broadcast/messages" and f["seq"] == r.json()["seq"]
        data = f["data"]
        assert (data["title"], data["content"], data["priority"]) == (
            "Maintenance",
            "Tonight at 22:00",
            "high",
        )
        assert data["sender_id"] == a[0] and data["expires_at"] is None

    # Idempotent: the retry returns the first result and delivers nothing new.
    again = await announce(http, a[1], title="changed", client_request_id="maint-1")
    assert again.status_code == 201 and again.json() == r.json()
    hdr = await http.post(
        "/v1/broadcasts",
        json={"title": "t", "content": "c"},
        headers={**auth(a[1]), "Idempotency-Key": "k-" + mid},
    )
    hdr2 = await http.post(
        "/v1/broadcasts",
        json={"title": "t", "content": "c"},
        headers={**auth(a[1]), "Idempotency-Key": "k-" + mid},
    )
    assert hdr.json() == hdr2.json() and hdr.json()["message_id"] != mid
    assert len(await quiet(devices[0], "BroadcastMessageReceived", message_id=mid)) == 1
    assert len(await quiet(devices[0], "BroadcastMessageReceived")) == 2

    # A user who connects later finds it in the feed, exactly once.
    late = await device(nodes, await user(http), 1)
    [c] = synced(await full_resume(late), mid)
    assert c["type"] == "BroadcastMessageReceived" and c["seq"] == r.json()["seq"]
    for d in [*devices, late]:
        await d.close()


async def test_only_active_admins_announce(
    http: httpx.AsyncClient, nodes: list[ServerProcess]
) -> None:
    a = await admin(http, nodes[0])
    plain = await user(http)
    r = await announce(http, plain[1])
    assert r.status_code == 403 and "forbidden" in r.text
    r = await http.put(f"/v1/admin/users/{plain[0]}/admin", headers=auth(a[1]))
    assert r.status_code == 200
    assert (await announce(http, plain[1])).status_code == 201  # now an admin
    # a second admin, deactivated: refused (its token too)
    r = await http.post(f"/v1/admin/users/{plain[0]}/deactivate", headers=auth(a[1]))
    assert r.status_code == 200
    assert (await announce(http, plain[1])).status_code in (401, 403)
    assert (await announce(http, "not-a-token")).status_code == 401
    # validation, field by field
    for body, field in (
        ({"title": ""}, "title"),
        ({"content": "x" * 10_001}, "content"),
        ({"priority": "asap"}, "priority"),
        ({"segment": "everyone"}, "segment"),
        ({"expires_at": "tomorrow"}, "expires_at"),
        ({"expires_at": iso(int(time.time() * 1000) - 60_000)}, "expires_at"),
    ):
        r = await announce(http, a[1], **body)
        assert r.status_code == 422 and field in r.text, (body, r.text)


async def test_admins_segment_reaches_only_admins(
    http: httpx.AsyncClient, nodes: list[ServerProcess]
) -> None:
    a = await admin(http, nodes[0])
    plain = await user(http)
    ca, cp = await device(nodes, a, 1), await device(nodes, plain, 0)
    r = await announce(http, a[1], segment="admins", title="Admins only")
    assert r.status_code == 201, r.text
    mid = r.json()["message_id"]
    [f] = await ca.events("BroadcastMessageReceived", message_id=mid)
    assert f["data"]["segment"] == "admins"
    assert not await quiet(cp, "BroadcastMessageReceived", message_id=mid)
    assert not synced(await full_resume(cp), mid)
    assert synced(await full_resume(ca), mid)
    # acknowledging: the entitled once (a second is not recorded again), others not_found
    ack = await ca.ok(
        "broadcast/messages",
        "AcknowledgeBroadcastMessage",
        {"message_id": mid, "received_at": iso(int(time.time() * 1000)), "status": "read"},
    )
    assert ack["type"] == "Ack" and ack["data"]["first"] is True
    ack2 = await ca.ok("broadcast/messages", "AcknowledgeBroadcastMessage", {"message_id": mid})
    assert ack2["data"]["first"] is False
    no = await cp.request("broadcast/messages", "AcknowledgeBroadcastMessage", {"message_id": mid})
    assert no["type"] == "Error" and no["data"]["code"] == "not_found"
    unknown = await cp.request(
        "broadcast/messages", "AcknowledgeBroadcastMessage", {"message_id": "nope"}
    )
    assert unknown["data"]["code"] == "not_found"
    await ca.close()
    await cp.close()


async def test_channels_subscribe_publish_sync_unsubscribe(
    http: httpx.AsyncClient, nodes: list[ServerProcess]
) -> None:
    a = await admin(http, nodes[0])
    pub, sub, other = await user(http), await user(http), await user(http)
    cid = "news-" + secrets.token_hex(3)
    path = f"/v1/broadcast-channels/{cid}"
    r = await http.put(path, json={"title": "News"}, headers=auth(pub[1]))
    assert r.status_code == 403
    r = await http.put(path, json={"title": "News"}, headers=auth(a[1]))
    assert r.status_code == 201 and r.json()["channel_id"] == cid
    assert (await http.put(path, json={"title": "News!"}, headers=auth(a[1]))).status_code == 200
    bad = await http.put("/v1/broadcast-channels/Bad%20Id", json={"title": "x"}, headers=auth(a[1]))
    assert bad.status_code == 422

    msg = {"title": "Hello", "payload": {"k": [1, 2]}, "priority": "urgent"}
    r = await http.post(f"{path}/messages", json=msg, headers=auth(pub[1]))
    assert r.status_code == 403  # not a publisher (yet)
    r = await http.put(f"{path}/publishers/{pub[0]}", headers=auth(pub[1]))
    assert r.status_code == 403  # only admins grant
    r = await http.put(f"{path}/publishers/{pub[0]}", headers=auth(a[1]))
    assert r.status_code == 204

    s1, s2, co = (
        await device(nodes, sub, 0),
        await device(nodes, sub, 1),
        await device(nodes, other),
    )
    ack = await s1.ok(f"broadcast/{cid}", "Subscribe", {})
    assert ack["type"] == "Ack" and ack["channel"] == f"broadcast/{cid}"

    async def subscribed(who: tuple[str, str]) -> bool | None:
        listed = (await http.get("/v1/broadcast-channels", headers=auth(who[1]))).json()
        return next(c["subscribed"] for c in listed if c["channel_id"] == cid)

    assert await subscribed(sub) is True  # every device of the user learns it
    assert await subscribed(other) is False
    missing = await s1.request("broadcast/nochannel", "Subscribe", {})
    assert missing["data"]["code"] == "not_found"

    r = await http.post(f"{path}/messages", json=msg, headers=auth(pub[1]))
    assert r.status_code == 201, r.text
    m1 = r.json()["message_id"]
    for d in (s1, s2):  # every device of the subscriber, on either node
        [f] = await d.events("BroadcastMessage", message_id=m1)
        assert f["channel"] == f"broadcast/{cid}"
        assert f["data"]["payload"] == {"k": [1, 2]} and f["data"]["priority"] == "urgent"
        assert f["data"]["channel_id"] == cid
    assert not await quiet(co, "BroadcastMessage")
    assert not synced(await full_resume(co), m1)
    # the admin publishes too, without a grant
    r = await http.post(f"{path}/messages", json={"title": "By admin"}, headers=auth(a[1]))
    assert r.status_code == 201
    m2 = r.json()["message_id"]
    await s1.events("BroadcastMessage", message_id=m2)

    # Away: what was published meanwhile comes back through SyncRequest.
    await s2.close()
    r = await http.post(f"{path}/messages", json={"title": "While away"}, headers=auth(pub[1]))
    m3 = r.json()["message_id"]
    s2 = await device(nodes, sub, 1)
    changes = await full_resume(s2)
    assert [c["data"]["message_id"] for c in changes if c["type"] == "BroadcastMessage"] == [
        m1,
        m2,
        m3,
    ]
    ok = await s2.ok("broadcast/messages", "AcknowledgeBroadcastMessage", {"message_id": m3})
    assert ok["data"]["first"] is True
    no = await co.request("broadcast/messages", "AcknowledgeBroadcastMessage", {"message_id": m3})
    assert no["data"]["code"] == "not_found"

    # Unsubscribe stops it, live and in the feed.
    await s1.ok(f"broadcast/{cid}", "Unsubscribe", {})
    r = await http.post(f"{path}/messages", json={"title": "After"}, headers=auth(pub[1]))
    m4 = r.json()["message_id"]
    assert not await quiet(s1, "BroadcastMessage", message_id=m4)
    assert not await quiet(s2, "BroadcastMessage", message_id=m4)
    assert not [c for c in await full_resume(s2) if c["type"] == "BroadcastMessage"]
    assert await subscribed(sub) is False

    # A revoked publisher is refused again; an unknown user or channel is a 404.
    assert (await http.delete(f"{path}/publishers/{pub[0]}", headers=auth(a[1]))).status_code == 204
    r = await http.post(f"{path}/messages", json={"title": "x"}, headers=auth(pub[1]))
    assert r.status_code == 403
    r = await http.put(f"{path}/publishers/{'0' * 36}", headers=auth(a[1]))
    assert r.status_code == 404
    r = await http.post("/v1/broadcast-channels/nochannel/messages", json=msg, headers=auth(a[1]))
    assert r.status_code == 404
    r = await http.post("/v1/broadcast-channels/nochannel/messages", json=msg, headers=auth(pub[1]))
    assert r.status_code == 403  # a stranger learns nothing about which channels exist
    listed = await http.get("/v1/broadcast-channels", headers=auth(other[1]))
    assert cid in [c["channel_id"] for c in listed.json()]
    for d in (s1, s2, co):
        await d.close()


async def test_expired_broadcast_is_left_out(
    http: httpx.AsyncClient, nodes: list[ServerProcess]
) -> None:
    a = await admin(http, nodes[0])
    watcher = await device(nodes, await user(http), 1)
    due = int(time.time() * 1000) + 4_000
    r = await announce(http, a[1], title="Flash sale", expires_at=iso(due))
    assert r.status_code == 201, r.text
    mid = r.json()["message_id"]
    [f] = await watcher.events("BroadcastMessageReceived", message_id=mid)
    assert f["data"]["expires_at"] == iso(due)

    # Once past its expiry, no feed holds it: poll for that condition, bounded.
    late = await device(nodes, await user(http), 0)
    deadline = time.monotonic() + 30
    while synced(await full_resume(late, secrets.token_hex(2)), mid):
        assert time.monotonic() < deadline, "still in the feed long after expiring"
        await asyncio.sleep(0.2)  # the poll's interval, not a timing assumption
    assert not synced(await full_resume(watcher, "w"), mid)
    await watcher.close()
    await late.close()


async def test_named_segment_reaches_only_its_members(
    http: httpx.AsyncClient, nodes: list[ServerProcess]
) -> None:
    a = await admin(http, nodes[0])
    inside, outside = await user(http), await user(http)
    seg = "beta-" + secrets.token_hex(3)
    r = await announce(http, a[1], segment=seg)
    assert r.status_code == 422 and "segment" in r.text  # no members yet: unknown
    member = f"/v1/broadcast-segments/{seg}/members/{inside[0]}"
    assert (await http.put(member, headers=auth(inside[1]))).status_code == 403
    assert (await http.put(member, headers=auth(a[1]))).status_code == 204
    assert (await http.put(member, headers=auth(a[1]))).status_code == 204  # idempotent
    r = await http.put(f"/v1/broadcast-segments/all/members/{inside[0]}", headers=auth(a[1]))
    assert r.status_code == 422
    listed = await http.get(f"/v1/broadcast-segments/{seg}", headers=auth(a[1]))
    assert listed.json() == {"segment": seg, "user_ids": [inside[0]]}

    ci, co = await device(nodes, inside, 1), await device(nodes, outside, 0)
    r = await announce(http, a[1], segment=seg, title="Beta testers")
    assert r.status_code == 201, r.text
    mid = r.json()["message_id"]
    [f] = await ci.events("BroadcastMessageReceived", message_id=mid)
    assert f["data"]["segment"] == seg
    assert not await quiet(co, "BroadcastMessageReceived", message_id=mid)
    assert synced(await full_resume(ci), mid) and not synced(await full_resume(co), mid)
    no = await co.request("broadcast/messages", "AcknowledgeBroadcastMessage", {"message_id": mid})
    assert no["data"]["code"] == "not_found"
    await ci.ok("broadcast/messages", "AcknowledgeBroadcastMessage", {"message_id": mid})

    # Taken out of the segment: its broadcasts leave the feed.
    assert (await http.delete(member, headers=auth(a[1]))).status_code == 204
    assert not synced(await full_resume(ci, "out"), mid)
    await ci.close()
    await co.close()
