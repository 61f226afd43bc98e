"""Spec 000 `chat/archive` and `chat/pins` over real sockets: per-user flags.

Two users with two devices each share a direct chat. Archive and pin are the
caller's own: both of the caller's devices hear of them (live, and through
`SyncRequest` after a reconnect), the other member hears nothing. Absence is
checked without waiting on time: the other member's feed is read to its
end (a later event they do get comes after it).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.mtchat import ENV, Mt, MtSocket, create_dialog, scope_header
from tests.support import Api, Client, ServerProcess, full_resume

Feed = list[dict[str, Any]]
SCOPE = scope_header(["tenant-x"])


def _of(frames: Feed, type_: str, **match: Any) -> Feed:
    return [
        f
        for f in frames
        if f.get("type") == type_ and all(f["data"].get(k) == v for k, v in match.items())
    ]


async def _say(c: Client, cid: str, text: str) -> str:
    r = await c.ok(
        "chat/messages/ack",
        "SendChatMessageWithClientId",
        {"client_message_id": "m-" + secrets.token_hex(4), "conversation_id": cid,
         "content": text, "type": "text"},
    )  # fmt: skip
    return str(r["data"]["message_id"])


async def _listed(api: Api, token: str) -> dict[str, dict[str, Any]]:
    r = await api.http.get("/v1/conversations", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    return {c["conversation_id"]: c for c in r.json()}


async def test_archive_and_pin_reach_only_the_callers_devices(api: Api) -> None:
    alice, bob = await api.user(2)
    cid = await api.direct(alice[1], bob[0])
    a1, a2 = await api.client(alice, "a1"), await api.client(alice, "a2")
    b1, b2 = await api.client(bob, "b1"), await api.client(bob, "b2")

    # Archive: the ack, then ChatArchiveStatusChanged on both of alice's devices.
    r = await a1.ok(
        "chat/archive", "SetChatArchiveStatus",
        {"conversation_id": cid, "archived": True, "request_id": "arc-1"},
    )  # fmt: skip
    assert (r["channel"], r["type"]) == ("chat/archive/ack", "ChatArchiveStatusAck")
    assert r["data"]["status"] == "archived" and r["data"]["conversation_id"] == cid
    assert r["data"]["request_id"] == "arc-1"
    for dev in (a1, a2):
        [ev] = await dev.events("ChatArchiveStatusChanged", conversation_id=cid)
        assert ev["channel"] == "chat/archive" and ev["seq"] is not None
        assert ev["data"]["archived"] is True and ev["data"]["changed_by"] == alice[0]
    assert (await _listed(api, alice[1]))[cid]["archived"] is True
    assert (await _listed(api, bob[1]))[cid]["archived"] is False

    # The same again changes nothing and tells nobody.
    r = await a2.ok(
        "chat/archive", "SetChatArchiveStatus", {"conversation_id": cid, "archived": True}
    )
    assert r["data"]["status"] == "unchanged"

    # Pin, then unpin, from the second device.
    r = await a2.ok(
        "chat/pins", "SetChatPinned", {"conversation_id": cid, "pinned": True, "request_id": "p1"}
    )
    assert (r["channel"], r["type"]) == ("chat/pins/ack", "SetChatPinnedAck")
    assert r["data"]["status"] == "pinned" and r["data"]["error_code"] is None
    for dev in (a1, a2):
        [ev] = await dev.events("ChatPinnedUpdated", conversation_id=cid, pinned=True)
        assert ev["channel"] == "chat/pins" and ev["data"]["pinned_by"] == alice[0]
    listed = (await _listed(api, alice[1]))[cid]
    assert listed["pinned"] is True and listed["archived"] is True
    assert (await _listed(api, bob[1]))[cid]["pinned"] is False
    await a1.ok("chat/pins", "SetChatPinned", {"conversation_id": cid, "pinned": False})
    for dev in (a1, a2):
        await dev.events("ChatPinnedUpdated", conversation_id=cid, pinned=False)
    assert (await _listed(api, alice[1]))[cid]["pinned"] is False

    # Unarchive by hand.
    r = await a1.ok(
        "chat/archive", "SetChatArchiveStatus", {"conversation_id": cid, "archived": False}
    )
    assert r["data"]["status"] == "unarchived"
    for dev in (a1, a2):
        await dev.events("ChatArchiveStatusChanged", conversation_id=cid, archived=False)
    assert (await _listed(api, alice[1]))[cid]["archived"] is False

    # Bob heard none of it: his feed, to its end, has no archive or pin event,
    # and a message alice sends now is the first thing both his devices get.
    mid = await _say(a1, cid, "still here")
    for dev in (b1, b2):
        await dev.events("ChatMessageReceived", message_id=mid)
        assert not _of(dev.frames, "ChatArchiveStatusChanged")
        assert not _of(dev.frames, "ChatPinnedUpdated")
    bob_feed = await full_resume(b1)
    assert not [c for c in bob_feed if c["channel"] in ("chat/archive", "chat/pins")]

    # Alice's second device reconnects and catches up through SyncRequest:
    # the four changes, in order, each as it was pushed live.
    live = [f for f in a2.frames if f.get("channel") in ("chat/archive", "chat/pins")]
    await a2.close()
    a2 = await api.client(alice, "a2")
    synced = [c for c in await full_resume(a2) if c["channel"] in ("chat/archive", "chat/pins")]
    assert [(c["type"], c["seq"], c["data"]) for c in synced] == [
        (f["type"], f["seq"], f["data"]) for f in live
    ]
    assert [c["data"].get("archived", c["data"].get("pinned")) for c in synced] == [
        True, True, False, False,
    ]  # fmt: skip
    for c in (a1, a2, b1, b2):
        await c.close()


async def test_refusals_and_idempotent_retry(api: Api) -> None:
    alice, bob, carol = await api.user(3)
    cid = await api.direct(alice[1], bob[0])
    a = await api.client(alice)
    c = await api.client(carol)

    # Not a member and does not exist: one answer, nothing written.
    for dev, conv in ((c, cid), (a, "no-such-conversation"), (c, "no-such-conversation")):
        for channel, type_, data in (
            ("chat/archive", "SetChatArchiveStatus", {"conversation_id": conv, "archived": True}),
            ("chat/pins", "SetChatPinned", {"conversation_id": conv, "pinned": True}),
        ):
            r = await dev.request(channel, type_, data)
            assert r["type"] == "Error" and r["data"]["code"] == "not_found", r
            assert r["data"]["message"] == "conversation not found"
    assert not _of(await full_resume(c), "ChatArchiveStatusChanged")

    # Bad fields name the field.
    arc, pin = ("chat/archive", "SetChatArchiveStatus"), ("chat/pins", "SetChatPinned")
    for (channel, type_), data, path in (
        (arc, {"conversation_id": cid}, "archived"),
        (arc, {"conversation_id": cid, "archived": "yes"}, "archived"),
        (arc, {"archived": True}, "conversation_id"),
        (arc, {"conversation_id": "", "archived": True}, "conversation_id"),
        (pin, {"conversation_id": cid, "pinned": 1}, "pinned"),
        (pin, {"conversation_id": 5, "pinned": True}, "conversation_id"),
        (pin, {"conversation_id": cid, "pinned": True, "request_id": "x" * 129}, "request_id"),
    ):
        r = await a.request(channel, type_, data)
        assert r["type"] == "Error" and r["data"]["code"] == "validation_failed", r
        assert path in (r["data"].get("path") or ""), r

    # A retry with the same request_id gets the first ack and creates nothing,
    # even after the state moved on.
    body = {"conversation_id": cid, "archived": True, "request_id": "once"}
    first = await a.ok("chat/archive", "SetChatArchiveStatus", body)
    await a.ok("chat/archive", "SetChatArchiveStatus", {"conversation_id": cid, "archived": False})
    again = await a.ok("chat/archive", "SetChatArchiveStatus", body)
    assert again["data"] == first["data"] and first["data"]["status"] == "archived"
    pin = {"conversation_id": cid, "pinned": True, "request_id": "pin-once"}
    p1 = await a.ok("chat/pins", "SetChatPinned", pin)
    p2 = await a.ok("chat/pins", "SetChatPinned", pin)
    assert p1["data"] == p2["data"] and p1["data"]["status"] == "pinned"
    feed = [x for x in await full_resume(a) if x["channel"] in ("chat/archive", "chat/pins")]
    assert [(x["type"], x["data"].get("archived", x["data"].get("pinned"))) for x in feed] == [
        ("ChatArchiveStatusChanged", True),
        ("ChatArchiveStatusChanged", False),
        ("ChatPinnedUpdated", True),
    ]
    assert (await _listed(api, alice[1]))[cid]["archived"] is False  # the retry wrote nothing
    for x in (a, c):
        await x.close()


async def test_pin_limit(api: Api) -> None:
    alice, *others = await api.user(12)
    a = await api.client(alice)
    cids = [await api.direct(alice[1], o[0]) for o in others]
    for cid in cids[:10]:
        await a.ok("chat/pins", "SetChatPinned", {"conversation_id": cid, "pinned": True})
    r = await a.request("chat/pins", "SetChatPinned", {"conversation_id": cids[10], "pinned": True})
    assert r["type"] == "Error" and r["data"]["code"] == "conflict"
    await a.ok("chat/pins", "SetChatPinned", {"conversation_id": cids[0], "pinned": False})
    ok = await a.ok("chat/pins", "SetChatPinned", {"conversation_id": cids[10], "pinned": True})
    assert ok["data"]["status"] == "pinned"
    listed = await _listed(api, alice[1])
    assert {c for c, v in listed.items() if v["pinned"]} == set(cids[1:11])
    await a.close()


async def test_a_new_message_unarchives(api: Api) -> None:
    alice, bob = await api.user(2)
    cid = await api.direct(alice[1], bob[0])
    a1, a2 = await api.client(alice, "a1"), await api.client(alice, "a2")
    b = await api.client(bob)
    # A message first: the node then knows the chat has no archive (and skips
    # the look-up on sends) until someone archives it.
    first = await _say(b, cid, "hello")
    await a1.events("ChatMessageReceived", message_id=first)
    await a1.ok("chat/archive", "SetChatArchiveStatus", {"conversation_id": cid, "archived": True})
    await b.ok("chat/archive", "SetChatArchiveStatus", {"conversation_id": cid, "archived": True})
    mid = await _say(b, cid, "wake up")
    # Both who had archived it are told, by the sender's id; a pin is untouched.
    for dev in (a1, a2, b):
        [ev] = await dev.events("ChatArchiveStatusChanged", conversation_id=cid, archived=False)
        assert ev["data"]["changed_by"] == bob[0]
    assert (await _listed(api, alice[1]))[cid]["archived"] is False
    assert (await _listed(api, bob[1]))[cid]["archived"] is False
    await a1.events("ChatMessageReceived", message_id=mid)
    feed = await full_resume(a2)
    assert [x["data"]["archived"] for x in feed if x["type"] == "ChatArchiveStatusChanged"] == [
        True, False,
    ]  # fmt: skip
    # Told once: the next message finds nothing archived.
    await _say(b, cid, "again")
    await a1.events("ChatMessageReceived", n=3, conversation_id=cid)
    assert len(_of(await full_resume(a1), "ChatArchiveStatusChanged")) == 2
    for x in (a1, a2, b):
        await x.close()


async def test_archive_and_pins_cross_mtchat(tmp_path_factory: Any, backend: str) -> None:
    server = ServerProcess(tmp_path_factory.mktemp("arcpins"), extra_env=ENV).start()
    try:
        api = Api(server)
        hub_id, hub_token, _ = await api.register()
        bob = Mt(server, scope=SCOPE)
        cid = await create_dialog(server, [bob], [{"scope_level0": ["tenant-x"]}])
        # A hubbub user joins it through MTChat's REST with their own token.
        alice = Mt(server, user=hub_id, scope=SCOPE)
        alice.token = hub_token
        await alice.ok("POST", f"/dialogs/{cid}/join", json={"display_name": "Al"})
        ws = await MtSocket.open(server, f"token={hub_token}")
        dev = await Client(server, hub_id, hub_token, "d-" + secrets.token_hex(3)).connect()

        # MTChat REST -> /ws.
        await alice.ok("POST", f"/dialogs/{cid}/archive")
        [ev] = await dev.events("ChatArchiveStatusChanged", conversation_id=cid, archived=True)
        assert ev["data"]["changed_by"] == hub_id
        await alice.ok("POST", f"/dialogs/{cid}/pin")
        await dev.events("ChatPinnedUpdated", conversation_id=cid, pinned=True)
        await alice.ok("POST", f"/dialogs/{cid}/unarchive")
        await dev.events("ChatArchiveStatusChanged", conversation_id=cid, archived=False)

        # /ws -> MTChat: its WebSocket and its dialog list.
        await dev.ok(
            "chat/archive", "SetChatArchiveStatus", {"conversation_id": cid, "archived": True}
        )
        await ws.wait_for(lambda f: len(ws.seen("dialog.archived", dialog_id=cid)) == 2)
        listed = await alice.ok("GET", "/dialogs", params={"archived": "true"})
        assert [d["id"] for d in listed["data"]] == [cid]
        assert listed["data"][0]["is_pinned"] is True
        await dev.ok("chat/pins", "SetChatPinned", {"conversation_id": cid, "pinned": False})
        [item] = (await alice.ok("GET", "/dialogs", params={"archived": "true"}))["data"]
        assert item["is_pinned"] is False

        # A message from bob over MTChat revives it: once on MTChat's socket,
        # and as ChatArchiveStatusChanged by bob on /ws.
        sent = await bob.ok("POST", f"/dialogs/{cid}/messages", json={"content": "hello"})
        [msg] = await dev.events("ChatMessageReceived", message_id=sent["data"]["id"])
        assert msg["data"]["sender_id"] != hub_id
        # (bob's hubbub id: MTChat's user ids map to hubbub's, `core/external_users.py`)
        [ev] = await dev.events(
            "ChatArchiveStatusChanged",
            conversation_id=cid,
            archived=False,
            changed_by=msg["data"]["sender_id"],
        )
        await ws.wait_for(lambda f: len(ws.seen("message.new", dialog_id=cid)) >= 1)
        # MTChat's socket says `dialog.unarchived` once per revival: its own,
        # before the message (the core's announcement after it is dropped there).
        await dev.ok(
            "chat/archive", "SetChatArchiveStatus", {"conversation_id": cid, "archived": True}
        )
        await ws.wait_for(lambda f: len(ws.seen("dialog.archived", dialog_id=cid)) == 3)
        assert len(ws.seen("dialog.unarchived", dialog_id=cid)) == 2
        assert (await alice.ok("GET", "/dialogs", params={"archived": "true"}))["data"][0][
            "id"
        ] == cid
        await dev.close()
        await ws.close()
        await alice.aclose()
        await bob.aclose()
        await api.aclose()
    finally:
        server.stop()


@pytest.fixture
def pair(tmp_path: Path, pg_url: str, jetstream_url: str) -> Iterator[list[ServerProcess]]:
    env = {"HUBBUB_NATS_PREFIX": "hubbub_arc_" + secrets.token_hex(4)}
    nodes = [
        ServerProcess(
            tmp_path / f"n{i}",
            database_url=pg_url,
            nats_url=jetstream_url,
            extra_env={**env, "HUBBUB_NODE_ID": f"arc{i}"},
        ).start()
        for i in range(2)
    ]
    yield nodes
    for n in nodes:
        n.stop()


async def test_an_archive_on_one_node_is_revived_by_a_message_on_another(
    pair: list[ServerProcess],
) -> None:
    """Node 0 knows the chat had no archive (a message went through it); an
    archive made on node 1 makes it look again: the bus carries the
    invalidation ahead of the event (one publisher, FIFO), so once alice's
    device on node 0 has the event, node 0's next message announces the revival."""
    n0, n1 = pair
    api0, api1 = Api(n0), Api(n1)
    alice, bob = await api0.user(2)
    cid = await api0.direct(alice[1], bob[0])
    a0, a1, b0 = (
        await api0.client(alice, "a0"),
        await api1.client(alice, "a1"),
        await api0.client(bob),
    )
    first = await _say(b0, cid, "one")
    await a0.events("ChatMessageReceived", message_id=first)
    await a1.ok("chat/archive", "SetChatArchiveStatus", {"conversation_id": cid, "archived": True})
    await a0.events("ChatArchiveStatusChanged", conversation_id=cid, archived=True)
    await _say(b0, cid, "two")
    for dev in (a0, a1):
        [ev] = await dev.events("ChatArchiveStatusChanged", conversation_id=cid, archived=False)
        assert ev["data"]["changed_by"] == bob[0]
    for c in (a0, a1, b0):
        await c.close()
    await api0.aclose()
    await api1.aclose()
