"""Who sees my online status and last seen (`user/presence-settings`).

Three users: alice, bob (shares a direct chat with her, and a group), carol
(shares only the group), and dave (shares nothing). Alice's setting decides
what bob and carol see live on /ws (announcements and the snapshot on
connecting), what every one of them sees in the REST profile's
`last_seen_at`, and what MTChat's participant list says; a change applies at
once; her own devices get `PresenceVisibilityUpdated`, live and in the feed,
and nobody else does.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import Api, Client, ServerProcess, full_resume

User = tuple[str, str, str]
SETTINGS = ("user/presence-settings", "UpdatePresenceVisibility")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def setting(
    visibility: str, allowed: list[str] | None = None, blocked: list[str] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"visibility": visibility}
    if allowed is not None:
        body["allowed_user_ids"] = allowed
    if blocked is not None:
        body["blocked_user_ids"] = blocked
    return body


def about(client: Client, user_id: str) -> list[dict[str, Any]]:
    """The `PresenceStatusUpdated` frames `client` got about `user_id`, in order."""
    return [
        f["data"]
        for f in client.frames
        if f.get("type") == "PresenceStatusUpdated" and f["data"]["user_id"] == user_id
    ]


def collapsed(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`frames` without the repeats of the status just before."""
    out: list[dict[str, Any]] = []
    for f in frames:
        if not out or out[-1]["status"] != f["status"]:
            out.append(f)
    return out


async def last_seen(api: Api, viewer: User, owner: User) -> str | None:
    r = await api.http.get(f"/v1/users/{owner[0]}", headers=bearer(viewer[1]))
    assert r.status_code == 200, r.text
    value: str | None = r.json()["last_seen_at"]
    return value


async def world(api: Api) -> tuple[User, User, User, User, str, str]:
    """alice, bob, carol, dave, the alice-bob direct chat, and a group of the
    three made by a fifth user (so that none of theirs connects for it)."""
    a, b, c, d, e = await api.user(5)
    dm = await api.direct(a[1], b[0])
    ce = await api.client(e)
    try:
        body = {"name": "g", "member_ids": [a[0], b[0], c[0]]}
        g = await ce.ok("chat/groups", "CreateGroup", body)
    finally:
        await ce.close()
    return a, b, c, d, dm, g["data"]["group_id"]


async def settle(sender: Client, gid: str, *to: Client) -> None:
    """A group message from `sender`, published after everything it did before,
    has reached each of `to`: nothing `sender` caused earlier is still in flight."""
    m = await sender.ok(
        "chat/messages/ack",
        "SendChatMessageWithClientId",
        {"client_message_id": "c-" + secrets.token_hex(6), "conversation_id": gid, "content": "."},
    )
    for c in to:
        await c.events("ChatMessageReceived", message_id=m["data"]["message_id"])


async def news(client: Client, user_id: str, mark: int, n: int = 1) -> list[dict[str, Any]]:
    """Wait for `n` presence frames about `user_id` past the first `mark`; all of them."""
    await client.wait_for(lambda _f: len(about(client, user_id)) >= mark + n)
    return about(client, user_id)[mark:]


async def watching(api: Api, viewer: User, owner: User) -> Client:
    """`viewer` connected, its snapshot's line about `owner` received (so that
    the snapshot is not racing what `owner` does next)."""
    client = await api.client(viewer)
    await news(client, owner[0], 0)
    return client


async def test_each_mode_decides_who_sees_last_seen_over_rest(api: Api) -> None:
    a, b, c, d, _dm, _g = await world(api)
    cb = await watching(api, b, a)
    await (await api.client(a)).close()  # alice has been online once:
    [_, off] = await news(cb, a[0], 1, 2)  # online, then offline: last seen stored
    assert off["status"] == "offline" and off["last_seen_at"] is not None
    await cb.close()
    ca = await api.client(a)
    try:
        viewers = {"bob": b, "carol": c, "dave": d}

        async def seen() -> dict[str, bool]:
            return {n: await last_seen(api, v, a) is not None for n, v in viewers.items()}

        assert await seen() == {"bob": True, "carol": True, "dave": True}  # the default
        cases: list[tuple[dict[str, Any], dict[str, bool]]] = [
            (setting("contacts"), {"bob": True, "carol": False, "dave": False}),
            (setting("nobody"), {"bob": False, "carol": False, "dave": False}),
            (setting("custom", allowed=[c[0]]), {"bob": False, "carol": True, "dave": False}),
            (setting("everyone", blocked=[b[0]]), {"bob": False, "carol": True, "dave": True}),
            (setting("contacts", blocked=[b[0]]), {"bob": False, "carol": False, "dave": False}),
            (setting("everyone"), {"bob": True, "carol": True, "dave": True}),
        ]
        for body, expected in cases:
            reply = await ca.ok(*SETTINGS, body)
            assert reply["type"] == "Ack" and reply["data"]["visibility"] == body["visibility"]
            assert await seen() == expected, body
            assert await last_seen(api, a, a) is not None  # never hidden from herself
    finally:
        await ca.close()


