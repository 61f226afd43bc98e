"""Status updates (`status/updates`), their visibility (`user/status/visibility`
and its `/ack`) and viewers' mutes (`contacts/status-mute` and its `/ack`).

Alice is the author, with two devices. Bob (two devices) and carol share a
direct chat with her: her contacts. Nick shares only a group with her (not a
contact); kim has a direct chat with her but blocks her. Who gets each
status, live and through `SyncRequest`, follows her visibility setting;
nobody else ever does. Expiry runs on a server whose statuses live a few
seconds (`HUBBUB_STATUS_TTL_S`, the injected lifetime), across a restart.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hubbub.clock import parse_iso
from tests.audio import wav_chirp
from tests.integration.test_rich_content import err, quiet
from tests.support import Api, Client, ServerProcess, full_resume

User = tuple[str, str, str]
CREATE = ("status/updates", "CreateStatus")
VISIBILITY = ("user/status/visibility", "SetStatusVisibility")
VISIBILITY_ACK = ("user/status/visibility/ack", "SetStatusVisibilityAckRequest")
MUTE = ("contacts/status-mute", "SetContactStatusMute")
MUTE_ACK = ("contacts/status-mute/ack", "AckContactStatusMute")


def auth(user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {user[1]}"}


def status(text: str, **extra: Any) -> dict[str, Any]:
    return {
        "content_type": "text",
        "text": text,
        "client_request_id": "s-" + secrets.token_hex(6),
        **extra,
    }


class World:
    def __init__(self, users: dict[str, User], clients: dict[str, Client]) -> None:
        self.u = users
        self.c = clients

    async def close(self) -> None:
        for c in self.c.values():
            await c.close()


async def world(api: Api) -> World:
    """alice (a1, a2), bob (b1, b2), carol, nick (a group only), kim (blocks alice)."""
    names = ("alice", "bob", "carol", "nick", "kim")
    u = {n: await api.register() for n in names}
    for n in ("bob", "carol", "kim"):
        await api.direct(u["alice"][1], u[n][0])
    r = await api.http.put(f"/v1/users/{u['alice'][0]}/block", headers=auth(u["kim"]))
    assert r.status_code == 204, r.text
    a1 = await api.client(u["alice"], "a1")
    await a1.ok("chat/groups", "CreateGroup", {"name": "G", "member_ids": [u["nick"][0]]})
    clients = {
        "a1": a1,
        "a2": await api.client(u["alice"], "a2"),
        "b1": await api.client(u["bob"], "b1"),
        "b2": await api.client(u["bob"], "b2"),
        "c": await api.client(u["carol"]),
        "n": await api.client(u["nick"]),
        "k": await api.client(u["kim"]),
    }
    return World(u, clients)


async def create(client: Client, body: dict[str, Any]) -> dict[str, Any]:
    r = await client.ok(*CREATE, body)
    assert r["channel"] == "status/ack" and r["type"] == "CreateStatusAck", r
    assert r["data"]["status"] == "accepted"
    assert r["data"]["client_request_id"] == body.get("client_request_id")
    return dict(r["data"])


def statuses_in(changes: list[dict[str, Any]], status_id: str) -> list[dict[str, Any]]:
    return [
        c for c in changes if c["type"] == "StatusCreated" and c["data"]["status_id"] == status_id
    ]


async def received(w: World, status_id: str) -> dict[str, bool]:
    """Which of the world's clients got the status live (after a round trip each)."""
    return {
        name: bool(await quiet(c, "StatusCreated", status_id=status_id)) for name, c in w.c.items()
    }


async def wait_received(w: World, status_id: str, who: tuple[str, ...]) -> dict[str, bool]:
    for name in who:
        await w.c[name].events("StatusCreated", status_id=status_id)
    return await received(w, status_id)


