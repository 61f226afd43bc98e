"""Moderation reports over real sockets and HTTP (`moderation/reports`,
`moderation/reports/ack`, `/v1/admin/reports`), on servers of their own (two
nodes on PostgreSQL + NATS, the reporter's devices on both; one on SQLite).

People: the reporter R (two devices, a third that connects later), the
reported user X (who shares a direct chat and a group with R), a third user
T (in the group too, and in a direct chat of their own with X), and a server
admin. R reports X's messages and X; the admin moves the reports on; only R's
devices hear of it, live and through `SyncRequest`; X and T hear nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import BACKEND
from tests.integration.operators_support import auth, own_server, register
from tests.support import Client, ServerProcess, full_resume, hubbub_cli

NODES = 2 if BACKEND == "postgres-nats" else 1
SUBMIT = ("moderation/reports", "SubmitReport")
ACK = ("moderation/reports/ack", "SubmitReportAckRequest")

User = tuple[str, str, str]


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[ServerProcess]]:
    env = {"HUBBUB_REGISTRATION": "open", "HUBBUB_NATS_PREFIX": "hb_m_" + secrets.token_hex(4)}
    with own_server(tmp_path_factory.mktemp("moderation"), env, nodes=NODES) as srvs:
        yield srvs


@pytest.fixture
async def http(nodes: list[ServerProcess]) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=nodes[0].base_url, timeout=15) as c:
        yield c


async def user(http: httpx.AsyncClient, name: str | None = None) -> User:
    r = await register(http, name)
    assert r.status_code == 201, r.text
    body = r.json()
    return body["user_id"], body["token"], body.get("username", name or "")


_admin: dict[str, User] = {}


async def admin(http: httpx.AsyncClient, srv: ServerProcess) -> User:
    """An account made admin by the operator (`hubbub admin grant`), once per module."""
    if "a" not in _admin:
        name = "mod" + secrets.token_hex(4)
        u = await user(http, name)
        await hubbub_cli(srv, "admin", "grant", name)
        _admin["a"] = (u[0], u[1], name)
    return _admin["a"]


async def device(nodes: list[ServerProcess], u: User, i: int = 0) -> Client:
    srv = nodes[i % len(nodes)]
    return await Client(srv, u[0], u[1], "d-" + secrets.token_hex(3)).connect()


class World:
    """R, X, T; the R-X direct chat, the X-T one, and a group of the three."""

    def __init__(self, r: User, x: User, t: User, rx: str, xt: str, group: str) -> None:
        self.r, self.x, self.t = r, x, t
        self.rx, self.xt, self.group = rx, xt, group


async def direct(http: httpx.AsyncClient, a: User, b: User) -> str:
    r = await http.post("/v1/conversations/direct", json={"user_id": b[0]}, headers=auth(a[1]))
    assert r.status_code in (200, 201), r.text
    return str(r.json()["conversation_id"])


async def world(http: httpx.AsyncClient, nodes: list[ServerProcess]) -> World:
    r, x, t = await user(http), await user(http), await user(http)
    rx, xt = await direct(http, r, x), await direct(http, x, t)
    cx = await device(nodes, x)
    try:
        g = await cx.ok("chat/groups", "CreateGroup", {"name": "g", "member_ids": [r[0], t[0]]})
    finally:
        await cx.close()
    return World(r, x, t, rx, xt, g["data"]["group_id"])


async def say(client: Client, cid: str, content: str = "buy cheap pills") -> str:
    body = {"client_message_id": "m-" + secrets.token_hex(6), "conversation_id": cid,
            "content": content}  # fmt: skip
    reply = await client.ok("chat/messages/ack", "SendChatMessageWithClientId", body)
    return str(reply["data"]["message_id"])


async def say_encrypted(client: Client, cid: str) -> str:
    body = {"conversation_id": cid, "ciphertext": "Y2lwaGVy", "nonce": "bm9uY2U=",
            "algorithm": "AES-GCM", "key_id": "k1", "type": "text"}  # fmt: skip
    reply = await client.ok("chat/messages", "SendEncryptedMessage", body)
    return str(reply["data"]["ids"]["message_id"])


def report(target: str, kind: str = "message", **extra: Any) -> dict[str, Any]:
    body = {"report_type": kind, "target_id": target, "reason": "spam",
            "details": "sent me this ten times", "timestamp": "2026-12-07T10:00:00Z"}  # fmt: skip
    return {**body, **extra}


async def admin_get(http: httpx.AsyncClient, adm: User, rid: str) -> dict[str, Any]:
    r = await http.get(f"/v1/admin/reports/{rid}", headers=auth(adm[1]))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def set_status(
    http: httpx.AsyncClient, adm: User, rid: str, status: str, **extra: Any
) -> httpx.Response:
    return await http.post(
        f"/v1/admin/reports/{rid}", json={"status": status, **extra}, headers=auth(adm[1])
    )


async def reports_by(http: httpx.AsyncClient, adm: User, reporter: str) -> list[dict[str, Any]]:
    """Every stored report of `reporter`, through the admin's pages."""
    out: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 200, **({"after": after} if after else {})}
        r = await http.get("/v1/admin/reports", params=params, headers=auth(adm[1]))
        assert r.status_code == 200, r.text
        page = r.json()
        out += [x for x in page["reports"] if x["reporter_id"] == reporter]
        after = page["next_after"]
        if after is None:
            return out