async def test_snapshot_on_connect_hides_who_is_not_entitled(api: Api) -> None:
    a, b, c, _d, _dm, _g = await world(api)
    ca = await api.client(a)
    try:
        await ca.ok(*SETTINGS, setting("contacts"))
        cb, cc = await api.client(b), await api.client(c)
        [shown] = await news(cb, a[0], 0)
        assert shown["status"] == "online" and shown["visibility_applied"] == "restricted"
        [hidden] = await news(cc, a[0], 0)
        assert hidden["status"] == "offline" and hidden["last_seen_at"] is None
        # Not reciprocal: alice still sees carol, who hides nothing.
        await ca.events("PresenceStatusUpdated", user_id=c[0], status="online")
        await cb.close()
        await cc.close()
        await ca.ok(*SETTINGS, setting("nobody"))
        cb = await api.client(b)
        [now] = await news(cb, a[0], 0)
        assert now["status"] == "offline" and now["last_seen_at"] is None
        await cb.close()
    finally:
        await ca.close()


async def test_live_announcements_follow_the_setting(api: Api) -> None:
    a, b, c, _d, _dm, gid = await world(api)
    cb, cc = await watching(api, b, a), await watching(api, c, a)
    ca = await api.client(a)
    try:
        await cb.events("PresenceStatusUpdated", user_id=a[0], status="online")
        await cc.events("PresenceStatusUpdated", user_id=a[0], status="online")
        mb, mc = len(about(cb, a[0])), len(about(cc, a[0]))
        await ca.ok(*SETTINGS, setting("everyone", blocked=[c[0]]))
        # carol just lost sight of alice: told she is offline, as if never seen
        [gone] = await news(cc, a[0], mc)
        assert gone["status"] == "offline" and gone["last_seen_at"] is None
        assert gone["visibility_applied"] == "everyone"  # like anyone never seen online
        await ca.close()  # alice goes offline: bob is told, with her last seen
        [off] = await news(cb, a[0], mb)
        assert off["status"] == "offline" and off["last_seen_at"] is not None
        ca = await api.client(a)
        [_, on] = await news(cb, a[0], mb, 2)
        assert on["status"] == "online"
        await settle(ca, gid, cb, cc)
        assert about(cc, a[0])[mc:] == [gone]  # carol heard of neither
    finally:
        for x in (ca, cb, cc):
            await x.close()


async def test_a_change_mid_stream_takes_effect_at_once(api: Api) -> None:
    a, b, c, _d, _dm, gid = await world(api)
    cb, cc = await watching(api, b, a), await watching(api, c, a)
    ca = await api.client(a)
    try:
        await cb.events("PresenceStatusUpdated", user_id=a[0], status="online")
        await cc.events("PresenceStatusUpdated", user_id=a[0], status="online")
        mb, mc = len(about(cb, a[0])), len(about(cc, a[0]))
        await ca.ok(*SETTINGS, setting("contacts"))
        await news(cc, a[0], mc, 1)
        # bob loses sight, carol gains it with the current state (online)
        await ca.ok(*SETTINGS, setting("custom", allowed=[c[0]]))
        await news(cb, a[0], mb, 1)
        await news(cc, a[0], mc, 2)
        await ca.ok(*SETTINGS, setting("nobody"))
        await news(cc, a[0], mc, 3)
        await ca.close()  # offline and online again under `nobody`: nobody told
        ca = await api.client(a)
        await ca.ok(*SETTINGS, setting("contacts"))
        await news(cb, a[0], mb, 2)
        await settle(ca, gid, cb, cc)
        # Presence is state: a repeat is a no-op for clients (alice's reconnect
        # announces itself while her next frame is already being handled, so
        # bob may be told "online" twice), hence runs are collapsed.
        bob_saw = collapsed(about(cb, a[0])[mb:])
        carol_saw = collapsed(about(cc, a[0])[mc:])
        assert [x["status"] for x in bob_saw] == ["offline", "online"]
        assert [x["status"] for x in carol_saw] == ["offline", "online", "offline"]
        hidden = [bob_saw[0], carol_saw[0], carol_saw[2]]
        assert all(x["last_seen_at"] is None for x in hidden)
        assert {x["visibility_applied"] for x in hidden} == {"restricted"}
    finally:
        for x in (ca, cb, cc):
            await x.close()


