"""Spec 000 `message/search`, `search/chats`, `search/ack` over real sockets.

A search is a read for the caller alone: the reply goes to the device that
asked, nothing joins anyone's feed. Members find the live plaintext of their
conversation (paged, newest first); everyone else, and an unknown id, gets
`not_found`. Deletes, edits and expiry reach the index whichever path made
them (edits and deletes here go through Symbia's REST, as a member's client
would). Hostile queries are words or nothing, never a server error.
"""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Any

from tests.support import Api, Client, ServerProcess, full_resume

SEARCH = ("message/search", "SearchMessages")
CHATS = ("search/chats", "SearchRequest")
ACK = ("search/ack", "SearchAckRequest")


async def _say(c: Client, cid: str, text: str, **extra: Any) -> str:
    r = await c.ok(
        "chat/messages/ack",
        "SendChatMessageWithClientId",
        {"client_message_id": "m-" + secrets.token_hex(4), "conversation_id": cid,
         "content": text, "type": "text", **extra},
    )  # fmt: skip
    return str(r["data"]["message_id"])


async def _search(c: Client, cid: str, query: str, **extra: Any) -> dict[str, Any]:
    body = {"search_id": "s-" + secrets.token_hex(4), "conversation_id": cid, "query": query}
    r = await c.ok(*SEARCH, {**body, **extra})
    assert (r["channel"], r["type"]) == ("message/search", "MessageSearchResults"), r
    return dict(r["data"])


def _ids(data: dict[str, Any]) -> list[str]:
    return [x["message_id"] for x in data["results"]]


async def _group(c: Client, name: str, members: list[str]) -> str:
    r = await c.ok(
        "chat/groups", "CreateGroup",
        {"name": name, "member_ids": members, "client_request_id": "g-" + secrets.token_hex(4)},
    )  # fmt: skip
    return str(r["data"]["group_id"])


async def test_members_find_pages_of_their_conversations_messages(api: Api) -> None:
    alice, bob, carol = await api.user(3)
    a1, a2 = await api.client(alice, "a1"), await api.client(alice, "a2")
    b, c = await api.client(bob), await api.client(carol)
    gid = await _group(a1, "search team", [bob[0]])
    sent = [await _say(a1 if i % 2 else b, gid, f"apple number {i} here") for i in range(7)]
    other = await _say(a1, gid, "banana only")
    # An encrypted message with the same word in its "content" never matches.
    await a1.ok(
        "chat/messages", "SendEncryptedMessage",
        {"conversation_id": gid, "ciphertext": "YXBwbGU=", "nonce": "bm9uY2U=",
         "algorithm": "x25519-aes-gcm", "key_id": "k1", "type": "apple"},
    )  # fmt: skip
    for dev in (a2, b):
        await dev.events("ChatMessageReceived", message_id=other)
    feed_before = len(await full_resume(b))

    p1 = await _search(b, gid, "APPLE", page_size=3, highlight=True)
    assert p1["conversation_id"] == gid and p1["query"] == "APPLE"
    assert (p1["page"], p1["page_size"], p1["total_results"], p1["has_more"]) == (1, 3, 7, True)
    assert _ids(p1) == sent[::-1][:3]  # newest first
    first = p1["results"][0]
    assert first["sender_id"] == bob[0] and first["timestamp"] and first["edited_at"] is None
    assert first["snippet"] == "apple number 6 here"
    assert first["highlighted"] == "«apple» number 6 here" and first["highlights"] == [[0, 5]]
    p2 = await _search(b, gid, "apple", page=2, page_size=3)
    p3 = await _search(b, gid, "apple", page=3, page_size=3)
    assert _ids(p2) == sent[::-1][3:6] and p2["has_more"] is True
    assert _ids(p3) == sent[:1] and p3["has_more"] is False and p3["total_results"] == 7
    assert "highlighted" not in p2["results"][0]
    # All words must match; default page size is 20.
    both = await _search(a2, gid, "apple 3")
    assert _ids(both) == [sent[3]] and both["page_size"] == 20 and both["page"] == 1
    assert _ids(await _search(a1, gid, "banana")) == [other]
    assert (await _search(a1, gid, "cherry"))["results"] == []

    # Only the asking device got the answer; nobody's feed grew.
    assert len([f for f in a2.frames if f.get("type") == "MessageSearchResults"]) == 1
    assert len(await full_resume(b)) == feed_before
    assert not [f for f in c.frames if f.get("channel") == "message/search"]

    # Not a member, or no such conversation: one answer.
    for dev, conv in ((c, gid), (a1, "no-such-conversation"), (c, "nope")):
        body = {"search_id": "x1", "conversation_id": conv, "query": "apple"}
        r = await dev.request(*SEARCH, body)
        assert r["type"] == "Error" and r["data"]["code"] == "not_found", r

    # The retry of a search answers the same.
    body = {"search_id": "same", "conversation_id": gid, "query": "apple", "page_size": 2}
    once, twice = await b.ok(*SEARCH, body), await b.ok(*SEARCH, body)
    assert once["data"] == twice["data"]
    for x in (a1, a2, b, c):
        await x.close()