async def test_status_reaches_contacts_devices_and_their_sync_and_nobody_else(api: Api) -> None:
    w = await world(api)
    try:
        ack = await create(w.c["a1"], status("hello contacts"))
        sid = ack["status_id"]
        created, expires = parse_iso(ack["created_at"]), parse_iso(ack["expires_at"])
        assert expires - created == 24 * 3600 * 1000
        got = await wait_received(w, sid, ("a2", "b1", "b2", "c"))
        # Not the device that made it (its ack says it all), not nick, not kim.
        assert got == {"a1": False, "a2": True, "b1": True, "b2": True, "c": True} | {
            "n": False,
            "k": False,
        }
        [ev] = await w.c["b2"].events("StatusCreated", status_id=sid)
        d = ev["data"]
        assert ev["channel"] == "status/updates" and ev["seq"] is not None
        assert d["author_id"] == w.u["alice"][0] and d["text"] == "hello contacts"
        assert d["content_type"] == "text" and d["content_url"] is None
        assert d["muted"] is False and d["expires_at"] == ack["expires_at"]
        # A retry answers the first status and tells nobody again.
        body = status("again")
        first = await create(w.c["a1"], body)
        await w.c["b1"].events("StatusCreated", status_id=first["status_id"])
        retry = await create(w.c["a2"], body)
        assert retry["status_id"] == first["status_id"]
        assert retry["created_at"] == first["created_at"]
        assert len(await quiet(w.c["b1"], "StatusCreated", status_id=first["status_id"])) == 1
        # Through sync: the contacts (on a fresh device too), not the others.
        fresh = await api.client(w.u["bob"], "b3")
        try:
            assert len(statuses_in(await full_resume(fresh), sid)) == 1
        finally:
            await fresh.close()
        assert statuses_in(await full_resume(w.c["c"]), sid)
        assert not statuses_in(await full_resume(w.c["n"]), sid)
        assert not statuses_in(await full_resume(w.c["k"]), sid)
        # Over REST: listed for a contact and the author, not for the others.
        for name, sees in (("bob", True), ("alice", True), ("nick", False), ("kim", False)):
            r = await api.http.get("/v1/statuses", headers=auth(w.u[name]))
            assert r.status_code == 200
            assert (sid in {s["status_id"] for s in r.json()}) is sees, name
            one = await api.http.get(
                f"/v1/users/{w.u['alice'][0]}/statuses", headers=auth(w.u[name])
            )
            assert (sid in {s["status_id"] for s in one.json()}) is sees, name
        nobody = await api.http.get(
            f"/v1/users/{secrets.token_hex(8)}/statuses", headers=auth(w.u["bob"])
        )
        assert nobody.status_code == 200 and nobody.json() == []
    finally:
        await w.close()