async def test_own_devices_get_the_setting_live_and_after_sync(api: Api) -> None:
    a, b, _c, _d, _dm, gid = await world(api)
    a1, a2 = await api.client(a, "a1"), await api.client(a, "a2")
    cb = await api.client(b)
    try:
        body = setting("custom", allowed=[b[0], b[0]], blocked=[str(uuid.uuid4())])
        ack = await a1.ok(*SETTINGS, body)
        assert ack["data"]["ids"] == {"user_id": a[0]}
        assert ack["data"]["allowed_user_ids"] == [b[0]]  # deduplicated
        [live] = await a2.events("PresenceVisibilityUpdated")
        assert live["channel"] == "user/presence-settings" and live["seq"] > 0
        data = {k: v for k, v in ack["data"].items() if k != "ids"}
        assert live["data"] == data
        # the same setting again: answered, nothing stored, no event
        again = await a1.ok(*SETTINGS, body)
        assert again["data"]["updated_at"] == ack["data"]["updated_at"]
        await a1.ok(*SETTINGS, setting("nobody"))
        events = await a2.events("PresenceVisibilityUpdated", 2)
        assert [e["data"]["visibility"] for e in events] == ["custom", "nobody"]
        await settle(a1, gid, cb)
        assert [f for f in cb.frames if f["type"] == "PresenceVisibilityUpdated"] == []
        # a device that was away finds them in its feed; bob's feed has none
        a3 = Client(a2.server, a[0], a[1], "a3")
        await a3.connect()
        changes = [x for x in await full_resume(a3) if x["type"] == "PresenceVisibilityUpdated"]
        assert [x["data"]["visibility"] for x in changes] == ["custom", "nobody"]
        await a3.close()
        theirs = await full_resume(cb)
        assert [x for x in theirs if x["type"] == "PresenceVisibilityUpdated"] == []
    finally:
        for x in (a1, a2, cb):
            await x.close()


async def test_presence_ack_channel_makes_the_same_change_with_a_request_id(api: Api) -> None:
    a, b, *_ = await world(api)
    a1, a2 = await api.client(a), await api.client(a)
    try:
        req = {"request_id": "r-1", "visibility": "nobody"}
        first = await a1.ok("user/presence-ack", "PresenceVisibilityUpdateRequest", req)
        assert first["type"] == "PresenceVisibilityUpdateAck"
        assert first["data"]["request_id"] == "r-1" and first["data"]["status"] == "updated"
        [ev] = await a2.events("PresenceVisibilityUpdated")
        assert ev["data"]["visibility"] == "nobody"
        assert ev["data"]["updated_at"] == first["data"]["timestamp"]
        again = await a1.ok("user/presence-ack", "PresenceVisibilityUpdateRequest", req)
        assert again["data"]["status"] == "unchanged"
        assert await last_seen(api, b, a) is None  # applied like the other channel
        bad = {"request_id": "r-2", "visibility": "custom"}
        refused = await a1.request("user/presence-ack", "PresenceVisibilityUpdateRequest", bad)
        assert refused["type"] == "Error"
        assert refused["data"]["path"] == "$.data.allowed_user_ids"
    finally:
        await a1.close()
        await a2.close()


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"visibility": "friends"}, "$.data.visibility"),
        ({"visibility": "custom"}, "$.data.allowed_user_ids"),
        ({"visibility": "contacts", "allowed_user_ids": ["x"]}, "$.data.allowed_user_ids"),
        ({"visibility": "nobody", "blocked_user_ids": ["x" * 65]}, "$.data.blocked_user_ids[0]"),
        (
            {"visibility": "custom", "allowed_user_ids": [str(i) for i in range(257)]},
            "$.data.allowed_user_ids",
        ),
        ({"visibility": "custom", "allowed_user_ids": ["{me}"]}, "$.data.allowed_user_ids[0]"),
    ],
)
async def test_refusals_name_the_field_and_change_nothing(
    api: Api, body: dict[str, Any], path: str
) -> None:
    a, *_ = await world(api)
    a1, a2 = await api.client(a), await api.client(a)
    try:
        body = {
            k: [a[0] if x == "{me}" else x for x in v] if isinstance(v, list) else v
            for k, v in body.items()
        }
        reply = await a1.request(*SETTINGS, body)
        assert reply["type"] == "Error", reply
        assert reply["data"]["code"] == "validation_failed"
        assert reply["data"]["path"] == path
        # a wrong type is a typed error too
        typed = await a1.request(*SETTINGS, {"visibility": 5})
        assert typed["data"]["code"] == "validation_failed"
        # nothing was stored: no event before the next valid update's
        await a1.ok(*SETTINGS, setting("nobody"))
        [only] = await a2.events("PresenceVisibilityUpdated")
        assert only["data"]["visibility"] == "nobody"
        assert len([f for f in a2.frames if f["type"] == "PresenceVisibilityUpdated"]) == 1
    finally:
        await a1.close()
        await a2.close()