async def test_deleted_edited_expired_and_left_behind(api: Api) -> None:
    alice, bob = await api.user(2)
    a, b = await api.client(alice), await api.client(bob)
    gid = await _group(a, "edits", [bob[0]])
    gone = await _say(a, gid, "walrus to delete")
    edited = await _say(a, gid, "walrus before edit")
    burn = await _say(a, gid, "walrus burning", self_destruct=True, ttl_seconds=1)
    assert set(_ids(await _search(b, gid, "walrus"))) == {gone, edited, burn}

    auth = {"Authorization": f"Bearer {alice[1]}"}
    r = await api.http.delete(f"/api/conversations/{gid}/messages/{gone}", headers=auth)
    assert r.status_code == 204, r.text
    r = await api.http.patch(
        f"/api/conversations/{gid}/messages/{edited}",
        json={"content": "narwhal after edit"},
        headers=auth,
    )
    assert r.status_code == 200, r.text
    await b.events("ChatMessageEdited", message_id=edited)
    await b.events("ChatMessageExpired", timeout=15, message_id=burn)

    assert _ids(await _search(b, gid, "walrus")) == []
    found = await _search(b, gid, "narwhal", highlight=True)
    assert _ids(found) == [edited] and found["results"][0]["edited_at"] is not None
    assert found["results"][0]["highlighted"] == "«narwhal» after edit"
    assert _ids(await _search(b, gid, "before")) == []

    # Someone who left can no longer search.
    await b.ok("group/membership", "LeaveGroup", {"group_id": gid})
    r = await b.request(*SEARCH, {"search_id": "after", "conversation_id": gid, "query": "x"})
    assert r["type"] == "Error" and r["data"]["code"] == "not_found", r
    await a.close()
    await b.close()


async def test_hostile_queries_are_words_or_a_typed_error(api: Api) -> None:
    alice, bob = await api.user(2)
    a = await api.client(alice)
    cid = await api.direct(alice[1], bob[0])
    mid = await _say(a, cid, 'quote "this" OR that NEAR über* <b>bold</b> café_1')
    hostile = ['"', '""', "*", "NEAR", "NEAR(a b)", "OR", "a OR", "-", "^", "AND NOT",
               "'; DROP TABLE messages; --", "(((", "col:thing", "über", "🙂",
               "\\", "%", "_", "\u200b", "ﷺ", "x" * 200]  # fmt: skip
    for q in hostile:
        got = await _search(a, cid, q, highlight=True)
        assert isinstance(got["results"], list), q
    assert _ids(await _search(a, cid, "über")) == [mid]
    assert _ids(await _search(a, cid, "ÜBER")) == [mid]
    straße = await _say(a, cid, "Straße")
    assert _ids(await _search(a, cid, "STRASSE")) == []  # no folding beyond case
    assert _ids(await _search(a, cid, "straße")) == [straße]
    assert _ids(await _search(a, cid, '"this"')) == [mid]
    assert _ids(await _search(a, cid, "bold")) == [mid]
    marked = (await _search(a, cid, "bold", highlight=True))["results"][0]
    # Content is handed back as plain text, never turned into markup.
    assert marked["highlighted"].endswith("<b>«bold»</b> café_1")
    for body, path in (
        ({"query": "x" * 201}, "$.data.query"),
        ({"query": ""}, "$.data.query"),
        ({"query": "a\x00b"}, "$.data.query"),
        ({"query": "a", "page_size": 51}, "$.data.page_size"),
        ({"query": "a", "page_size": 0}, "$.data.page_size"),
        ({"query": "a", "page": 0}, "$.data.page"),
        ({"query": "a", "page": 10_000}, "$.data.page"),
        ({"query": "a", "page": "2"}, "page"),
        ({"query": 5}, "query"),
        ({"query": "a", "search_id": "s" * 129}, "$.data.search_id"),
        ({"query": "a", "conversation_id": ""}, "$.data.conversation_id"),
    ):
        frame = {"search_id": "h", "conversation_id": cid, **body}
        r = await a.request(*SEARCH, frame)
        assert r["type"] == "Error" and r["data"]["code"] == "validation_failed", (body, r)
        assert path in (r["data"].get("path") or ""), (body, r)
    assert len((await _search(a, cid, "x" * 200))["results"]) == 0
    r = await a.request(*SEARCH, {"search_id": "n", "conversation_id": "a\x00b", "query": "a"})
    assert r["type"] == "Error" and r["data"]["code"] == "validation_failed", r
    await a.close()