async def test_visibility_rules_decide_who_is_told(api: Api) -> None:
    w = await world(api)
    bob, carol = w.u["bob"][0], w.u["carol"][0]
    try:
        rid = "v-" + secrets.token_hex(4)
        body = {"visibility": "custom", "allowed_user_ids": [carol, w.u["nick"][0]]}
        r = await w.c["a1"].ok(*VISIBILITY, {**body, "request_id": rid})
        assert r["channel"] == "user/status/visibility/ack"
        assert r["type"] == "SetStatusVisibilityAck"
        assert r["data"]["success"] is True and r["data"]["request_id"] == rid
        [ev] = await w.c["a2"].events("StatusVisibilityUpdated")
        assert ev["data"]["visibility"] == "custom" and ev["data"]["user_id"] == w.u["alice"][0]
        assert ev["data"]["allowed_user_ids"] == sorted([carol, w.u["nick"][0]])
        # The ack request and a retry answer the first time, and write nothing.
        looked = await w.c["a2"].ok(*VISIBILITY_ACK, {"request_id": rid})
        assert looked["data"] == r["data"]
        retry = await w.c["a2"].ok(*VISIBILITY, {"visibility": "nobody", "request_id": rid})
        assert retry["data"] == r["data"]
        unknown = await w.c["a1"].request(*VISIBILITY_ACK, {"request_id": "never-made"})
        assert err(unknown)[0] == "not_found"
        other = await w.c["b1"].request(*VISIBILITY_ACK, {"request_id": rid})
        assert err(other) == err(unknown)
        # custom: carol only (nick is allowed but not a contact).
        s1 = (await create(w.c["a1"], status("custom")))["status_id"]
        got = await wait_received(w, s1, ("a2", "c"))
        assert [n for n, g in got.items() if g] == ["a2", "c"]
        # except: every contact but carol.
        await w.c["a1"].ok(*VISIBILITY, {"visibility": "except", "blocked_user_ids": [carol]})
        s2 = (await create(w.c["a1"], status("except")))["status_id"]
        got = await wait_received(w, s2, ("a2", "b1", "b2"))
        assert [n for n, g in got.items() if g] == ["a2", "b1", "b2"]
        # contacts with a deny list: the same.
        await w.c["a1"].ok(*VISIBILITY, {"visibility": "contacts", "blocked_user_ids": [bob]})
        s3 = (await create(w.c["a1"], status("deny bob")))["status_id"]
        got = await wait_received(w, s3, ("a2", "c"))
        assert [n for n, g in got.items() if g] == ["a2", "c"]
        # nobody: only her own devices.
        await w.c["a1"].ok(*VISIBILITY, {"visibility": "nobody"})
        s4 = (await create(w.c["a1"], status("nobody")))["status_id"]
        got = await wait_received(w, s4, ("a2",))
        assert [n for n, g in got.items() if g] == ["a2"]
        # Bob's and carol's feeds match what they were told; the settings reached nobody.
        bob_feed = await full_resume(w.c["b1"])
        assert [bool(statuses_in(bob_feed, s)) for s in (s1, s2, s3, s4)] == [0, 1, 0, 0]
        carol_feed = await full_resume(w.c["c"])
        assert [bool(statuses_in(carol_feed, s)) for s in (s1, s2, s3, s4)] == [1, 0, 1, 0]
        for c in ("b1", "c", "n", "k"):
            assert not await quiet(w.c[c], "StatusVisibilityUpdated")
        alice_feed = await full_resume(w.c["a2"])
        kinds = [
            x["data"]["visibility"] for x in alice_feed if x["type"] == "StatusVisibilityUpdated"
        ]
        assert kinds == ["custom", "except", "contacts", "nobody"]
        # A blocked relation wins over any rule: kim never, even on "contacts".
        await w.c["a1"].ok(*VISIBILITY, {"visibility": "contacts"})
        s5 = (await create(w.c["a1"], status("all contacts")))["status_id"]
        got = await wait_received(w, s5, ("a2", "b1", "b2", "c"))
        assert not got["k"] and not got["n"]
    finally:
        await w.close()


