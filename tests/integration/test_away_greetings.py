"""Spec 000 `user/away` and `chat/greetings` over real sockets: automatic replies.

Alice is away with two devices; her contacts write to her in direct
conversations. Her automatic reply is a real message of hers (`type`
`"away"`): every device of both members gets it, live and through
`SyncRequest`, once per window; nobody else does. Absence is checked
without waiting on time: a send is answered only after its automatic
replies are written, and a later marker message a device does get comes
after anything it would have got before.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import Api, Client, ServerProcess, full_resume

Feed = list[dict[str, Any]]
AWAY = ("user/away", "SetAwayMessage")


def _of(frames: Feed, type_: str, **match: Any) -> Feed:
    return [
        f
        for f in frames
        if f.get("type") == type_ and all(f["data"].get(k) == v for k, v in match.items())
    ]


def _away_replies(frames: Feed, cid: str) -> Feed:
    return _of(frames, "ChatMessageReceived", conversation_id=cid, type="away")


async def _say(c: Client, cid: str, text: str) -> str:
    r = await c.ok(
        "chat/messages/ack",
        "SendChatMessageWithClientId",
        {"client_message_id": "m-" + secrets.token_hex(4), "conversation_id": cid,
         "content": text, "type": "text"},
    )  # fmt: skip
    return str(r["data"]["message_id"])


async def _seen(devices: list[Client], mid: str) -> None:
    for dev in devices:
        await dev.events("ChatMessageReceived", message_id=mid)


async def test_away_reply_once_per_window_to_both_members(api: Api) -> None:
    alice, bob, carol = await api.user(3)
    cid = await api.direct(bob[1], alice[0])
    a1, a2 = await api.client(alice, "a1"), await api.client(alice, "a2")
    b1, b2 = await api.client(bob, "b1"), await api.client(bob, "b2")
    c1 = await api.client(carol)

    # The setting: an Ack with what is in force, AwayMessageUpdated on both devices.
    r = await a1.ok(*AWAY, {"enabled": True, "message": "On holiday until Monday"})
    assert (r["channel"], r["type"]) == ("user/away", "Ack")
    assert r["data"]["changed"] is True and r["data"]["enabled"] is True
    assert r["data"]["message"] == "On holiday until Monday" and r["data"]["user_id"] == alice[0]
    for dev in (a1, a2):
        [ev] = await dev.events("AwayMessageUpdated")
        assert ev["channel"] == "user/away" and ev["seq"] is not None
        d = ev["data"]
        assert (d["user_id"], d["enabled"], d["message"]) == (alice[0], True, r["data"]["message"])
        assert d["updated_at"]
    # The same again writes nothing and tells nobody.
    again = await a2.ok(*AWAY, {"enabled": True, "message": "On holiday until Monday"})
    assert again["data"]["changed"] is False

    # Bob writes: alice's automatic reply reaches all four devices.
    first = await _say(b1, cid, "are you there?")
    await _seen([a1, a2, b2], first)
    for dev in (a1, a2, b1, b2):
        [rep] = await dev.events("ChatMessageReceived", conversation_id=cid, type="away")
        d = rep["data"]
        assert d["sender_id"] == alice[0] and d["content"] == "On holiday until Monday"
        assert rep["seq"] is not None
    # Within the window, no second reply; alice's own marker comes after.
    await _say(b2, cid, "hello??")
    marker = await _say(a1, cid, "(typed by hand)")
    await _seen([a2, b1, b2], marker)
    for dev in (a1, a2, b1, b2):
        assert len(_away_replies(dev.frames, cid)) == 1
    assert len(_of(a1.frames, "AwayMessageUpdated")) == 1  # the unchanged update told nobody

    # Carol, in no conversation with them, heard none of it.
    assert not [x for x in await full_resume(c1) if x["channel"] in ("user/away", "chat/messages")]
    assert not c1.frames or not _of(c1.frames, "ChatMessageReceived")
    # Bob never hears of the setting itself, only of the reply.
    assert not [x for x in await full_resume(b1) if x["channel"] == "user/away"]

    # Through SyncRequest after a reconnect: the setting for alice, the reply for both.
    await a2.close()
    a2 = await api.client(alice, "a2")
    feed = await full_resume(a2)
    assert [x["data"]["enabled"] for x in feed if x["type"] == "AwayMessageUpdated"] == [True]
    assert len(_away_replies(feed, cid)) == 1
    await b2.close()
    b2 = await api.client(bob, "b2")
    assert len(_away_replies(await full_resume(b2), cid)) == 1
    for c in (a1, a2, b1, b2, c1):
        await c.close()


async def test_no_reply_in_groups_to_automatic_messages_or_after_disabling(api: Api) -> None:
    alice, bob, dave, eve = await api.user(4)
    a, b, d, e = [await api.client(u) for u in (alice, bob, dave, eve)]
    await a.ok(*AWAY, {"enabled": True, "message": "alice is away"})
    await d.ok(*AWAY, {"enabled": True, "message": "dave is away"})

    # A group of three: nobody's away message answers there.
    g = await b.ok(
        "chat/groups", "CreateGroup",
        {"name": "g", "member_ids": [alice[0], dave[0]], "client_request_id": "g-away"},
    )  # fmt: skip
    gid = g["data"]["group_id"]
    await _say(b, gid, "hi all")
    marker = await _say(b, gid, "marker")
    await _seen([a, d], marker)
    assert not _away_replies(a.frames + b.frames + d.frames, gid)

    # Two away users: dave answers alice once, alice does not answer that.
    ad = await api.direct(alice[1], dave[0])
    await _say(a, ad, "dave?")
    [rep] = await a.events("ChatMessageReceived", conversation_id=ad, type="away")
    assert rep["data"]["sender_id"] == dave[0]
    marker = await _say(a, ad, "marker")  # within dave's window: no second reply
    await _seen([d], marker)
    replies = _away_replies(d.frames, ad)
    assert [x["data"]["sender_id"] for x in replies] == [dave[0]]

    # Disabled: no reply (and the text is kept for the next time).
    r = await a.ok(*AWAY, {"enabled": False})
    assert r["data"]["enabled"] is False and r["data"]["message"] == "alice is away"
    ea = await api.direct(eve[1], alice[0])
    await _say(e, ea, "alice?")
    marker = await _say(a, ea, "marker")
    await _seen([e], marker)
    assert not _away_replies(e.frames, ea)
    # Enabled again without a message: the stored one.
    r = await a.ok(*AWAY, {"enabled": True})
    assert r["data"]["message"] == "alice is away" and r["data"]["changed"] is True
    await _say(e, ea, "now?")
    [rep] = await e.events("ChatMessageReceived", conversation_id=ea, type="away")
    assert rep["data"]["content"] == "alice is away"

    for c in (a, b, d, e):
        await c.close()


async def test_greeting_on_first_contact_only_and_idempotent_ack(api: Api) -> None:
    alice, bob, carol = await api.user(3)
    old = await api.direct(carol[1], alice[0])  # a contact from before the greeting
    a = await api.client(alice)
    b1, b2 = await api.client(bob, "b1"), await api.client(bob, "b2")
    c = await api.client(carol)
    r = await a.ok(*AWAY, {"enabled": False, "greeting": "Hi! I answer within a day."})
    assert r["data"]["greeting"] == "Hi! I answer within a day." and r["data"]["changed"] is True

    cid = await api.direct(bob[1], alice[0])
    await _say(b1, cid, "hello, first time")
    for dev in (b1, b2):
        [gr] = await dev.events("GreetingMessageReceived", conversation_id=cid)
        assert gr["channel"] == "chat/greetings" and gr["seq"] is not None
        d = gr["data"]
        assert d["first_contact"] is True and d["sender_id"] == alice[0]
        assert d["content"] == "Hi! I answer within a day." and d["greeting_id"] and d["timestamp"]
    gid = gr["data"]["greeting_id"]
    # Once per conversation, and not to an old contact; alice gets no greeting event.
    await _say(b2, cid, "second")
    await _say(c, old, "carol again")
    marker = await _say(a, cid, "marker")
    await _seen([b1, b2], marker)
    marker2 = await _say(a, old, "marker")
    await _seen([c], marker2)
    assert len(_of(b1.frames, "GreetingMessageReceived")) == 1
    assert not _of(c.frames, "GreetingMessageReceived")
    assert not _of(a.frames, "GreetingMessageReceived")
    assert not _away_replies(b1.frames, cid)  # a greeting alone sends no away reply

    # Through SyncRequest after a reconnect.
    await b2.close()
    b2 = await api.client(bob, "b2")
    synced = _of(await full_resume(b2), "GreetingMessageReceived")
    assert [x["data"]["greeting_id"] for x in synced] == [gid]

    # The acknowledgement: stored once; a retry answers first: false.
    ack = {"greeting_id": gid, "conversation_id": cid, "timestamp": "2026-01-01T00:00:00Z"}
    r = await b1.ok("chat/greetings", "AcknowledgeGreetingReceived", ack)
    assert (r["channel"], r["type"], r["data"]["first"]) == ("chat/greetings", "Ack", True)
    r = await b2.ok("chat/greetings", "AcknowledgeGreetingReceived", ack)
    assert r["data"]["first"] is False
    # Not yours and does not exist: one answer.
    for dev, data in (
        (c, ack),
        (a, ack),
        (b1, {**ack, "greeting_id": "no-such-greeting"}),
        (b1, {**ack, "conversation_id": old}),
    ):
        r = await dev.request("chat/greetings", "AcknowledgeGreetingReceived", data)
        assert r["type"] == "Error" and r["data"]["code"] == "not_found", r
    for x in (a, b1, b2, c):
        await x.close()


async def test_validation_names_the_field(api: Api) -> None:
    [alice] = await api.user(1)
    a = await api.client(alice)
    greet = ("chat/greetings", "AcknowledgeGreetingReceived")
    for (channel, type_), data, path in (
        (AWAY, {"message": "x"}, "enabled"),
        (AWAY, {"enabled": "yes", "message": "x"}, "enabled"),
        (AWAY, {"enabled": True}, "$.data.message"),
        (AWAY, {"enabled": True, "message": "   "}, "$.data.message"),
        (AWAY, {"enabled": True, "message": "x" * 1001}, "$.data.message"),
        (AWAY, {"enabled": False, "message": 5}, "message"),
        (AWAY, {"enabled": False, "greeting": "x" * 1001}, "$.data.greeting"),
        (greet, {"conversation_id": "c"}, "greeting_id"),
        (greet, {"greeting_id": "", "conversation_id": "c"}, "$.data.greeting_id"),
        (greet, {"greeting_id": "g", "conversation_id": "c" * 65}, "$.data.conversation_id"),
        (greet, {"greeting_id": "g", "conversation_id": "c", "timestamp": "t" * 65}, "timestamp"),
    ):
        r = await a.request(channel, type_, data)
        assert r["type"] == "Error" and r["data"]["code"] == "validation_failed", (data, r)
        assert path in (r["data"].get("path") or ""), (data, r)
    assert not [x for x in await full_resume(a) if x["channel"] == "user/away"]
    await a.close()


@pytest.fixture
def pair(tmp_path: Path, pg_url: str, jetstream_url: str) -> Iterator[list[ServerProcess]]:
    env = {"HUBBUB_NATS_PREFIX": "hubbub_away_" + secrets.token_hex(4)}
    nodes = [
        ServerProcess(
            tmp_path / f"n{i}",
            database_url=pg_url,
            nats_url=jetstream_url,
            extra_env={**env, "HUBBUB_NODE_ID": f"away{i}"},
        ).start()
        for i in range(2)
    ]
    yield nodes
    for n in nodes:
        n.stop()


async def test_a_setting_on_one_node_applies_to_a_message_on_another(
    pair: list[ServerProcess],
) -> None:
    """Node 0 has read its set of users with automatic replies (a message went
    through it, nobody was away); alice's setting on node 1 reaches it over the
    bus ahead of her devices' event, so bob's next message on node 0 is answered."""
    n0, n1 = pair
    api0, api1 = Api(n0), Api(n1)
    alice, bob = await api0.user(2)
    cid = await api0.direct(bob[1], alice[0])
    a0, a1, b0 = (
        await api0.client(alice, "a0"),
        await api1.client(alice, "a1"),
        await api0.client(bob),
    )
    first = await _say(b0, cid, "one")
    await a0.events("ChatMessageReceived", message_id=first)
    assert not _away_replies(b0.frames, cid)
    await a1.ok(*AWAY, {"enabled": True, "message": "away on node 1", "greeting": "hello"})
    await a0.events("AwayMessageUpdated")
    await _say(b0, cid, "two")
    for dev in (a0, a1, b0):
        [rep] = await dev.events("ChatMessageReceived", conversation_id=cid, type="away")
        assert rep["data"]["content"] == "away on node 1"
    # Disabled on node 1: a new contact's message on node 0 gets no reply.
    await a1.ok(*AWAY, {"enabled": False})
    await a0.events("AwayMessageUpdated", enabled=False)
    carol = (await api0.user(1))[0]
    cc = await api0.direct(carol[1], alice[0])
    c0 = await api0.client(carol)
    await _say(c0, cc, "hi alice")
    marker = await _say(a0, cc, "marker")
    await _seen([c0], marker)
    assert not _away_replies(c0.frames, cc)
    await c0.close()
    for c in (a0, a1, b0):
        await c.close()
    await api0.aclose()
    await api1.aclose()