async def test_mtchat_participants_is_online_follows_the_setting(api: Api) -> None:
    from tests.integration.mtchat import Mt, create_dialog, scope_header

    a, b, c = await api.user(3)
    await api.direct(a[1], b[0])
    scope = scope_header(["tenant-p"])
    host = Mt(api.server, scope=scope)
    cid = await create_dialog(api.server, [host], [{"scope_level0": ["tenant-p"]}])
    people = {}
    for u in (a, b, c):
        m = Mt(api.server, user=u[0], scope=scope)
        m.token = u[1]
        await m.ok("POST", f"/dialogs/{cid}/join", json={"display_name": u[2], "company": "H"})
        people[u[0]] = m
    ca = await api.client(a)
    try:

        async def alice_online(viewer: User) -> bool:
            rows = (await people[viewer[0]].ok("GET", f"/dialogs/{cid}/participants"))["data"]
            return bool(next(p for p in rows if p["user_id"] == a[0])["is_online"])

        assert await alice_online(b) and await alice_online(c)
        await ca.ok(*SETTINGS, setting("contacts"))
        assert await alice_online(b)
        assert not await alice_online(c)
        assert (await people[a[0]].ok("GET", f"/dialogs/{cid}/participants"))["data"]
    finally:
        await ca.close()
        for m in (host, *people.values()):
            await m.aclose()


async def test_symbia_presence_changed_follows_the_setting(api: Api) -> None:
    from tests.integration.symbia_rt import Sio

    a, b, c, _d, _dm, _gid = await world(api)
    ca = await api.client(a)
    sa, sb, sc = [await Sio.open(api.server, auth={"token": u[1]}) for u in (a, b, c)]
    try:
        await ca.ok(*SETTINGS, setting("contacts"))
        await sa.call("presence:update", "busy")
        await sb.event("presence:changed", userId=a[0], status="busy")
        await ca.ok(*SETTINGS, setting("everyone"))  # carol gains sight: the current state
        await sc.event("presence:changed", userId=a[0], status="online")
        await sa.call("presence:update", "away")
        await sc.event("presence:changed", userId=a[0], status="away")
        assert not sc.seen("presence:changed", userId=a[0], status="busy")
    finally:
        for x in (sa, sb, sc):
            await x.close()
        await ca.close()


# -- across nodes (PostgreSQL + NATS) -------------------------------------------


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


async def test_setting_applies_across_nodes(two_nodes: list[ServerProcess]) -> None:
    n0, n1 = two_nodes
    api = Api(n0)
    try:
        a, b = await api.user(2)
        await api.direct(a[1], b[0])
        cb = await Client(n1, b[0], b[1], "b1").connect()
        [snap] = await news(cb, a[0], 0)  # before alice connects: offline
        assert snap["status"] == "offline"
        ca = await Client(n0, a[0], a[1], "a1").connect()
        a2 = await Client(n1, a[0], a[1], "a2").connect()
        [on] = await news(cb, a[0], 1)  # across nodes
        assert on["status"] == "online"
        await ca.ok(*SETTINGS, setting("nobody"))  # on node 0, bob on node 1
        [_, gone] = await news(cb, a[0], 1, 2)
        assert gone["status"] == "offline" and gone["last_seen_at"] is None
        await a2.events("PresenceVisibilityUpdated", visibility="nobody")
        await ca.ok(*SETTINGS, setting("contacts"))
        [_, _, back] = await news(cb, a[0], 1, 3)
        assert back["status"] == "online"  # alice is online (on both nodes)
        for x in (ca, a2, cb):
            await x.close()
    finally:
        await api.aclose()