async def test_mute_is_the_viewers_own_and_flags_what_they_get(api: Api) -> None:
    w = await world(api)
    alice = w.u["alice"][0]
    try:
        rid = "m-" + secrets.token_hex(4)
        r = await w.c["b1"].ok(*MUTE, {"contact_id": alice, "muted": True, "request_id": rid})
        assert r["channel"] == "contacts/status-mute/ack" and r["type"] == "ContactStatusMuteAck"
        assert r["data"]["success"] is True and r["data"]["request_id"] == rid
        [ev] = await w.c["b2"].events("ContactStatusMuteChanged")
        assert ev["data"] == {
            "contact_id": alice,
            "muted": True,
            "changed_by": w.u["bob"][0],
            "timestamp": r["data"]["timestamp"],
        }
        again = await w.c["b2"].ok(*MUTE, {"contact_id": alice, "muted": False, "request_id": rid})
        assert again["data"] == r["data"]  # a retry: the first answer, nothing written
        assert len(await quiet(w.c["b1"], "ContactStatusMuteChanged")) == 0  # its own device
        for c in ("a1", "a2", "c"):  # alice is never told she is muted
            assert not await quiet(w.c[c], "ContactStatusMuteChanged")
        sid = (await create(w.c["a1"], status("muted for bob")))["status_id"]
        [b] = await w.c["b1"].events("StatusCreated", status_id=sid)
        [c] = await w.c["c"].events("StatusCreated", status_id=sid)
        assert b["data"]["muted"] is True and c["data"]["muted"] is False
        listed = await api.http.get("/v1/statuses", headers=auth(w.u["bob"]))
        assert [s["muted"] for s in listed.json() if s["status_id"] == sid] == [True]
        # The receipt of the mute event: once first, then not; only the muter's event.
        seq = str(ev["seq"])
        first = await w.c["b2"].ok(
            *MUTE_ACK, {"event_id": seq, "received_at": "2026-01-01T00:00:00Z"}
        )
        assert first["data"]["first"] is True and first["data"]["request_id"] == seq
        second = await w.c["b1"].ok(*MUTE_ACK, {"event_id": seq})
        assert second["data"]["first"] is False
        theirs = await w.c["c"].request(*MUTE_ACK, {"event_id": seq})
        unknown = await w.c["c"].request(*MUTE_ACK, {"event_id": "99999999999"})
        assert err(theirs) == err(unknown) and err(theirs)[0] == "not_found"
        # Unmute: the next status is not flagged.
        await w.c["b1"].ok(*MUTE, {"contact_id": alice, "muted": False})
        await w.c["b2"].events("ContactStatusMuteChanged", muted=False)
        s2 = (await create(w.c["a1"], status("unmuted")))["status_id"]
        [b2] = await w.c["b2"].events("StatusCreated", status_id=s2)
        assert b2["data"]["muted"] is False
        # Refusals: nobody by that id, oneself.
        ghost = await w.c["b1"].request(*MUTE, {"contact_id": secrets.token_hex(8), "muted": True})
        assert err(ghost)[0] == "not_found"
        me = await w.c["b1"].request(*MUTE, {"contact_id": w.u["bob"][0], "muted": True})
        assert err(me) == ("validation_failed", "$.data.contact_id")
    finally:
        await w.close()


LONG = "x" * 701
BAD_CREATES = [
    ({"content_type": "poem", "text": "hi"}, "$.data.content_type"),
    ({"content_type": "text", "text": LONG}, "$.data.text"),
    ({"content_type": "text", "text": "   "}, "$.data.text"),
    ({"content_type": "text"}, "$.data.text"),
    ({"content_type": "text", "text": "hi", "content_url": "/v1/blobs/abc"}, "$.data.content_url"),
    ({"content_type": "image"}, "$.data.content_url"),
    ({"content_type": "image", "content_url": "https://evil.example/x.png"}, "$.data.content_url"),
    ({"content_type": "video", "content_url": "/v1/blobs/../etc"}, "$.data.content_url"),
    (
        {"content_type": "text", "text": "hi", "client_request_id": "k" * 65},
        "$.data.client_request_id",
    ),
    ({"text": "hi"}, "$.data.content_type"),
]
BAD_SETTINGS = [
    ({"visibility": "everyone"}, "$.data.visibility"),
    ({"visibility": "custom"}, "$.data.allowed_user_ids"),
    ({"visibility": "contacts", "allowed_user_ids": ["u1"]}, "$.data.allowed_user_ids"),
    ({"visibility": "custom", "allowed_user_ids": ["u"] * 257}, "$.data.allowed_user_ids"),
    ({"visibility": "except", "blocked_user_ids": ["x" * 65]}, "$.data.blocked_user_ids[0]"),
    ({"visibility": "contacts", "request_id": ""}, "$.data.request_id"),
]


@pytest.mark.parametrize(("body", "path"), BAD_CREATES + BAD_SETTINGS)
async def test_refusals_name_the_field_and_tell_nobody(
    api: Api, body: dict[str, Any], path: str
) -> None:
    a, b = await api.user(2)
    await api.direct(a[1], b[0])
    ca, cb = await api.client(a), await api.client(b)
    try:
        route = VISIBILITY if "visibility" in body else CREATE
        r = await ca.request(*route, body)
        assert err(r) == ("validation_failed", path)
        assert not await quiet(cb, "StatusCreated")
        assert not [
            x for x in await full_resume(ca) if x["channel"].startswith(("status", "user/status"))
        ]
    finally:
        await close_all(ca, cb)


