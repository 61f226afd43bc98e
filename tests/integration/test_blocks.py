"""Blocking over REST and its effects on /ws, in both directions.

While A blocks B: the direct conversation of the two is frozen (B is told
`not_found`, exactly as for a conversation it is not in; A `forbidden`), they
cannot ring each other or add each other to a group, and no presence,
profile or key event of one reaches the other, live or in the feed; a third
contact still gets everything, and a group the two share still carries their
messages. Unblocking restores it all.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import httpx

from tests.support import Api

User = tuple[str, str, str]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def text(cid: str, content: str = "hi") -> dict[str, Any]:
    return {
        "client_message_id": "c-" + secrets.token_hex(6),
        "conversation_id": cid,
        "content": content,
    }


def enc(cid: str) -> dict[str, Any]:
    return {
        "conversation_id": cid,
        "ciphertext": "Y2lwaGVy",
        "nonce": "bm9uY2U=",
        "algorithm": "AES-GCM",
        "key_id": "k1",
    }


def about(frame: dict[str, Any], user_id: str) -> bool:
    data = frame.get("data") or {}
    return user_id in (data.get("user_id"), data.get("from_user_id"), data.get("sender_id"))


async def block(api: Api, who: User, whom: str, method: str = "PUT") -> httpx.Response:
    return await api.http.request(method, f"/v1/users/{whom}/block", headers=bearer(who[1]))


async def blocks(api: Api, who: User) -> list[str]:
    r = await api.http.get("/v1/blocks", headers=bearer(who[1]))
    assert r.status_code == 200, r.text
    return [b["user_id"] for b in r.json()]


async def test_block_unblock_and_list(api: Api) -> None:
    a, b, c = await api.user(3)
    assert await blocks(api, a) == []
    r = await block(api, a, b[0])
    assert r.status_code == 204 and r.content == b""
    assert (await block(api, a, b[0])).status_code == 204  # idempotent
    assert (await block(api, a, c[0])).status_code == 204
    assert await blocks(api, a) == [b[0], c[0]]
    r = await api.http.get("/v1/blocks", headers=bearer(a[1]))
    assert all(x["created_at"].endswith("Z") for x in r.json())
    assert await blocks(api, b) == []  # a block is the blocker's list only
    assert (await block(api, a, b[0], "DELETE")).status_code == 204
    assert (await block(api, a, b[0], "DELETE")).status_code == 204  # idempotent
    assert await blocks(api, a) == [c[0]]


async def test_block_unknown_user_is_404_and_self_is_422(api: Api) -> None:
    (a,) = await api.user(1)
    for method in ("PUT", "DELETE"):
        r = await block(api, a, str(uuid.uuid4()), method)
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
        r = await block(api, a, a[0], method)
        assert r.status_code == 422 and r.json()["error"]["code"] == "validation_failed"
        r = await api.http.request(method, f"/v1/users/{'x' * 100}/block", headers=bearer(a[1]))
        assert r.status_code == 404
        r = await api.http.request(method, f"/v1/users/{a[0]}/block")
        assert r.status_code == 401
    assert await blocks(api, a) == []


async def test_block_freezes_the_direct_conversation_both_ways(api: Api) -> None:
    a, b = await api.user(2)
    dm = await api.direct(a[1], b[0])
    ca, cb = await api.client(a), await api.client(b)
    try:
        first = await ca.ok("chat/messages/ack", "SendChatMessageWithClientId", text(dm))
        mid = first["data"]["message_id"]
        await cb.events("ChatMessageReceived", message_id=mid)
        assert (await block(api, a, b[0])).status_code == 204

        # The blocked user: exactly the answer for a conversation it is not in.
        stranger = await cb.request(
            "chat/messages/ack", "SendChatMessageWithClientId", text(str(uuid.uuid4()))
        )
        refused = [
            await cb.request("chat/messages/ack", "SendChatMessageWithClientId", text(dm)),
            await cb.request("chat/messages", "SendEncryptedMessage", enc(dm)),
            await cb.request(
                "chat/acks",
                "SendEncryptedAck",
                {"message_id": mid, "conversation_id": dm, "status": "read"},
            ),
        ]
        assert [r["data"] for r in refused] == [stranger["data"]] * 3
        assert stranger["data"]["code"] == "not_found"
        # The blocker knows, and is told to unblock first.
        mine = [
            await ca.request("chat/messages/ack", "SendChatMessageWithClientId", text(dm)),
            await ca.request("chat/messages", "SendEncryptedMessage", enc(dm)),
        ]
        assert [r["data"]["code"] for r in mine] == ["forbidden", "forbidden"]
        # History stays readable; the conversation is still listed for both.
        for u in (a, b):
            r = await api.http.get(f"/v1/conversations/{dm}", headers=bearer(u[1]))
            assert r.status_code == 200
        sync = await cb.ok("sync/request", "SyncRequest", {"full_sync": True})
        assert mid in {c["data"].get("message_id") for c in sync["data"]["changes"]}

        assert (await block(api, a, b[0], "DELETE")).status_code == 204
        again = await cb.ok("chat/messages/ack", "SendChatMessageWithClientId", text(dm))
        await ca.events("ChatMessageReceived", message_id=again["data"]["message_id"])
    finally:
        await ca.close()
        await cb.close()


async def test_block_cuts_presence_profile_keys_and_calls_between_the_two(api: Api) -> None:
    a, b, c = await api.user(3)
    await api.direct(a[1], b[0])
    ac, bc = await api.direct(a[1], c[0]), await api.direct(b[1], c[0])
    cb, cc = await api.client(b), await api.client(c)
    ca = await api.client(a)
    try:
        await cb.events("PresenceStatusUpdated", user_id=a[0], status="online")
        assert (await block(api, a, b[0])).status_code == 204
        mark_a, mark_b, mark_c = len(ca.frames), len(cb.frames), len(cc.frames)

        await ca.ok("profile/info-text", "UpdateProfileInfoText", {"info_text": "blocked"})
        await ca.ok(
            "crypto/keys",
            "PublishPublicKey",
            {"key_id": "ka", "public_key": "cHVi", "algorithm": "X25519"},
        )
        await cb.ok("profile/info-text", "UpdateProfileInfoText", {"info_text": "b here"})
        before = ca
        await before.close()  # presence: offline, then online again
        await cc.events("PresenceStatusUpdated", user_id=a[0], status="offline")
        ca = await api.client(a)
        # Calls are refused both ways, like ringing a stranger.
        ring = {"call_id": "c1", "type": "offer"}
        stranger = await cb.request(
            "call/signaling", "SendCallSignal", {**ring, "to_user_id": str(uuid.uuid4())}
        )
        rings = [
            await cb.request("call/signaling", "SendCallSignal", {**ring, "to_user_id": a[0]}),
            await ca.request("call/signal", "SendCallSignal", {**ring, "to_user_id": b[0]}),
        ]
        assert [r["data"] for r in rings] == [stranger["data"]] * 2

        # The third contact got all of A's events (so they were produced) ...
        await cc.events("ProfileInfoTextUpdated", user_id=a[0])
        await cc.events("PublicKeyReceived", user_id=a[0])
        await cc.events("PresenceStatusUpdated", 2, user_id=a[0], status="online")
        await cc.events("ProfileInfoTextUpdated", user_id=b[0])
        await ca.events("PresenceStatusUpdated", user_id=c[0])  # A's snapshot on connecting
        # ... B got none of them, and A none of B's (the snapshot included): C's
        # messages, published after them all, arrived, so nothing is in flight.
        for cid, to in ((bc, cb), (ac, ca)):
            m = await cc.ok("chat/messages/ack", "SendChatMessageWithClientId", text(cid))
            await to.events("ChatMessageReceived", message_id=m["data"]["message_id"])
        assert len(cc.frames) > mark_c
        assert [f for f in cb.frames[mark_b:] if about(f, a[0])] == []
        assert [f for f in [*before.frames[mark_a:], *ca.frames] if about(f, b[0])] == []
        # Nor in the feed; the REST profile hides what a contact would see.
        sync = await cb.ok("sync/request", "SyncRequest", {"full_sync": True})
        assert [x for x in sync["data"]["changes"] if x["data"].get("user_id") == a[0]] == []
        seen = (await api.http.get(f"/v1/users/{a[0]}", headers=bearer(b[1]))).json()
        assert seen["info_text"] == "" and seen["last_seen_at"] is None
        shown = (await api.http.get(f"/v1/users/{a[0]}", headers=bearer(c[1]))).json()
        assert shown["info_text"] == "blocked" and shown["last_seen_at"] is not None

        assert (await block(api, a, b[0], "DELETE")).status_code == 204
        await ca.ok("profile/info-text", "UpdateProfileInfoText", {"info_text": "back"})
        await cb.events("ProfileInfoTextUpdated", user_id=a[0], info_text="back")
        await cb.ok("call/signaling", "SendCallSignal", {**ring, "to_user_id": a[0]})
        await ca.events("CallSignalReceived", from_user_id=b[0])
    finally:
        for x in (ca, cb, cc):
            await x.close()


async def test_groups_with_a_block(api: Api) -> None:
    a, b, c = await api.user(3)
    ca, cb = await api.client(a), await api.client(b)
    try:
        shared = await ca.ok(
            "chat/groups", "CreateGroup", {"name": "g", "member_ids": [b[0], c[0]]}
        )
        gid = shared["data"]["group_id"]
        assert (await block(api, a, b[0])).status_code == 204
        # Neither can put the other in a new group.
        by_blocked = await cb.request(
            "chat/groups", "CreateGroup", {"name": "x", "member_ids": [c[0], a[0]]}
        )
        assert by_blocked["data"]["code"] == "not_found"
        assert by_blocked["data"]["path"] == "$.data.member_ids[1]"
        by_blocker = await ca.request(
            "chat/groups", "CreateGroup", {"name": "x", "member_ids": [b[0]]}
        )
        assert by_blocker["data"]["code"] == "forbidden"
        # A group they already share keeps carrying their messages, both ways.
        m = await ca.ok("chat/messages/ack", "SendChatMessageWithClientId", text(gid))
        await cb.events("ChatMessageReceived", message_id=m["data"]["message_id"])
        m = await cb.ok("chat/messages/ack", "SendChatMessageWithClientId", text(gid))
        await ca.events("ChatMessageReceived", message_id=m["data"]["message_id"])
    finally:
        await ca.close()
        await cb.close()


async def test_blocks_of_others_change_nothing_for_a_third_user(api: Api) -> None:
    a, b, c = await api.user(3)
    ab, bc = await api.direct(a[1], b[0]), await api.direct(b[1], c[0])
    cb, cc = await api.client(b), await api.client(c)
    try:
        assert (await block(api, a, b[0])).status_code == 204
        m = await cc.ok("chat/messages/ack", "SendChatMessageWithClientId", text(bc))
        await cb.events("ChatMessageReceived", message_id=m["data"]["message_id"])
        refused = await cb.request("chat/messages/ack", "SendChatMessageWithClientId", text(ab))
        assert refused["data"]["code"] == "not_found"
    finally:
        await cb.close()
        await cc.close()