def statuses(client: Client) -> list[dict[str, Any]]:
    return [f for f in client.frames if f.get("type") == "ReportStatusUpdate"]


async def test_a_message_report_keeps_a_snapshot_and_a_retry_creates_nothing(
    http: httpx.AsyncClient, nodes: list[ServerProcess]
) -> None:
    w = await world(http, nodes)
    adm = await admin(http, nodes[0])
    cr, cx = await device(nodes, w.r), await device(nodes, w.x, 1)
    try:
        mid = await say(cx, w.rx)
        key = "rep-" + secrets.token_hex(4)
        first = await cr.ok(*SUBMIT, report(mid, client_request_id=key))
        assert first["channel"] == "moderation/reports/ack"
        assert first["type"] == "ReportSubmitted"
        rid, received = first["data"]["report_id"], first["data"]["received_at"]
        assert received
        # a retry, even with other fields, answers the first report and stores nothing
        again = await cr.ok(*SUBMIT, report(mid, client_request_id=key, reason="other"))
        assert again["data"] == first["data"]
        # the ack lookup answers it too, on any of the reporter's devices
        looked = await cr.ok(*ACK, {"client_request_id": key})
        assert looked["type"] == "ReportSubmitted" and looked["data"] == first["data"]
        cr2 = await device(nodes, w.r, 1)
        assert (await cr2.ok(*ACK, {"client_request_id": key}))["data"] == first["data"]
        await cr2.close()
        # another user's lookup with the same key, or an unknown key: not_found
        ct = await device(nodes, w.t)
        for who, k in ((ct, key), (cr, "never-used")):
            refused = await who.request(*ACK, {"client_request_id": k})
            assert refused["type"] == "Error" and refused["data"]["code"] == "not_found"
        await ct.close()
        mine = await reports_by(http, adm, w.r[0])
        assert [x["report_id"] for x in mine] == [rid]
        stored = await admin_get(http, adm, rid)
        assert stored["status"] == "open" and stored["reason"] == "spam"
        assert stored["report_type"] == "message" and stored["target_id"] == mid
        assert stored["target_user_id"] == w.x[0] and stored["conversation_id"] == w.rx
        assert stored["content"] == "buy cheap pills" and stored["message_kind"] != "e2e"
        assert stored["client_timestamp"] == "2026-12-07T10:00:00Z"
        assert stored["received_at"] == received
        # an end-to-end encrypted one: the reference only, no content
        emid = await say_encrypted(cx, w.group)
        e = await cr.ok(*SUBMIT, report(emid, reason="abuse"))
        enc = await admin_get(http, adm, e["data"]["report_id"])
        assert enc["message_kind"] == "e2e" and enc["content"] is None
        assert enc["conversation_id"] == w.group and enc["target_user_id"] == w.x[0]
        # a report made without a client id is a new report each time
        e2 = await cr.ok(*SUBMIT, report(emid, reason="abuse"))
        assert e2["data"]["report_id"] != e["data"]["report_id"]
        # the reported user was told nothing, on either node
        await say(cr, w.group, "later")
        await cx.events("ChatMessageReceived", content="later")
        assert [f for f in cx.frames if "report" in f.get("channel", "")] == []
    finally:
        await cr.close()
        await cx.close()


async def test_a_user_report_and_what_looks_unknown(
    http: httpx.AsyncClient, nodes: list[ServerProcess]
) -> None:
    w = await world(http, nodes)
    adm = await admin(http, nodes[0])
    cr = await device(nodes, w.r)
    try:
        ok = await cr.ok(*SUBMIT, report(w.t[0], "user", reason="impersonation"))
        got = await admin_get(http, adm, ok["data"]["report_id"])
        assert got["report_type"] == "user" and got["target_user_id"] == w.t[0]
        assert got["content"] is None and got["conversation_id"] is None
        # the reporter may block whom they report
        r = await http.put(f"/v1/users/{w.t[0]}/block", headers=auth(w.r[1]))
        assert r.status_code in (200, 201, 204), r.text
        await cr.ok(*SUBMIT, report(w.t[0], "user", reason="harassment"))
        # one who blocked the reporter looks like nobody
        r = await http.put(f"/v1/users/{w.r[0]}/block", headers=auth(w.x[1]))
        assert r.status_code in (200, 201, 204), r.text
        for target in (w.x[0], "00000000-0000-7000-8000-000000000000", "not-an-id"):
            refused = await cr.request(*SUBMIT, report(target, "user"))
            assert refused["type"] == "Error", target
            assert refused["data"]["code"] == "not_found", target
        own = await cr.request(*SUBMIT, report(w.r[0], "user"))
        assert own["data"]["code"] == "validation_failed"
        assert own["data"]["path"] == "$.data.target_id"
        assert len(await reports_by(http, adm, w.r[0])) == 2
    finally:
        await cr.close()