async def close_all(*clients: Client) -> None:
    for c in clients:
        await c.close()


def voice_note(cid: str) -> dict[str, Any]:
    return {
        "conversation_id": cid,
        "audio_payload": base64.b64encode(wav_chirp()).decode(),
        "duration_ms": 600,
        "mime_type": "audio/wav",
        "client_message_id": "v-" + secrets.token_hex(4),
    }


async def test_media_is_a_blob_of_ones_own_readable_by_the_audience_and_bounded(
    api: Api,
) -> None:
    a, b, c, n = await api.user(4)
    cid = await api.direct(a[1], b[0])
    await api.direct(a[1], c[0])
    ca, cb = await api.client(a), await api.client(b)
    try:
        note = voice_note(cid)
        await cb.ok("chat/voice", "SendVoiceMessage", note)
        [heard] = await ca.events("VoiceMessageReceived")
        bobs = heard["data"]["audio_url"]
        await ca.ok("chat/voice", "SendVoiceMessage", {**note, "client_message_id": "v-mine"})
        [mine] = await cb.events("VoiceMessageReceived", sender_id=a[0])
        own = mine["data"]["audio_url"]
        # Another's file and a file that does not exist: the same not_found.
        theirs = await ca.request(*CREATE, {"content_type": "image", "content_url": bobs})
        ghost = await ca.request(
            *CREATE, {"content_type": "image", "content_url": "/v1/blobs/" + "Q" * 32}
        )
        assert err(theirs) == err(ghost) and err(theirs)[0] == "not_found"
        ok = await create(ca, {"content_type": "video", "content_url": own, "text": "caption"})
        [ev] = await cb.events("StatusCreated", status_id=ok["status_id"])
        assert ev["data"]["content_url"] == own and ev["data"]["text"] == "caption"
        # Carol (a contact, not in the chat the audio was sent to) may download it
        # while the status lives; nick (no contact) gets what an unknown blob gets.
        r = await api.http.get(own, headers=auth(c))
        assert r.status_code == 200 and r.content == wav_chirp()
        assert (await api.http.post(own + "/url", headers=auth(c))).status_code == 200
        theirs_dl = await api.http.get(own, headers=auth(n))
        ghost_dl = await api.http.get("/v1/blobs/" + "Q" * 32, headers=auth(n))
        assert theirs_dl.status_code == ghost_dl.status_code == 404
        assert theirs_dl.json() == ghost_dl.json()
        # At most 30 live statuses per author (the one above counts).
        for i in range(29):
            await create(ca, status(f"n{i}"))
        over = await ca.request(*CREATE, status("one too many"))
        assert err(over)[0] == "conflict"
        assert len(await quiet(cb, "StatusCreated")) == 30
    finally:
        await close_all(ca, cb)


# -- expiry, with statuses that live a few seconds ---------------------------------


def live_rows(srv: ServerProcess, status_id: str) -> int:
    """The `statuses` and `timers` rows of one status, read from the database."""
    sql = (
        "SELECT (SELECT count(*) FROM statuses WHERE id = $1)"
        " + (SELECT count(*) FROM timers WHERE ref = $1)"
    )
    if srv.database_url:
        import asyncpg

        async def count() -> int:
            conn = await asyncpg.connect(srv.database_url)
            try:
                return int(await conn.fetchval(sql, status_id))
            finally:
                await conn.close()

        return _in_thread(count)
    with sqlite3.connect(srv.data_dir / "hubbub.db") as db:
        return int(db.execute(sql.replace("$1", "?"), (status_id, status_id)).fetchone()[0])


def _in_thread(make: Any) -> int:
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return int(pool.submit(asyncio.run, make()).result())