async def test_chat_search_finds_own_groups_and_direct_chats_only(api: Api) -> None:
    tag = secrets.token_hex(3)
    alice = await api.register(f"alice{tag}", display_name="Alice Zed")
    bob = await api.register(f"bobby{tag}", display_name=f"Robert {tag}")
    carol = await api.register(f"carol{tag}")
    dave = await api.register(f"dave{tag}", display_name=f"Robert {tag} too")
    a, c = await api.client(alice), await api.client(carol)
    g1 = await _group(a, f"Rocket {tag} crew", [bob[0]])
    g2 = await _group(a, f"rocket {tag} fans", [carol[0]])
    await _group(c, f"rocket {tag} secret", [bob[0]])  # alice is not in it
    d_bob = await api.direct(alice[1], bob[0])
    d_dave = await api.direct(alice[1], dave[0])
    await api.direct(carol[1], bob[0])  # not alice's

    r = await a.ok(*CHATS, {"request_id": "r1", "query": f"ROCKET {tag}"})
    assert (r["channel"], r["type"]) == ("search/chats", "SearchResults")
    assert r["data"]["request_id"] == "r1" and r["data"]["is_final"] is True
    assert r["data"]["next_offset"] is None
    assert [(x["type"], x["conversation_id"]) for x in r["data"]["results"]] == [
        ("group", g1), ("group", g2),
    ]  # fmt: skip
    # By the other member's display name, and by username.
    r = await a.ok(*CHATS, {"request_id": "r2", "query": f"robert {tag}"})
    assert [x["conversation_id"] for x in r["data"]["results"]] == [d_bob, d_dave]
    hit = r["data"]["results"][0]
    assert hit["type"] == "direct" and hit["user_id"] == bob[0]
    assert hit["username"] == f"bobby{tag}" and hit["display_name"] == f"Robert {tag}"
    r = await a.ok(*CHATS, {"request_id": "r3", "query": f"bobby{tag}"})
    assert [x["conversation_id"] for x in r["data"]["results"]] == [d_bob]
    # Kind filter and paging.
    r = await a.ok(*CHATS, {"request_id": "r4", "query": tag, "filters": {"kind": "group"}})
    assert [x["conversation_id"] for x in r["data"]["results"]] == [g1, g2]
    r = await a.ok(*CHATS, {"request_id": "r5", "query": tag, "filters": {"limit": 3}})
    page1 = [x["conversation_id"] for x in r["data"]["results"]]
    assert len(page1) == 3 and r["data"]["next_offset"] == 3 and r["data"]["is_final"] is False
    r = await a.ok(*CHATS, {"request_id": "r6", "query": tag, "filters": {"offset": 3}})
    page2 = [x["conversation_id"] for x in r["data"]["results"]]
    assert r["data"]["is_final"] is True and set(page1 + page2) == {g1, g2, d_bob, d_dave}
    # LIKE's wildcards are literal characters.
    r = await a.ok(*CHATS, {"request_id": "r7", "query": "%"})
    assert r["data"]["results"] == []

    # Bob blocks alice: their direct chat no longer shows to her.
    blocked = await api.http.put(
        f"/v1/users/{alice[0]}/block", headers={"Authorization": f"Bearer {bob[1]}"}
    )
    assert blocked.status_code == 204, blocked.text
    r = await a.ok(*CHATS, {"request_id": "r8", "query": f"robert {tag}"})
    assert [x["conversation_id"] for x in r["data"]["results"]] == [d_dave]

    # Carol sees only hers.
    r = await c.ok(*CHATS, {"request_id": "c1", "query": tag})
    assert {x["conversation_id"] for x in r["data"]["results"]} >= {g2}
    assert d_bob not in {x["conversation_id"] for x in r["data"]["results"]}
    assert g1 not in {x["conversation_id"] for x in r["data"]["results"]}

    for body, path in (
        ({"query": "x" * 201}, "$.data.query"),
        ({"query": ""}, "$.data.query"),
        ({"query": "a", "filters": {"kind": "room"}}, "$.data.filters.kind"),
        ({"query": "a", "filters": {"limit": 51}}, "$.data.filters.limit"),
        ({"query": "a", "filters": {"offset": -1}}, "$.data.filters.offset"),
        ({"query": "a", "filters": {"offset": 1001}}, "$.data.filters.offset"),
        ({"query": "a", "filters": {"evil": 1}}, "$.data.filters.evil"),
        ({"query": "a", "request_id": "r" * 129}, "$.data.request_id"),
    ):
        r = await a.request(*CHATS, body)
        assert r["type"] == "Error" and r["data"]["code"] == "validation_failed", (body, r)
        assert r["data"]["path"] == path, (body, r)

    # search/ack: what became of a request id, per user.
    r = await a.ok(*ACK, {"request_id": "r1"})
    assert (r["channel"], r["type"]) == ("search/ack", "SearchAck")
    assert r["data"] == {"request_id": "r1", "status": "completed", "error": None}
    r = await a.ok(*ACK, {"request_id": "never"})
    assert r["data"]["status"] == "unknown"
    r = await c.ok(*ACK, {"request_id": "r1"})  # alice's id, not carol's
    assert r["data"]["status"] == "unknown"
    await a.request(*CHATS, {"request_id": "bad", "query": ""})
    r = await a.ok(*ACK, {"request_id": "bad"})
    assert r["data"] == {"request_id": "bad", "status": "rejected", "error": "validation_failed"}
    r = await a.request(*ACK, {"request_id": ""})
    assert r["type"] == "Error" and r["data"]["code"] == "validation_failed"
    await a.close()
    await c.close()