@pytest.mark.parametrize(
    ("change", "code", "path"),
    [
        ({"reason": "boring"}, "validation_failed", "$.data.reason"),
        ({"reason": None}, "validation_failed", "$.data.reason"),
        ({"report_type": "planet"}, "validation_failed", "$.data.report_type"),
        ({"details": "x" * 2001}, "validation_failed", "$.data.details"),
        ({"timestamp": "t" * 65}, "validation_failed", "$.data.timestamp"),
        ({"client_request_id": "k" * 65}, "validation_failed", "$.data.client_request_id"),
        ({"reason": 5}, "validation_failed", "$.data.reason"),
        ({"target_id": "{foreign}"}, "not_found", None),
        ({"target_id": "{unknown}"}, "not_found", None),
        ({"target_id": "{own}"}, "validation_failed", "$.data.target_id"),
        ({"target_id": "x" * 5000}, "not_found", None),
    ],
)
async def test_refusals_store_nothing(
    http: httpx.AsyncClient,
    nodes: list[ServerProcess],
    change: dict[str, Any],
    code: str,
    path: str | None,
) -> None:
    w = await world(http, nodes)
    adm = await admin(http, nodes[0])
    cr, cx = await device(nodes, w.r), await device(nodes, w.x, 1)
    try:
        targets = {
            "{foreign}": await say(cx, w.xt, "between X and T"),
            "{unknown}": "00000000-0000-7000-8000-000000000001",
            "{own}": await say(cr, w.rx, "mine"),
        }
        body = report(await say(cx, w.rx), client_request_id="k-" + secrets.token_hex(3))
        body.update({k: targets.get(v, v) if isinstance(v, str) else v for k, v in change.items()})
        refused = await cr.request(*SUBMIT, body)
        assert refused["type"] == "Error", refused
        assert refused["data"]["code"] == code
        if path is not None:
            assert refused["data"]["path"] == path
        assert await reports_by(http, adm, w.r[0]) == []
    finally:
        await cr.close()
        await cx.close()


async def test_pending_reports_are_bounded(
    http: httpx.AsyncClient, nodes: list[ServerProcess]
) -> None:
    from hubbub.core.moderation_reports import MAX_PENDING

    w = await world(http, nodes)
    adm = await admin(http, nodes[0])
    cr = await device(nodes, w.r)
    try:
        made = [await cr.ok(*SUBMIT, report(w.x[0], "user")) for _ in range(MAX_PENDING)]
        refused = await cr.request(*SUBMIT, report(w.t[0], "user"))
        assert refused["data"]["code"] == "rate_limited"
        r = await set_status(http, adm, made[0]["data"]["report_id"], "dismissed")
        assert r.status_code == 200, r.text
        await cr.ok(*SUBMIT, report(w.t[0], "user"))  # a verdict frees a place
    finally:
        await cr.close()


