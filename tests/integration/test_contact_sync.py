"""Spec 000 `contacts/sync` and `contacts/matches` over real sockets.

A sync is answered to the connection that asked: its first
`ContactSyncStatus`, the `ContactMatchFound` chunks, then the final status.
Matches name users (id, username, display name) and the caller's own entry
(index, label), never what the user registered; blockers of the caller and
deactivated accounts are never found. The nodes here run with a default
region (DE) and a small hourly budget so the limit is reachable; on
PostgreSQL + NATS there are two, and a retry on the other node answers the
first sync again.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import msgspec
import phonenumbers
import pytest

from tests.conftest import BACKEND
from tests.integration.operators_support import PW, auth, own_server, register
from tests.support import Client, ServerProcess, full_resume

NODES = 2 if BACKEND == "postgres-nats" else 1
PER_HOUR = 400
START = ("contacts/sync", "StartContactSync")
ACK = ("contacts/matches", "AcknowledgeContactMatches")

User = tuple[str, str, str]
_used: set[str] = set()


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[ServerProcess]]:
    env = {
        "HUBBUB_REGISTRATION": "open",
        "HUBBUB_NATS_PREFIX": "hb_cs_" + secrets.token_hex(4),
        "HUBBUB_CONTACT_SYNC_REGION": "DE",
        "HUBBUB_CONTACT_SYNC_PER_HOUR": str(PER_HOUR),
    }
    with own_server(tmp_path_factory.mktemp("contacts"), env, nodes=NODES) as srvs:
        yield srvs


@pytest.fixture
async def http(nodes: list[ServerProcess]) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=nodes[0].base_url, timeout=15) as c:
        yield c


def berlin() -> str:
    """A fresh valid Berlin number, digits only after +49 30 (never one handed out before)."""
    while True:
        local = str(secrets.randbelow(9_000_000) + 1_000_000)
        num = phonenumbers.parse("+4930" + local, None)
        if phonenumbers.is_valid_number(num) and local not in _used:
            _used.add(local)
            return local


async def user(http: httpx.AsyncClient, **extra: Any) -> User:
    name = "cs" + secrets.token_hex(5)
    r = await register(http, name, **extra)
    assert r.status_code == 201, r.text
    body = r.json()
    return body["user_id"], body["token"], name


async def connect(srv: ServerProcess, u: User, device: str = "") -> Client:
    return await Client(srv, u[0], u[1], device or "d-" + secrets.token_hex(3)).connect()


async def sync(c: Client, sync_id: str, contacts: list[Any]) -> dict[str, Any]:
    """Run one sync: the reply, every match (in order) and the final status."""
    before = len(c.frames)
    reply = await c.ok(*START, {"sync_id": sync_id, "device_id": c.device_id, "contacts": contacts})
    assert (reply["channel"], reply["type"]) == ("contacts/sync", "ContactSyncStatus"), reply
    first = reply["data"]
    assert first["sync_id"] == sync_id and first["error_code"] is None
    last = first
    if first["status"] == "processing":

        def final() -> list[dict[str, Any]]:  # a retry's frames equal the first's: by position
            return [
                f for f in c.frames[before:]
                if f.get("type") == "ContactSyncStatus" and f.get("ref") is None
                and f["data"]["sync_id"] == sync_id
            ]  # fmt: skip

        await c.wait_for(lambda _f: bool(final()))
        last = final()[0]["data"]
    else:
        assert first["status"] == "completed" and first["matched"] == 0
    chunks = [
        f for f in c.frames[before:]
        if f.get("type") == "ContactMatchFound" and f["data"]["sync_id"] == sync_id
    ]  # fmt: skip
    assert all(f["channel"] == "contacts/matches" for f in chunks)
    assert last["status"] == "completed"
    matches = [m for f in chunks for m in f["data"]["matches"]]
    assert len(matches) == last["matched"]
    return {"first": first, "last": last, "chunks": chunks, "matches": matches}


def contact_frames(c: Client) -> list[dict[str, Any]]:
    return [f for f in c.frames if str(f.get("channel", "")).startswith("contacts/")]


async def test_matches_in_every_format_never_blockers_or_deactivated(
    nodes: list[ServerProcess], http: httpx.AsyncClient
) -> None:
    nb, nd, ne, nf, unknown = berlin(), berlin(), berlin(), berlin(), berlin()
    alice = await user(http)
    bob = await user(http, phone=f"+49 30 {nb}", display_name="Bob B")
    mail = f"Carol.{secrets.token_hex(3)}@Example.ORG"
    carol = await user(http, email=mail, display_name="Carol C")
    dave = await user(http, phone=f"+4930{nd}")  # blocks alice
    erin = await user(http, phone=f"+4930{ne}")  # deactivated
    frank = await user(http, phone=f"+4930{nf}")  # alice blocks frank: still found
    r = await http.put(f"/v1/users/{alice[0]}/block", headers=auth(dave[1]))
    assert r.status_code in (200, 201, 204), r.text
    r = await http.put(f"/v1/users/{frank[0]}/block", headers=auth(alice[1]))
    assert r.status_code in (200, 201, 204), r.text
    r = await http.post("/v1/auth/deactivate", json={"password": PW}, headers=auth(erin[1]))
    assert r.status_code == 204, r.text

    a1, a2 = await connect(nodes[0], alice, "a1"), await connect(nodes[-1], alice, "a2")
    b = await connect(nodes[0], bob)
    contacts: list[Any] = [
        {"phone": f"+49 30 {nb}", "label": "Bob"},  # 0
        {"phone": f"030 {nb[:3]} {nb[3:]}", "region": "de", "label": "Bob home"},  # 1 duplicate
        {"phone": f"(030) {nb}"},  # 2 the default region (DE), no label
        {"email": f"  {mail.upper()} ", "label": "Carol"},  # 3
        {"phone": f"+49 30 {nd}", "label": "Dave"},  # 4 blocks alice
        {"phone": f"+49 30 {ne}", "label": "Erin"},  # 5 deactivated
        {"phone": f"0049 30 {nf}", "label": "Frank"},  # 6
        {"phone": "12", "label": "short"},  # 7 failed
        {"email": "not-an-address", "label": "x"},  # 8 failed
        {"phone": "+49 ???", "email": "also@not"},  # 9 failed
        {"phone": f"+49 30 {unknown}", "label": "nobody"},  # 10 unknown
        {"phone": "+1 202 555 0100", "email": "nobody@example.net"},  # 11 unknown
        {"phone": "", "email": mail.lower()},  # 12 carol again, by e-mail only
    ]
    got = await sync(a1, "s-main", contacts)
    assert (got["last"]["processed"], got["last"]["matched"], got["last"]["failed"]) == (13, 3, 3)
    assert got["first"]["status"] == "processing"
    by_user = {m["user_id"]: m for m in got["matches"]}
    assert set(by_user) == {bob[0], carol[0], frank[0]}
    assert by_user[bob[0]] == {
        "user_id": bob[0], "username": bob[2], "display_name": "Bob B", "index": 0,
        "label": "Bob", "matched_by": "phone", "indexes": [0, 1, 2],
    }  # fmt: skip
    assert by_user[carol[0]]["indexes"] == [3, 12] and by_user[carol[0]]["matched_by"] == "email"
    assert by_user[frank[0]]["label"] == "Frank"
    for m in got["matches"]:  # never what the user registered
        assert "phone" not in m and "email" not in m
    assert nb not in msgspec.json.encode(got["matches"]).decode()

    # Only the asking connection heard anything; nothing joined a feed.
    assert not contact_frames(a2) and not contact_frames(b)
    feed = await full_resume(a1)
    assert not [x for x in feed if "Contact" in str(x.get("type", ""))]

    # A retry (another device, another node, other contacts) answers the first sync.
    again = await sync(a2, "s-main", [{"phone": "+49 30 1"}])
    assert again["first"] == got["first"] and again["last"] == got["last"]
    assert [f["data"] for f in again["chunks"]] == [f["data"] for f in got["chunks"]]
    assert len(contact_frames(a1)) == 2 + len(got["chunks"])  # a1 heard no more

    # Acknowledging: the caller's own sync only.
    r = await a1.ok(*ACK, {"sync_id": "s-main", "received_count": 3})
    assert r["type"] == "Ack" and r["data"]["ids"] == {"sync_id": "s-main"}
    bb = await connect(nodes[-1], bob)
    for who, sid in ((a1, "never-ran"), (bb, "s-main")):
        r = await who.request(*ACK, {"sync_id": sid, "received_count": 1})
        assert r["type"] == "Error" and r["data"]["code"] == "not_found", r
    r = await a1.request(*ACK, {"sync_id": "s-main", "received_count": -1})
    assert r["data"] == {**r["data"], "code": "validation_failed", "path": "$.data.received_count"}
    # An empty list completes at once.
    empty = await a1.ok(*START, {"sync_id": "s-empty", "contacts": []})
    assert empty["data"]["status"] == "completed" and empty["data"]["processed"] == 0
    for c in (a1, a2, b, bb):
        await c.close()


async def test_many_matches_come_in_chunks(
    nodes: list[ServerProcess], http: httpx.AsyncClient
) -> None:
    numbers = [berlin() for _ in range(130)]
    people: list[User] = []
    for i in range(0, len(numbers), 26):
        people += await asyncio.gather(
            *(user(http, phone=f"+4930{n}") for n in numbers[i : i + 26])
        )
    caller = await user(http)
    c = await connect(nodes[-1], caller)
    contacts = [{"phone": f"030{n}", "label": f"p{i}"} for i, n in enumerate(numbers)]
    got = await sync(c, "big", contacts)
    assert [len(f["data"]["matches"]) for f in got["chunks"]] == [100, 30]
    assert got["last"]["matched"] == 130 and got["last"]["failed"] == 0
    assert [m["user_id"] for m in got["matches"]] == [p[0] for p in people]
    assert [m["label"] for m in got["matches"]] == [f"p{i}" for i in range(130)]
    assert all(f["data"]["timestamp"] == got["last"]["timestamp"] for f in got["chunks"])
    await c.close()


@pytest.mark.parametrize(
    ("contacts", "path"),
    [
        ([{"phone": "+4930123"}, "+4930123"], "$.data.contacts[1]"),
        (
            [{"phone": "+4930123"}, {"phone": "1"}, {"email": "a@b.cd"}, {"phone": 49}],
            "$.data.contacts[3].phone",
        ),
        ([{"email": ["x"]}], "$.data.contacts[0].email"),
        ([{"phone": "+4930123", "label": "x" * 129}], "$.data.contacts[0].label"),
        ([{"phone": "1" * 65}], "$.data.contacts[0].phone"),
        ([{"phone": "+4930123", "region": "XX"}], "$.data.contacts[0].region"),
        ([{"phone": "+4930123", "nickname": "y"}], "$.data.contacts[0].nickname"),
        ([{"label": "no way to match"}], "$.data.contacts[0]"),
        ([{"phone": None, "email": None}], "$.data.contacts[0]"),
        ([{"phone": "+4930123"}] * 1001, "$.data.contacts"),
    ],
)
async def test_malformed_lists_are_refused_with_the_path_and_cost_nothing(
    nodes: list[ServerProcess], http: httpx.AsyncClient, contacts: list[Any], path: str
) -> None:
    u = await user(http)
    c = await connect(nodes[0], u)
    r = await c.request(*START, {"sync_id": "bad", "contacts": contacts})
    assert r["type"] == "Error", r
    assert (r["data"]["code"], r["data"]["path"]) == ("validation_failed", path), r
    # Nothing was recorded: the same id with a good list runs, and the budget is whole.
    ok = await sync(c, "bad", [{"phone": "+4930123"}] * PER_HOUR)
    assert ok["last"]["processed"] == PER_HOUR
    await c.close()


async def test_envelope_refusals(nodes: list[ServerProcess], http: httpx.AsyncClient) -> None:
    c = await connect(nodes[0], await user(http))
    for body, path in (
        ({"sync_id": "", "contacts": []}, "$.data.sync_id"),
        ({"sync_id": "x" * 129, "contacts": []}, "$.data.sync_id"),
        ({"sync_id": "d", "device_id": "d" * 129, "contacts": []}, "$.data.device_id"),
        ({"sync_id": "n", "contacts": "not a list"}, "$.data.contacts"),
        ({"sync_id": "m"}, "$.data"),
    ):
        r = await c.request(*START, body)
        assert r["type"] == "Error" and r["data"]["code"] == "validation_failed", r
        assert str(r["data"].get("path", "")).startswith(path), r
    await c.send_raw('{"id": "nj", "channel": "contacts/sync", "type": "StartContactSync", "d')
    r = await c.wait_for(lambda f: f.get("type") == "Error" and f["data"]["code"] == "bad_frame")
    huge = [{"phone": "+4930123", "label": "x" * 128}] * 2000  # about 300 KB, over the frame cap
    r = await c.request(*START, {"sync_id": "huge", "contacts": huge})
    assert r["type"] == "Error" and r["data"]["code"] == "too_large", r
    # Still served after all of it.
    assert (await sync(c, "after", [{"phone": "+4930123"}]))["last"]["processed"] == 1
    await c.close()


async def test_a_user_who_opts_out_is_never_found(
    nodes: list[ServerProcess], http: httpx.AsyncClient
) -> None:
    n = berlin()
    mail = f"shy{secrets.token_hex(3)}@example.org"
    shy = await user(http, phone=f"+4930{n}", email=mail)
    r = await http.get("/v1/contact-discovery", headers=auth(shy[1]))
    assert r.status_code == 200 and r.json() == {"discoverable": True, "updated_at": None}
    c = await connect(nodes[-1], await user(http))
    book = [{"phone": f"030 {n}", "label": "Shy"}, {"email": mail}]
    assert (await sync(c, "before", book))["matches"][0]["user_id"] == shy[0]

    for bad in ({"discoverable": "no"}, {}, [], None):
        r = await http.put("/v1/contact-discovery", json=bad, headers=auth(shy[1]))
        assert r.status_code == 422, r.text
    r = await http.put("/v1/contact-discovery", json={"discoverable": False})
    assert r.status_code == 401, r.text
    for _ in range(2):  # idempotent
        r = await http.put(
            "/v1/contact-discovery", json={"discoverable": False}, headers=auth(shy[1])
        )
        assert r.status_code == 200 and r.json()["discoverable"] is False, r.text
        assert r.json()["updated_at"]
    hidden = await sync(c, "after", book)
    assert hidden["matches"] == [] and hidden["first"]["status"] == "completed"
    assert (hidden["first"]["processed"], hidden["first"]["failed"]) == (2, 0)
    # The earlier sync's record still answers as it did (it is the caller's own).
    assert (await sync(c, "before", []))["matches"][0]["user_id"] == shy[0]
    r = await http.put("/v1/contact-discovery", json={"discoverable": True}, headers=auth(shy[1]))
    assert r.json()["discoverable"] is True
    assert [m["user_id"] for m in (await sync(c, "again", book))["matches"]] == [shy[0]]
    paths = (await http.get("/docs/openapi.json")).json()["paths"]
    assert {"get", "put"} <= set(paths["/v1/contact-discovery"])
    await c.close()


async def test_the_hourly_budget_bounds_lookups_across_nodes(
    nodes: list[ServerProcess], http: httpx.AsyncClient
) -> None:
    nb = berlin()
    bob = await user(http, phone=f"+4930{nb}")
    u = await user(http)
    c0, c1 = await connect(nodes[0], u, "c0"), await connect(nodes[-1], u, "c1")
    filler = [{"email": f"x{i}@example.com"} for i in range(PER_HOUR - 10)]
    first = await sync(c0, "q1", [{"phone": f"030{nb}"}, *filler])
    assert first["last"]["matched"] == 1
    r = await c1.request(*START, {"sync_id": "q2", "contacts": filler[:11]})
    assert r["type"] == "Error" and r["data"]["code"] == "rate_limited", r
    assert 0 < r["data"]["retry_after_ms"] <= 3600_000
    # A retry of a sync that ran costs nothing and still answers.
    again = await sync(c1, "q1", [])
    assert again["matches"] == first["matches"] and again["matches"][0]["user_id"] == bob[0]
    # What is left of the hour can still be spent, on either node.
    left = await sync(c1, "q3", filler[:9])
    assert left["last"]["processed"] == 9
    r = await c0.request(*START, {"sync_id": "q4", "contacts": filler[:1]})
    assert r["data"]["code"] == "rate_limited", r
    await c0.close()
    await c1.close()
