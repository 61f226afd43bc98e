"""Spec 000 `chat/background` and `user/info-visibility` over real sockets.

A background is the conversation's (`core/chat_backgrounds.py`): every
device of every member hears of a change, live and through `SyncRequest`,
and a stranger hears nothing and gets `not_found`. Info-text visibility
(`core/info_visibility.py`) decides who sees the owner's info text, live
(`ProfileInfoTextUpdated`), in the change feed and in the REST profile: a
contact (direct chat), a non-contact (a group only), a custom-listed user
and a blocked user. Absence is checked without waiting on time: a later
frame the client does get (a group message) proves the earlier one never
came.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_messaging import close_all, group_of
from tests.integration.test_rich_content import err, quiet
from tests.integration.test_voice import send, voice
from tests.support import Api, Client, ServerProcess, full_resume

User = tuple[str, str, str]
BG = ("chat/background", "SetChatBackground")
BG_ACK = ("chat/background/ack", "SetChatBackgroundWithAck")
VIS = ("user/info-visibility", "SetInfoVisibility")
INFO = ("profile/info-text", "UpdateProfileInfoText")


def bg(cid: str, type_: str, value: str, bid: str = "bg-1", **extra: Any) -> dict[str, Any]:
    return {
        "conversation_id": cid,
        "background_id": bid,
        "background_type": type_,
        "value": value,
        **extra,
    }


def of(frames: list[dict[str, Any]], type_: str, **match: Any) -> list[dict[str, Any]]:
    return [
        f
        for f in frames
        if f.get("type") == type_ and all(f["data"].get(k) == v for k, v in match.items())
    ]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- backgrounds ----------------------------------------------------------------


async def test_background_reaches_every_member_live_and_after_sync(api: Api) -> None:
    users, (ca, cb, cc), gid = await group_of(api, 3)
    cb2 = await api.client(users[1], "b-laptop")
    stranger = await api.client((await api.user(1))[0])

    # Alice sets a colour (stored lower-case): the plain channel answers Ack.
    r = await ca.ok(*BG, bg(gid, "color", "#A0B1C2"))
    assert (r["channel"], r["type"]) == ("chat/background", "Ack")
    assert r["data"]["status"] == "applied" and r["data"]["ids"] == {"conversation_id": gid}
    for dev in (ca, cb, cb2, cc):
        [ev] = await dev.events("ChatBackgroundUpdated", conversation_id=gid)
        assert ev["channel"] == "chat/background" and ev["seq"] is not None
        d = ev["data"]
        assert (d["background_id"], d["background_type"], d["value"]) == (
            "bg-1",
            "color",
            "#a0b1c2",
        )
        assert d["updated_by"] == users[0][0] and d["timestamp"]

    # Bob picks a preset with an ack; a retry returns the first ack and tells nobody.
    body = bg(gid, "preset", "ocean", "p-ocean", request_id="req-1")
    r = await cb.ok(*BG_ACK, body)
    assert (r["channel"], r["type"]) == ("chat/background/ack", "SetChatBackgroundAck")
    first = r["data"]
    assert first["status"] == "applied" and first["reason"] is None
    assert (first["conversation_id"], first["request_id"]) == (gid, "req-1")
    for dev in (ca, cb, cb2, cc):
        await dev.events("ChatBackgroundUpdated", value="ocean", updated_by=users[1][0])
    again = await cb2.ok(*BG_ACK, body)
    assert again["data"] == first
    # The same background under a new key is `unchanged`.
    same = await cc.ok(*BG_ACK, {**body, "request_id": "req-2"})
    assert same["data"]["status"] == "unchanged"
    for dev in (ca, cb, cb2, cc):
        assert len(await quiet(dev, "ChatBackgroundUpdated")) == 2

    # The stranger heard nothing and may not set it (as for a chat that does not exist).
    assert not await quiet(stranger, "ChatBackgroundUpdated")
    assert err(await stranger.request(*BG, bg(gid, "color", "#000000"))) == ("not_found", None)
    assert err(await stranger.request(*BG, bg("c-" + "9" * 20, "color", "#000000")))[0] == (
        "not_found"
    )
    assert not [c for c in await full_resume(stranger) if c["channel"] == "chat/background"]

    # Carol's device reconnects and catches up: both changes, as pushed live.
    live = of(cc.frames, "ChatBackgroundUpdated")
    await cc.close()
    cc = await api.client(users[2])
    synced = [c for c in await full_resume(cc) if c["channel"] == "chat/background"]
    assert [(c["type"], c["seq"], c["data"]) for c in synced] == [
        (f["type"], f["seq"], f["data"]) for f in live
    ]
    await close_all(ca, cb, cb2, cc, stranger)


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"background_id": ""}, "$.data.background_id"),
        ({"background_id": "x" * 65}, "$.data.background_id"),
        ({"background_id": "has space"}, "$.data.background_id"),
        ({"background_type": "gradient"}, "$.data.background_type"),
        ({"background_type": "color", "value": "red"}, "$.data.value"),
        ({"background_type": "color", "value": "#12345"}, "$.data.value"),
        ({"background_type": "color", "value": "#1234567"}, "$.data.value"),
        ({"background_type": "preset", "value": "no-such-preset"}, "$.data.value"),
        ({"background_type": "image", "value": "https://example.com/cat.png"}, "$.data.value"),
        ({"background_type": "image", "value": "/v1/blobs/../etc/passwd"}, "$.data.value"),
        ({"background_type": "image", "value": "/v1/blobs/" + "A" * 32 + "?u=x"}, "$.data.value"),
        ({"conversation_id": ""}, "$.data.conversation_id"),
        ({"conversation_id": "c" * 65}, "$.data.conversation_id"),
        ({"request_id": "r" * 129}, "$.data.request_id"),
        ({"value": 7}, "$.data.value"),
    ],
)
async def test_background_refusals_name_the_field(
    api: Api, body: dict[str, Any], path: str
) -> None:
    a, b = await api.user(2)
    cid = await api.direct(a[1], b[0])
    ca, cb = await api.client(a), await api.client(b)
    base = bg(cid, "color", "#101010", request_id="r-1")
    assert err(await ca.request(*BG_ACK, {**base, **body})) == ("validation_failed", path)
    # Nothing was stored or told: the next valid change is the first event.
    r = await ca.ok(*BG_ACK, {**base, "request_id": "r-2"})
    assert r["data"]["status"] == "applied"
    [ev] = await cb.events("ChatBackgroundUpdated", conversation_id=cid)
    assert ev["data"]["value"] == "#101010"
    await close_all(ca, cb)


async def test_image_background_must_be_a_blob_shared_in_this_chat(api: Api) -> None:
    from tests.audio import wav_chirp

    users, (ca, cb, cc), gid = await group_of(api, 3)
    dm = await api.direct(users[0][1], users[1][0])
    ack = await send(ca, voice(gid, wav_chirp()))
    [ev] = await cb.events("VoiceMessageReceived", message_id=ack["message_id"])
    url = ev["data"]["audio_url"]
    assert url.startswith("/v1/blobs/") and "?" not in url

    # A blob of another chat, or none at all: not_found, and nothing told.
    assert err(await ca.request(*BG, bg(dm, "image", url))) == ("not_found", None)
    unknown = "/v1/blobs/" + "Z" * 32
    assert err(await ca.request(*BG, bg(gid, "image", unknown))) == ("not_found", None)

    r = await cc.ok(*BG, bg(gid, "image", url, "wallpaper"))
    assert r["data"]["status"] == "applied"
    for dev in (ca, cb, cc):
        [got] = await dev.events("ChatBackgroundUpdated", conversation_id=gid)
        assert (got["data"]["background_type"], got["data"]["value"]) == ("image", url)
        assert got["data"]["updated_by"] == users[2][0]
    # Every member may download it: that is why only a blob of this chat is taken.
    for u in users:
        resp = await api.http.get(url, headers=bearer(u[1]))
        assert resp.status_code == 200
    assert not of(ca.frames, "ChatBackgroundUpdated", conversation_id=dm)
    await close_all(ca, cb, cc)


# -- info-text visibility -------------------------------------------------------


async def world(api: Api) -> tuple[User, User, User, User, str]:
    """alice; bob (her contact: a direct chat, and the group); carol and dave
    (the group only); the group, made by a fifth user."""
    a, b, c, d, e = await api.user(5)
    await api.direct(a[1], b[0])
    ce = await api.client(e)
    try:
        g = await ce.ok(
            "chat/groups", "CreateGroup", {"name": "g", "member_ids": [a[0], b[0], c[0], d[0]]}
        )
    finally:
        await ce.close()
    return a, b, c, d, g["data"]["group_id"]


async def settle(sender: Client, gid: str, *to: Client) -> None:
    """A group message from `sender` has reached each of `to`: everything
    `sender` caused before it has been delivered already."""
    m = await sender.ok(
        "chat/messages/ack",
        "SendChatMessageWithClientId",
        {"client_message_id": "c-" + secrets.token_hex(6), "conversation_id": gid, "content": "."},
    )
    for c in to:
        await c.events("ChatMessageReceived", message_id=m["data"]["message_id"])


async def rest_info(api: Api, viewer: User, owner: User) -> tuple[str, str | None]:
    r = await api.http.get(f"/v1/users/{owner[0]}", headers=bearer(viewer[1]))
    assert r.status_code == 200, r.text
    return r.json()["info_text"], r.json()["info_text_updated_at"]


def vis(
    rule: str, allowed: list[str] | None = None, blocked: list[str] | None = None
) -> dict[str, Any]:
    v: dict[str, Any] = {"rule": rule}
    if allowed is not None:
        v["allowed_user_ids"] = allowed
    if blocked is not None:
        v["blocked_user_ids"] = blocked
    return v


async def test_each_rule_decides_who_sees_the_info_text_live_and_over_rest(api: Api) -> None:
    a, b, c, d, gid = await world(api)
    ca, ca2 = await api.client(a, "a1"), await api.client(a, "a2")
    viewers = {"bob": b, "carol": c, "dave": d}
    clients = {n: await api.client(u) for n, u in viewers.items()}

    cases: list[tuple[dict[str, Any], set[str]]] = [
        (vis("everyone"), {"bob", "carol", "dave"}),  # the default, stored: unchanged
        (vis("contacts"), {"bob"}),  # bob shares a direct chat, carol and dave a group only
        (vis("custom", allowed=[c[0]]), {"carol"}),
        (vis("everyone", blocked=[b[0]]), {"carol", "dave"}),
        (vis("nobody"), set()),
    ]
    for i, (v, entitled) in enumerate(cases):
        r = await ca.ok(*VIS, {"user_id": a[0], "visibility": v, "request_id": f"v{i}"})
        assert (r["channel"], r["type"]) == ("user/info-visibility/ack", "InfoVisibilityUpdateAck")
        assert r["data"]["status"] == ("unchanged" if i == 0 else "updated")
        assert r["data"]["request_id"] == f"v{i}" and r["data"]["processed_at"]
        if i:
            [ev] = await ca2.events("InfoVisibilityUpdated", updated_at=r["data"]["processed_at"])
            assert ev["channel"] == "user/info-visibility" and ev["seq"] is not None
            assert ev["data"]["user_id"] == a[0]
            assert ev["data"]["visibility"] == {
                "rule": v["rule"],
                "allowed_user_ids": v.get("allowed_user_ids", []),
                "blocked_user_ids": v.get("blocked_user_ids", []),
            }
        text = f"status {i}"
        await ca.ok(*INFO, {"info_text": text})
        await ca2.events("ProfileInfoTextUpdated", info_text=text)
        await settle(ca, gid, *clients.values())
        for name, client in clients.items():
            got = of(client.frames, "ProfileInfoTextUpdated", info_text=text)
            assert len(got) == (1 if name in entitled else 0), (v, name)
            shown = await rest_info(api, viewers[name], a)
            assert shown[0] == (text if name in entitled else ""), (v, name)
            assert (shown[1] is None) == (name not in entitled)
        assert (await rest_info(api, a, a))[0] == text  # never hidden from herself

    # The feed follows the setting too (the one in force when it is read:
    # `nobody` now), and the owner's own feed keeps every change.
    for client in clients.values():
        assert not [
            ch for ch in await full_resume(client)
            if ch["type"] == "ProfileInfoTextUpdated" and ch["data"]["user_id"] == a[0]
        ]  # fmt: skip
    await ca.ok(*VIS, {"visibility": vis("contacts")})
    bob_feed = await full_resume(clients["bob"])
    assert [
        ch["data"]["info_text"] for ch in bob_feed if ch["type"] == "ProfileInfoTextUpdated"
    ] == [f"status {i}" for i in range(len(cases))]
    assert not of(await quiet(clients["carol"], "InfoVisibilityUpdated"), "InfoVisibilityUpdated")
    own = [ch for ch in await full_resume(ca2) if ch["channel"] == "user/info-visibility"]
    assert [ch["data"]["visibility"]["rule"] for ch in own] == [
        "contacts", "custom", "everyone", "nobody", "contacts"
    ]  # fmt: skip
    await close_all(ca, ca2, *clients.values())


async def test_info_visibility_retry_returns_the_first_ack(api: Api) -> None:
    (a,) = await api.user(1)
    ca, ca2 = await api.client(a), await api.client(a)
    body = {"visibility": vis("nobody"), "request_id": "same"}
    first = (await ca.ok(*VIS, body))["data"]
    assert first["status"] == "updated"
    # A retry, even one saying something else, is the first request: one event.
    again = (await ca2.ok(*VIS, {**body, "visibility": vis("contacts")}))["data"]
    assert again == first
    assert len(await quiet(ca2, "InfoVisibilityUpdated")) == 1
    r = await ca.ok(*VIS, {"visibility": vis("nobody"), "request_id": "other"})
    assert r["data"]["status"] == "unchanged"
    await close_all(ca, ca2)


BLOCKED = "$.data.visibility.blocked_user_ids"


@pytest.mark.parametrize(
    ("visibility", "path"),
    [
        ({"rule": "friends"}, "$.data.visibility.rule"),
        ({}, "$.data.visibility.rule"),
        ({"rule": "custom"}, "$.data.visibility.allowed_user_ids"),
        ({"rule": "contacts", "allowed_user_ids": ["u-1"]}, "$.data.visibility.allowed_user_ids"),
        ({"rule": "everyone", "blocked_user_ids": "u-1"}, BLOCKED),
        ({"rule": "everyone", "blocked_user_ids": ["x" * 65]}, BLOCKED + "[0]"),
        ({"rule": "everyone", "blocked_user_ids": [7]}, BLOCKED + "[0]"),
        ({"rule": "everyone", "blocked_user_ids": ["SELF"]}, BLOCKED + "[0]"),
        ({"rule": "custom", "allowed_user_ids": ["u" + str(i) for i in range(257)]},
         "$.data.visibility.allowed_user_ids"),
        ({"rule": "everyone", "colour": "blue"}, "$.data.visibility.colour"),
        ("everyone", "$.data.visibility"),
    ],
)  # fmt: skip
async def test_info_visibility_refusals_name_the_field(
    api: Api, visibility: Any, path: str
) -> None:
    (a,) = await api.user(1)
    ca = await api.client(a)
    if isinstance(visibility, dict):
        visibility = {
            k: [a[0] if x == "SELF" else x for x in v] if isinstance(v, list) else v
            for k, v in visibility.items()
        }
    reply = await ca.request(*VIS, {"visibility": visibility, "request_id": "bad"})
    assert err(reply) == ("validation_failed", path)
    assert not await quiet(ca, "InfoVisibilityUpdated")
    await ca.close()


async def test_info_visibility_of_someone_else_is_forbidden(api: Api) -> None:
    a, b = await api.user(2)
    ca, cb = await api.client(a), await api.client(b)
    reply = await ca.request(*VIS, {"user_id": b[0], "visibility": vis("nobody")})
    assert err(reply)[0] == "forbidden"
    assert not await quiet(cb, "InfoVisibilityUpdated")
    await ca.ok(*INFO, {"info_text": "still visible"})
    assert (await rest_info(api, a, b))[0] == ""  # b never set one: nothing to see
    await close_all(ca, cb)


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


async def test_settings_apply_across_nodes(two_nodes: list[ServerProcess]) -> None:
    n0, n1 = two_nodes
    api = Api(n0)
    try:
        a, b, c = await api.user(3)
        dm = await api.direct(a[1], b[0])
        ca = await Client(n0, a[0], a[1], "a1").connect()
        a2 = await Client(n1, a[0], a[1], "a2").connect()
        cb = await Client(n1, b[0], b[1], "b1").connect()
        cc = await Client(n1, c[0], c[1], "c1").connect()
        g = await ca.ok("chat/groups", "CreateGroup", {"name": "g", "member_ids": [b[0], c[0]]})
        gid = g["data"]["group_id"]

        await ca.ok(*BG, bg(dm, "preset", "night"))  # node 0; bob on node 1
        [ev] = await cb.events("ChatBackgroundUpdated", conversation_id=dm)
        assert ev["data"]["updated_by"] == a[0]
        await a2.events("ChatBackgroundUpdated", conversation_id=dm)

        await ca.ok(*VIS, {"visibility": vis("contacts"), "request_id": "x1"})
        await a2.events("InfoVisibilityUpdated", user_id=a[0])
        await ca.ok(*INFO, {"info_text": "across"})
        await cb.events("ProfileInfoTextUpdated", info_text="across")
        await settle(ca, gid, cb, cc)
        assert not of(cc.frames, "ProfileInfoTextUpdated")
        assert not of(cc.frames, "ChatBackgroundUpdated")
        api1 = Api(n1)
        try:
            assert (await rest_info(api1, c, a))[0] == ""
            assert (await rest_info(api1, b, a))[0] == "across"
        finally:
            await api1.aclose()
        await close_all(ca, a2, cb, cc)
    finally:
        await api.aclose()