async def test_status_changes_reach_every_device_of_the_reporter_and_nobody_else(
    http: httpx.AsyncClient, nodes: list[ServerProcess]
) -> None:
    w = await world(http, nodes)
    adm = await admin(http, nodes[0])
    r1, r2 = await device(nodes, w.r, 0), await device(nodes, w.r, 1)
    cx, ct = await device(nodes, w.x, 1), await device(nodes, w.t, 0)
    try:
        mid = await say(cx, w.group, "nasty")
        rid = (await r1.ok(*SUBMIT, report(mid, reason="harassment")))["data"]["report_id"]
        r = await set_status(http, adm, rid, "reviewing", note="checking the logs")
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "reviewing" and r.json()["handled_by"] == adm[0]
        r = await set_status(http, adm, rid, "resolved")
        assert r.status_code == 200 and r.json()["note"] == "checking the logs"
        for c in (r1, r2):
            got = await c.events("ReportStatusUpdate", 2, report_id=rid)
            assert [f["data"]["status"] for f in got] == ["reviewing", "resolved"]
            assert all(f["channel"] == "moderation/reports" and f["seq"] for f in got)
            assert set(got[0]["data"]) == {"report_id", "status", "updated_at"}
        # a verdict is final; the same status again changes nothing and tells nobody
        assert (await set_status(http, adm, rid, "dismissed")).status_code == 409
        same = await set_status(http, adm, rid, "resolved")
        assert same.status_code == 200 and same.json()["updated_at"] == r.json()["updated_at"]
        # a device that was away finds both in its feed
        r3 = await device(nodes, w.r, 1)
        feed = [x for x in await full_resume(r3) if x["type"] == "ReportStatusUpdate"]
        assert [x["data"]["status"] for x in feed] == ["reviewing", "resolved"]
        await r3.close()
        # X and T: nothing live (a later group message reached them after it) nor in the feed
        await say(r1, w.group, "after")
        for c in (cx, ct):
            await c.events("ChatMessageReceived", content="after")
            assert statuses(c) == []
            assert [x for x in await full_resume(c) if x["type"] == "ReportStatusUpdate"] == []
        assert len(statuses(r1)) == 2  # the repeat told nobody
        # the admin's actions are audited
        a = await http.get(
            "/v1/admin/audit", params={"action": "report.status", "target_id": rid},
            headers=auth(adm[1]),
        )  # fmt: skip
        assert a.status_code == 200, a.text
        assert [e["detail"]["status"] for e in a.json()["entries"]] == ["resolved", "reviewing"]
    finally:
        for c in (r1, r2, cx, ct):
            await c.close()


async def test_admin_routes_refuse_everyone_else_and_page(
    http: httpx.AsyncClient, nodes: list[ServerProcess]
) -> None:
    w = await world(http, nodes)
    adm = await admin(http, nodes[0])
    cr = await device(nodes, w.r)
    try:
        rids = [
            (await cr.ok(*SUBMIT, report(w.x[0], "user")))["data"]["report_id"] for _ in range(3)
        ]
        for u in (w.r, w.x):
            h = auth(u[1])
            assert (await http.get("/v1/admin/reports", headers=h)).status_code == 403
            assert (await http.get(f"/v1/admin/reports/{rids[0]}", headers=h)).status_code == 403
            r = await http.post(f"/v1/admin/reports/{rids[0]}", json={"status": "dismissed"},
                                headers=h)  # fmt: skip
            assert r.status_code == 403
        assert (await http.get("/v1/admin/reports")).status_code == 401
        assert (await admin_get(http, adm, rids[0]))["status"] == "open"  # unchanged
        unknown = "00000000-0000-7000-8000-000000000002"
        assert (await set_status(http, adm, unknown, "dismissed")).status_code == 404
        assert (
            await http.get(f"/v1/admin/reports/{unknown}", headers=auth(adm[1]))
        ).status_code == 404
        assert (await set_status(http, adm, rids[0], "open")).status_code == 422
        assert (
            await set_status(http, adm, rids[0], "resolved", note="n" * 2001)
        ).status_code == 422
        bad = await http.get("/v1/admin/reports", params={"status": "x"}, headers=auth(adm[1]))
        assert bad.status_code == 422
        # keyset pages, filtered by status
        await set_status(http, adm, rids[1], "dismissed")
        seen: list[str] = []
        after: str | None = None
        while True:
            params: dict[str, Any] = {"status": "open", "limit": 1}
            if after:
                params["after"] = after
            page = (await http.get("/v1/admin/reports", params=params, headers=auth(adm[1]))).json()
            seen += [x["report_id"] for x in page["reports"]]
            after = page["next_after"]
            if after is None:
                break
        assert rids[0] in seen and rids[2] in seen and rids[1] not in seen
        assert len(seen) == len(set(seen))
    finally:
        await cr.close()


async def test_the_snapshot_outlives_a_self_destructing_message(
    http: httpx.AsyncClient, nodes: list[ServerProcess]
) -> None:
    w = await world(http, nodes)
    adm = await admin(http, nodes[0])
    cr, cx = await device(nodes, w.r), await device(nodes, w.x, 1)
    try:
        body = {"client_message_id": "m-" + secrets.token_hex(6), "conversation_id": w.rx,
                "content": "gone in a second", "self_destruct": True, "ttl_seconds": 1}  # fmt: skip
        sent = await cx.ok("chat/messages/ack", "SendChatMessageWithClientId", body)
        mid = sent["data"]["message_id"]
        rid = (await cr.ok(*SUBMIT, report(mid, reason="harassment")))["data"]["report_id"]
        await cr.events("ChatMessageExpired", timeout=15, message_id=mid)
        # the evidence stays with the report; the message itself can no longer be reported
        assert (await admin_get(http, adm, rid))["content"] == "gone in a second"
        late = await cr.request(*SUBMIT, report(mid))
        assert late["type"] == "Error" and late["data"]["code"] == "not_found"
    finally:
        await cr.close()
        await cx.close()