async def test_search_across_nodes(tmp_path: Path, pg_url: str, jetstream_url: str) -> None:
    """Two nodes on one PostgreSQL and NATS: a message sent on one is found
    from the other, and a leave on one ends searching on the other."""
    env = {"HUBBUB_NATS_PREFIX": "hubbub_t_" + secrets.token_hex(4)}
    nodes = [
        ServerProcess(
            tmp_path / f"n{i}", database_url=pg_url, nats_url=jetstream_url,
            extra_env={**env, "HUBBUB_NODE_ID": f"n{i}"},
        ).start()
        for i in range(2)
    ]  # fmt: skip
    api = Api(nodes[0])
    try:
        alice, bob = await api.user(2)
        a = await Client(nodes[0], alice[0], alice[1], "a").connect()
        b0 = await Client(nodes[0], bob[0], bob[1], "b0").connect()
        b1 = await Client(nodes[1], bob[0], bob[1], "b1").connect()
        gid = await _group(a, "cluster", [bob[0]])
        mid = await _say(a, gid, "zeppelin over node zero")
        await b1.events("ChatMessageReceived", message_id=mid)
        assert _ids(await _search(b1, gid, "zeppelin")) == [mid]
        assert _ids(await _search(b0, gid, "zeppelin")) == [mid]
        r = await b1.ok(*CHATS, {"request_id": "x", "query": "cluster"})
        assert [x["conversation_id"] for x in r["data"]["results"]] == [gid]

        await b1.ok("group/membership", "LeaveGroup", {"group_id": gid})

        async def refused_on_node_zero() -> None:
            body = {"search_id": "gone", "conversation_id": gid, "query": "zeppelin"}
            while (await b0.request(*SEARCH, body))["type"] != "Error":  # noqa: ASYNC110 - a remote condition
                await asyncio.sleep(0.05)

        await asyncio.wait_for(refused_on_node_zero(), timeout=10)
        r = await b0.request(*SEARCH, {"search_id": "g", "conversation_id": gid, "query": "z"})
        assert r["data"]["code"] == "not_found"
        r = await b0.ok(*CHATS, {"request_id": "y", "query": "cluster"})
        assert r["data"]["results"] == []
        for c in (a, b0, b1):
            await c.close()
    finally:
        await api.aclose()
        for n in nodes:
            n.stop()
