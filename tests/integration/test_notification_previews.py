"""Notification previews (`user/notifications/preview` and its `/config`).

Alice has two devices: `a1` subscribes to previews, `a2` does not. Bob shares
a direct chat and a group with her; carol is in neither (and subscribes to
her own previews). What alice's config says decides what her subscribed
device is shown of bob's messages; her config changes reach both her
devices, live and in the feed, and nobody else; previews reach only `a1`,
never for her own messages, never carol.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import Api, Client, ServerProcess, full_resume

User = tuple[str, str, str]
CONFIG = ("user/notifications/preview/config", "UpdateNotificationPreviewConfig")
PREVIEW = "user/notifications/preview"


class World:
    def __init__(self, a: User, b: User, c: User, dm: str, group: str) -> None:
        self.a, self.b, self.c, self.dm, self.group = a, b, c, dm, group


async def world(api: Api) -> World:
    """alice, bob ("Bob B"), carol; the alice-bob direct chat and a group of the two."""
    a = await api.register("al" + secrets.token_hex(4))
    b = await api.register(display_name="Bob B")
    c = await api.register()
    dm = await api.direct(a[1], b[0])
    cb = await api.client(b)
    try:
        g = await cb.ok("chat/groups", "CreateGroup", {"name": "Team", "member_ids": [a[0]]})
    finally:
        await cb.close()
    return World(a, b, c, dm, g["data"]["group_id"])


def text(cid: str, content: str) -> dict[str, Any]:
    key = "c-" + secrets.token_hex(6)
    return {"client_message_id": key, "conversation_id": cid, "content": content}


async def send(client: Client, cid: str, content: str) -> str:
    r = await client.ok("chat/messages/ack", "SendChatMessageWithClientId", text(cid, content))
    return str(r["data"]["message_id"])


def previews(client: Client) -> list[dict[str, Any]]:
    return [f["data"] for f in client.frames if f.get("type") == "NotificationPreviewReceived"]


async def preview_of(client: Client, message_id: str) -> dict[str, Any]:
    f = await client.events("NotificationPreviewReceived", preview_id=message_id)
    return f[0]["data"]


async def subscribed(api: Api, user: User) -> tuple[Client, dict[str, Any]]:
    client = await api.client(user)
    ack = await client.ok(PREVIEW, "Subscribe", {})
    assert ack["type"] == "Ack"
    return client, ack["data"]["config"]


async def test_config_reaches_every_device_and_the_feed_and_nobody_else(api: Api) -> None:
    w = await world(api)
    a1, cfg = await subscribed(api, w.a)
    a2, cb = await api.client(w.a), await api.client(w.b)
    try:
        assert cfg["config_version"] == "0" and cfg["show_body"] is True  # the default
        body = {"show_body": False, "max_body_length": 40}
        body["allowed_categories"] = ["group", "direct"]
        r = await a1.ok(*CONFIG, body)
        d = r["data"]
        assert d["changed"] is True and d["config_version"] == "1"
        assert d["allowed_categories"] == ["direct", "group"]  # the fixed order
        assert d["show_sender"] is True and d["max_body_length"] == 40  # untouched: kept
        [ev] = await a2.events("NotificationPreviewConfigUpdated")
        assert ev["seq"] is not None and ev["data"]["config_version"] == "1"
        assert ev["data"]["show_body"] is False and ev["data"]["updated_at"] == d["updated_at"]
        # The same again, or nothing at all: written nowhere, the current config answered.
        again = (await a2.ok(*CONFIG, body))["data"]
        read = (await a2.ok(*CONFIG, {}))["data"]
        assert again["changed"] is False and read["changed"] is False
        assert again["config_version"] == read["config_version"] == "1"
        second = (await a2.ok(*CONFIG, {"show_sender": False}))["data"]
        assert second["config_version"] == "2" and second["show_body"] is False
        await a1.events("NotificationPreviewConfigUpdated", config_version="2")
        feed = [x for x in await full_resume(a2) if x["type"] == "NotificationPreviewConfigUpdated"]
        assert [x["data"]["config_version"] for x in feed] == ["1", "2"]
        # A fresh subscription is told the config in force.
        a3, fresh = await subscribed(api, w.a)
        await a3.close()
        assert fresh["config_version"] == "2" and fresh["show_sender"] is False
        # Bob heard of none of it, live or in his feed.
        await send(a2, w.dm, "marker")
        await cb.events("ChatMessageReceived", content="marker")
        bob_feed = await full_resume(cb)
        assert not [f for f in cb.frames if f.get("type") == "NotificationPreviewConfigUpdated"]
        assert not [x for x in bob_feed if x["type"] == "NotificationPreviewConfigUpdated"]
    finally:
        for c in (a1, a2, cb):
            await c.close()


async def test_previews_only_on_subscribed_connections_never_own_or_strangers(api: Api) -> None:
    w = await world(api)
    a1, _ = await subscribed(api, w.a)
    cc, _ = await subscribed(api, w.c)  # carol, in none of the conversations
    a2, cb = await api.client(w.a), await api.client(w.b)
    try:
        await send(a2, w.dm, "from alice herself")  # never a preview to her own devices
        mid = await send(cb, w.dm, "hello alice")
        p = await preview_of(a1, mid)
        assert p["notification_id"] == mid and p["category"] == "direct"
        assert p["title"] == "Bob B" and p["sender"] == "Bob B" and p["body"] == "hello alice"
        assert p["priority"] == "high" and p["config_version"] == "0" and p["timestamp"]
        assert p["body"] == "hello alice"
        gid_mid = await send(cb, w.group, "to the team")
        g = await preview_of(a1, gid_mid)
        assert g["category"] == "group" and g["title"] == "Team" and g["sender"] == "Bob B"
        # a2 got the messages themselves but no preview; a1 none of alice's own.
        await a2.events("ChatMessageReceived", message_id=gid_mid)
        assert previews(a2) == []
        assert [x["preview_id"] for x in previews(a1)] == [mid, gid_mid]
        assert previews(cc) == [] and previews(cb) == []
        # Unsubscribed: no more.
        await a1.ok(PREVIEW, "Unsubscribe", {})
        late = await send(cb, w.dm, "after unsubscribe")
        await a1.events("ChatMessageReceived", message_id=late)
        a1b, _ = await subscribed(api, w.a)
        try:
            last = await send(cb, w.dm, "subscribed again")
            await preview_of(a1b, last)
            await a1.events("ChatMessageReceived", message_id=last)
            assert [x["preview_id"] for x in previews(a1)] == [mid, gid_mid]
        finally:
            await a1b.close()
    finally:
        for c in (a1, a2, cb, cc):
            await c.close()


async def test_previews_follow_the_config(api: Api) -> None:
    w = await world(api)
    a1, _ = await subscribed(api, w.a)
    cb = await api.client(w.b)
    try:
        await a1.ok(*CONFIG, {"max_body_length": 5})
        cut = await preview_of(a1, await send(cb, w.dm, "0123456789"))
        assert cut["body"] == "01234" and cut["config_version"] == "1"
        await a1.ok(*CONFIG, {"show_body": False})
        hidden = await preview_of(a1, await send(cb, w.dm, "secret"))
        assert hidden["body"] is None and hidden["title"] == "Bob B"
        await a1.ok(*CONFIG, {"show_sender": False, "show_body": True, "max_body_length": 0})
        plain = await preview_of(a1, await send(cb, w.group, "team news"))
        assert plain["title"] == "New message" and plain["sender"] is None
        assert plain["body"] is None  # max_body_length 0: no text
        await a1.ok(*CONFIG, {"show_sender": True, "max_body_length": 100})
        mention = await preview_of(a1, await send(cb, w.group, f"hi @{w.a[2]} look"))
        assert mention["category"] == "mention" and mention["priority"] == "high"
        assert mention["body"] == f"hi @{w.a[2]} look"
        # Only direct chats: group messages and mentions give none.
        await a1.ok(*CONFIG, {"allowed_categories": ["direct"]})
        skipped = await send(cb, w.group, f"@{w.a[2]} again")
        direct = await send(cb, w.dm, "direct one")
        await preview_of(a1, direct)
        assert skipped not in [x["preview_id"] for x in previews(a1)]
        # Encrypted messages: the server cannot read them, so never a body.
        enc = {
            "conversation_id": w.dm,
            "ciphertext": "Y2lwaGVy",
            "nonce": "bm9uY2U=",
            "algorithm": "AES-GCM",
            "key_id": "k1",
        }
        r = await cb.ok("chat/messages", "SendEncryptedMessage", enc)
        sealed = await preview_of(a1, r["data"]["ids"]["message_id"])
        assert sealed["body"] is None and sealed["category"] == "direct"
    finally:
        for c in (a1, cb):
            await c.close()


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"max_body_length": 1001}, "$.data.max_body_length"),
        ({"max_body_length": -1}, "$.data.max_body_length"),
        ({"allowed_categories": ["direct", "nope"]}, "$.data.allowed_categories[1]"),
        ({"allowed_categories": ["direct"] * 6}, "$.data.allowed_categories"),
        ({"show_body": "yes"}, "$.data.show_body"),
    ],
)
async def test_config_refusals_name_the_field(api: Api, body: dict[str, Any], path: str) -> None:
    [a] = await api.user(1)
    ca = await api.client(a)
    try:
        reply = await ca.request(*CONFIG, body)
        assert reply["type"] == "Error" and reply["data"]["code"] == "validation_failed"
        assert reply["data"]["path"] == path
        assert (await ca.ok(*CONFIG, {}))["data"]["config_version"] == "0"  # nothing stored
    finally:
        await ca.close()


async def test_acknowledge_is_idempotent_and_only_for_ones_own_previews(api: Api) -> None:
    w = await world(api)
    a1, _ = await subscribed(api, w.a)
    cb, cc = await api.client(w.b), await api.client(w.c)
    try:
        mid = await send(cb, w.dm, "ack me")
        await preview_of(a1, mid)
        body = {"preview_id": mid, "received_at": "2026-01-01T00:00:00Z"}
        first = await a1.ok(PREVIEW, "AcknowledgeNotificationPreview", body)
        again = await a1.ok(PREVIEW, "AcknowledgeNotificationPreview", body)
        assert first["data"]["first"] is True and again["data"]["first"] is False
        assert first["data"]["ids"]["preview_id"] == mid
        mine = await send(a1, w.dm, "alice's own")
        for who, pid in ((cc, mid), (a1, mine), (a1, "no-such-preview"), (cb, mid)):
            r = await who.request(PREVIEW, "AcknowledgeNotificationPreview", {"preview_id": pid})
            assert r["type"] == "Error" and r["data"]["code"] == "not_found", (pid, r)
        long = {"preview_id": mid, "received_at": "x" * 65}
        r = await a1.request(PREVIEW, "AcknowledgeNotificationPreview", long)
        assert r["data"]["code"] == "validation_failed"
        assert r["data"]["path"] == "$.data.received_at"
    finally:
        for c in (a1, cb, cc):
            await c.close()


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


async def test_config_changed_on_one_node_applies_on_the_other(
    two_nodes: list[ServerProcess],
) -> None:
    n0, n1 = two_nodes
    api = Api(n0)
    try:
        w = await world(api)
        a1 = await Client(n1, w.a[0], w.a[1], "a1").connect()  # previews built on node 1
        await a1.ok(PREVIEW, "Subscribe", {})
        a2 = await Client(n0, w.a[0], w.a[1], "a2").connect()
        cb = await Client(n0, w.b[0], w.b[1], "b1").connect()
        try:
            await preview_of(a1, await send(cb, w.dm, "before the change"))
            r = await a2.ok(*CONFIG, {"show_body": False, "show_sender": False})
            await a1.events("NotificationPreviewConfigUpdated", config_version="1")
            assert r["data"]["config_version"] == "1"
            p = await preview_of(a1, await send(cb, w.dm, "after the change"))
            assert p["body"] is None and p["title"] == "New message"
            assert p["config_version"] == "1"
        finally:
            for c in (a1, a2, cb):
                await c.close()
    finally:
        await api.aclose()