async def until(pred: Any, timeout: float = 30.0) -> None:
    """Wait on a condition that no frame announces (a row going, a time passing)."""
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_a_status_expires_once_even_across_a_restart_and_leaves_sync(
    tmp_path: Path, backend: str
) -> None:
    srv = ServerProcess(tmp_path / "data", extra_env={"HUBBUB_STATUS_TTL_S": "5"}).start()
    try:
        api = Api(srv)
        a, b, c = await api.user(3)
        cid = await api.direct(a[1], b[0])
        await api.direct(a[1], c[0])
        ca, cb = await api.client(a), await api.client(b)
        await ca.ok("chat/voice", "SendVoiceMessage", voice_note(cid))
        [note] = await cb.events("VoiceMessageReceived")
        url = note["data"]["audio_url"]
        ack = await create(ca, {"content_type": "image", "content_url": url})
        sid = ack["status_id"]
        due = parse_iso(ack["expires_at"])
        assert due - parse_iso(ack["created_at"]) == 5000
        await cb.events("StatusCreated", status_id=sid)
        assert (await api.http.get(url, headers=auth(c))).status_code == 200
        assert live_rows(srv, sid) == 2  # the status and its timer
        srv.kill9()  # before it is due: only the durable timer can delete it now
        await close_all(ca, cb)
        await api.aclose()
        await until(lambda: time.time() * 1000 > due)
        srv.start()
        api = Api(srv)
        cb = await api.client(b)
        try:
            # Never delivered once expired, whatever the timer has done by now.
            assert not statuses_in(await full_resume(cb), sid)
            r = await api.http.get("/v1/statuses", headers=auth(b))
            assert sid not in {s["status_id"] for s in r.json()}
            await until(lambda: live_rows(srv, sid) == 0)  # the timer fired, after the restart
            # Its file is no longer carol's to read (bob still has it in his chat).
            assert (await api.http.get(url, headers=auth(c))).status_code == 404
            assert (await api.http.get(url, headers=auth(b))).status_code == 200
        finally:
            await cb.close()
            await api.aclose()
    finally:
        srv.stop()


@pytest.fixture
def two_nodes(tmp_path: Path, pg_url: str, jetstream_url: str) -> Iterator[list[ServerProcess]]:
    env = {"HUBBUB_NATS_PREFIX": "hubbub_t_" + secrets.token_hex(4)}
    nodes = [
        ServerProcess(
            tmp_path / f"n{i}",
            database_url=pg_url,
            nats_url=jetstream_url,
            extra_env={**env, "HUBBUB_NODE_ID": f"n{i}"},
        ).start()
        for i in range(2)
    ]
    yield nodes
    for n in nodes:
        n.stop()


async def test_a_status_made_on_one_node_reaches_contacts_on_the_other(
    two_nodes: list[ServerProcess],
) -> None:
    n0, n1 = two_nodes
    api = Api(n0)
    try:
        a, b, c = await api.user(3)
        await api.direct(a[1], b[0])
        ca = await Client(n0, a[0], a[1], "a0").connect()
        a1 = await Client(n1, a[0], a[1], "a1").connect()
        cb = await Client(n1, b[0], b[1], "b1").connect()
        cc = await Client(n1, c[0], c[1], "c1").connect()
        try:
            await cb.ok(*MUTE, {"contact_id": a[0], "muted": True, "request_id": "m1"})
            sid = (await create(ca, status("across nodes")))["status_id"]
            [ev] = await cb.events("StatusCreated", status_id=sid)
            assert ev["data"]["muted"] is True
            await a1.events("StatusCreated", status_id=sid)
            assert not await quiet(cc, "StatusCreated")
            await a1.ok(*VISIBILITY, {"visibility": "nobody", "request_id": "v1"})
            looked = await ca.ok(*VISIBILITY_ACK, {"request_id": "v1"})
            assert looked["data"]["success"] is True
            s2 = (await create(ca, status("nobody now")))["status_id"]
            await a1.events("StatusCreated", status_id=s2)
            assert not await quiet(cb, "StatusCreated", status_id=s2)
        finally:
            await close_all(ca, a1, cb, cc)
    finally:
        await api.aclose()
