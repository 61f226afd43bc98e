"""Spec-000 channels end to end: several real clients on a real server."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import pytest

from tests.support import Api, Client


def enc(cid: str, body: str = "Y2lwaGVy") -> dict[str, Any]:
    return {
        "conversation_id": cid,
        "ciphertext": body,
        "nonce": "bm9uY2U=",
        "algorithm": "AES-GCM",
        "key_id": "k1",
        "type": "text",
        "signature": "c2ln",
    }


def text(cid: str, content: str, client_id: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "client_message_id": client_id or "c-" + secrets.token_hex(6),
        "conversation_id": cid,
        "content": content,
        "type": "text",
        **extra,
    }


async def group_of(api: Api, n: int) -> tuple[list[tuple[str, str, str]], list[Client], str]:
    users = await api.user(n)
    clients = [await api.client(u) for u in users]
    reply = await clients[0].ok(
        "chat/groups",
        "CreateGroup",
        {"name": "team", "member_ids": [u[0] for u in users[1:]], "client_request_id": "g1"},
    )
    return users, clients, reply["data"]["group_id"]


async def close_all(*clients: Client) -> None:
    await asyncio.gather(*(c.close() for c in clients))


async def test_encrypted_message_reaches_every_device_of_every_member(api: Api) -> None:
    users = await api.user(3)
    a, b, c = users
    ca = await api.client(a)
    cb1, cb2 = await api.client(b, "phone"), await api.client(b, "laptop")
    cc = await api.client(c)
    ca2 = await api.client(a, "a-tablet")
    g = await ca.ok(
        "chat/groups",
        "CreateGroup",
        {"name": "g", "member_ids": [b[0], c[0]], "client_request_id": "x"},
    )
    gid = g["data"]["group_id"]
    reply = await ca.ok("chat/messages", "SendEncryptedMessage", enc(gid, "b3BhcXVl"))
    assert reply["type"] == "Ack" and reply["channel"] == "chat/messages"
    mid = reply["data"]["ids"]["message_id"]
    for client in (cb1, cb2, cc, ca2):  # every device, the sender's other device included
        [ev] = await client.events("EncryptedMessageReceived", message_id=mid)
        d = ev["data"]
        assert (d["ciphertext"], d["nonce"], d["algorithm"], d["key_id"], d["signature"]) == (
            "b3BhcXVl", "bm9uY2U=", "AES-GCM", "k1", "c2ln"
        )  # fmt: skip
        assert d["sender_id"] == a[0] and d["conversation_id"] == gid and ev["seq"] > 0
    # the sending connection got the reply, not a copy of its own message
    await ca.ok("status/response", "RequestStatus", {"request_id": "s"})
    assert not [f for f in ca.frames if f["type"] == "EncryptedMessageReceived"]
    await close_all(ca, cb1, cb2, cc, ca2)


async def test_stranger_cannot_send_or_ack(api: Api) -> None:
    (a, b, s) = await api.user(3)
    cid = await api.direct(a[1], b[0])
    ca, cs = await api.client(a), await api.client(s)
    mid = (await ca.ok("chat/messages", "SendEncryptedMessage", enc(cid)))["data"]["ids"][
        "message_id"
    ]
    for ch, ty, data in (
        ("chat/messages", "SendEncryptedMessage", enc(cid)),
        ("chat/messages/ack", "SendChatMessageWithClientId", text(cid, "hi")),
        (
            "chat/acks",
            "SendEncryptedAck",
            {"message_id": mid, "conversation_id": cid, "status": "read"},
        ),
    ):
        r = await cs.request(ch, ty, data)
        assert r["type"] == "Error" and r["data"]["code"] == "not_found", r
    assert not [f for f in cs.frames if f.get("seq")]
    await close_all(ca, cs)


async def test_receipts_go_back_to_the_sender_once(api: Api) -> None:
    a, b = await api.user(2)
    cid = await api.direct(a[1], b[0])
    ca, cb = await api.client(a), await api.client(b)
    mid = (await ca.ok("chat/messages", "SendEncryptedMessage", enc(cid)))["data"]["ids"][
        "message_id"
    ]
    await cb.events("EncryptedMessageReceived", message_id=mid)
    for status in ("delivered", "read", "read"):
        await cb.ok(
            "chat/acks",
            "SendEncryptedAck",
            {"message_id": mid, "conversation_id": cid, "status": status},
        )
    acks = await ca.events("EncryptedMessageAck", 2, message_id=mid)
    assert [x["data"]["status"] for x in acks] == ["delivered", "read"]
    assert all(x["data"]["user_id"] == b[0] for x in acks)
    await ca.ok("status/response", "RequestStatus", {})
    assert len([f for f in ca.frames if f["type"] == "EncryptedMessageAck"]) == 2  # repeat ignored
    bad = await cb.request(
        "chat/acks",
        "SendEncryptedAck",
        {"message_id": mid, "conversation_id": cid, "status": "liked"},
    )
    assert bad["data"]["code"] == "validation_failed" and bad["data"]["path"] == "$.data.status"
    own = await ca.request(
        "chat/acks",
        "SendEncryptedAck",
        {"message_id": mid, "conversation_id": cid, "status": "read"},
    )
    assert own["data"]["code"] == "validation_failed"
    await close_all(ca, cb)


async def test_plaintext_idempotent_retry_creates_nothing(api: Api) -> None:
    a, b = await api.user(2)
    cid = await api.direct(a[1], b[0])
    ca, cb = await api.client(a), await api.client(b)
    first = await ca.ok(
        "chat/messages/ack", "SendChatMessageWithClientId", text(cid, "hello", "same")
    )
    assert first["type"] == "ChatMessageAccepted" and first["data"]["client_message_id"] == "same"
    retry = await ca.ok(
        "chat/messages/ack", "SendChatMessageWithClientId", text(cid, "hello", "same")
    )
    assert retry["data"]["message_id"] == first["data"]["message_id"]
    assert retry["data"]["timestamp"] == first["data"]["timestamp"]
    [ev] = await cb.events("ChatMessageReceived")
    marker = await ca.ok("chat/messages/ack", "SendChatMessageWithClientId", text(cid, "marker"))
    await cb.events("ChatMessageReceived", message_id=marker["data"]["message_id"])
    received = [f["data"]["content"] for f in cb.frames if f["type"] == "ChatMessageReceived"]
    assert received == ["hello", "marker"]
    assert ev["data"]["self_destruct"] is False and ev["data"]["expires_at"] is None
    await close_all(ca, cb)


async def test_self_destruct_expires_for_everyone(api: Api) -> None:
    a, b = await api.user(2)
    cid = await api.direct(a[1], b[0])
    ca, cb = await api.client(a), await api.client(b)
    acc = await ca.ok(
        "chat/messages/ack",
        "SendChatMessageWithClientId",
        text(cid, "burn after reading", self_destruct=True, ttl_seconds=1),
    )
    assert (
        acc["data"]["self_destruct"] is True
        and acc["data"]["expires_at"] > acc["data"]["timestamp"]
    )
    mid = acc["data"]["message_id"]
    [got] = await cb.events("ChatMessageReceived", message_id=mid)
    assert got["data"]["expires_at"] == acc["data"]["expires_at"]
    for client in (ca, cb):
        [exp] = await client.events("ChatMessageExpired", timeout=15, message_id=mid)
        assert exp["channel"] == "chat/messages/expired" and exp["data"]["conversation_id"] == cid
        assert exp["data"]["reason"] == "self_destruct"
    sync = await cb.ok("sync/request", "SyncRequest", {"request_id": "s", "since_sequence": 0})
    blob = str(sync["data"]["changes"])
    assert "burn after reading" not in blob and "ChatMessageExpired" in blob
    bad = await ca.request(
        "chat/messages/ack", "SendChatMessageWithClientId", text(cid, "x", self_destruct=True)
    )
    assert (
        bad["data"]["code"] == "validation_failed" and bad["data"]["path"] == "$.data.ttl_seconds"
    )
    await close_all(ca, cb)


async def test_public_keys_publish_rotate_fetch(api: Api) -> None:
    a, b, s = await api.user(3)
    await api.direct(a[1], b[0])
    ca, cb, cs = await api.client(a), await api.client(b), await api.client(s)
    for kid, pub in (("k1", "cHViMQ=="), ("k2", "cHViMg==")):
        r = await ca.ok(
            "crypto/keys",
            "PublishPublicKey",
            {"key_id": kid, "public_key": pub, "algorithm": "X25519"},
        )
        assert r["data"]["ids"]["key_id"] == kid
    got = await cb.events("PublicKeyReceived", 2, user_id=a[0])
    assert [g["data"]["key_id"] for g in got] == ["k1", "k2"]
    conflict = await ca.request(
        "crypto/keys",
        "PublishPublicKey",
        {"key_id": "k1", "public_key": "b3RoZXI=", "algorithm": "X25519"},
    )
    assert conflict["data"]["code"] == "conflict"
    forged = await cs.request(
        "crypto/keys",
        "PublishPublicKey",
        {"user_id": a[0], "key_id": "k9", "public_key": "eA==", "algorithm": "X25519"},
    )
    assert forged["data"]["code"] == "forbidden"
    r = await api.http.get(f"/v1/users/{a[0]}/keys", headers={"Authorization": f"Bearer {s[1]}"})
    assert r.status_code == 200 and [k["key_id"] for k in r.json()] == ["k2", "k1"]
    await cs.ok("status/response", "RequestStatus", {})
    assert not [f for f in cs.frames if f["type"] == "PublicKeyReceived"]  # not a contact
    await close_all(ca, cb, cs)


async def test_groups_create_ack_leave_and_roles(api: Api) -> None:
    users, clients, gid = await group_of(api, 3)
    owner, m1, m2 = clients
    for c in clients:
        [ev] = await c.events("GroupCreated", group_id=gid)
        assert ev["data"]["creator_id"] == users[0][0]
        assert set(ev["data"]["member_ids"]) == {u[0] for u in users}
    dup = await owner.ok(
        "chat/groups",
        "CreateGroup",
        {"name": "team", "member_ids": [users[1][0]], "client_request_id": "g1"},
    )
    assert dup["data"]["group_id"] == gid and dup["data"]["status"] == "duplicate"
    confirm = await owner.ok(
        "chat/groups/ack",
        "AcknowledgeGroupCreate",
        {"client_request_id": "g1", "received_at": "now"},
    )
    assert confirm["data"]["ids"]["group_id"] == gid
    unknown = await m1.request(
        "chat/groups/ack", "AcknowledgeGroupCreate", {"client_request_id": "g1"}
    )
    assert unknown["data"]["code"] == "not_found"
    missing = await owner.request(
        "chat/groups",
        "CreateGroup",
        {"name": "t", "member_ids": ["nobody"], "client_request_id": "z"},
    )
    assert (
        missing["data"]["code"] == "not_found" and missing["data"]["path"] == "$.data.member_ids[0]"
    )

    left = await owner.ok("group/membership", "LeaveGroup", {"request_id": "l1", "group_id": gid})
    assert left["type"] == "LeaveGroupAck" and left["data"]["status"] == "left"
    for c in (m1, m2):
        await c.events("LeaveGroupAck", user_id=users[0][0])
    r = await api.http.get(
        f"/v1/conversations/{gid}", headers={"Authorization": f"Bearer {users[1][1]}"}
    )
    roles = {m["user_id"]: m["role"] for m in r.json()["members"]}
    # both joined together: the tie is broken by user id, deterministically
    heir, other = sorted([users[1][0], users[2][0]])
    assert roles == {heir: "owner", other: "member"}
    # the leaver sees nothing more and can no longer post
    msg = await m1.ok("chat/messages/ack", "SendChatMessageWithClientId", text(gid, "after"))
    await m2.events("ChatMessageReceived", message_id=msg["data"]["message_id"])
    again = await owner.request("chat/messages/ack", "SendChatMessageWithClientId", text(gid, "x"))
    assert again["data"]["code"] == "not_found"
    await owner.ok("status/response", "RequestStatus", {})
    assert not [f for f in owner.frames if f["type"] == "ChatMessageReceived"]
    await close_all(*clients)


async def test_profile_info_text_reaches_contacts(api: Api) -> None:
    a, b, s = await api.user(3)
    await api.direct(a[1], b[0])
    ca, ca2, cb, cs = (
        await api.client(a),
        await api.client(a),
        await api.client(b),
        await api.client(s),
    )
    r = await ca.ok(
        "profile/info-text", "UpdateProfileInfoText", {"user_id": a[0], "info_text": "at work"}
    )
    assert r["data"]["info_text"] == "at work"
    for c in (cb, ca2):
        [ev] = await c.events("ProfileInfoTextUpdated", user_id=a[0])
        assert ev["data"]["info_text"] == "at work" and ev["seq"] > 0
    forged = await cs.request(
        "profile/info-text", "UpdateProfileInfoText", {"user_id": a[0], "info_text": "x"}
    )
    assert forged["data"]["code"] == "forbidden"
    too_long = await ca.request(
        "profile/info-text", "UpdateProfileInfoText", {"info_text": "x" * 701}
    )
    assert too_long["data"]["code"] == "validation_failed"
    r2 = await api.http.get(f"/v1/users/{a[0]}", headers={"Authorization": f"Bearer {b[1]}"})
    assert r2.json()["info_text"] == "at work"
    await cs.ok("status/response", "RequestStatus", {})
    assert not [f for f in cs.frames if f["type"] == "ProfileInfoTextUpdated"]
    await close_all(ca, ca2, cb, cs)


async def test_presence_online_offline_last_seen(api: Api) -> None:
    a, b, s = await api.user(3)
    await api.direct(a[1], b[0])
    cb = await api.client(b)
    cs = await api.client(s)
    [off] = await cb.events("PresenceStatusUpdated", user_id=a[0])  # snapshot on connect
    assert off["data"]["status"] == "offline" and "seq" not in off
    ca = await api.client(a)
    await cb.events("PresenceStatusUpdated", 2, user_id=a[0])
    assert cb.frames[-1]["data"]["status"] == "online" or any(
        f["data"].get("status") == "online"
        for f in cb.frames
        if f["type"] == "PresenceStatusUpdated"
    )
    snap = await ca.events("PresenceStatusUpdated", user_id=b[0])
    assert snap[0]["data"]["status"] == "online"
    await ca.close()
    evs = await cb.events("PresenceStatusUpdated", 3, user_id=a[0])
    assert evs[-1]["data"]["status"] == "offline" and evs[-1]["data"]["last_seen_at"]
    r = await api.http.get(f"/v1/users/{a[0]}", headers={"Authorization": f"Bearer {b[1]}"})
    assert r.json()["last_seen_at"] is not None
    await cs.ok("status/response", "RequestStatus", {})
    assert not [f for f in cs.frames if f["type"] == "PresenceStatusUpdated"]
    await close_all(cb, cs)


async def test_status_response_reports_real_state(api: Api) -> None:
    [a] = await api.user(1)
    ca = await api.client(a)
    for target in (None, "database", "bus", "sync"):
        data = {"request_id": f"q-{target}"} | ({"target": target} if target else {})
        r = await ca.ok("status/response", "RequestStatus", data)
        assert r["type"] == "StatusResponseReceived" and r["data"]["request_id"] == f"q-{target}"
        assert r["data"]["status"] == "ok" and r["data"]["details"]
    sync = await ca.ok("status/response", "RequestStatus", {"target": "sync"})
    assert "seq" in sync["data"]["details"]
    bad = await ca.request("status/response", "RequestStatus", {"target": "kitchen"})
    assert bad["data"]["code"] == "validation_failed"
    await ca.close()


async def test_offline_recipient_resumes_with_sync(api: Api) -> None:
    a, b = await api.user(2)
    cid = await api.direct(a[1], b[0])
    ca, cb = await api.client(a), await api.client(b)
    first = await ca.ok("chat/messages/ack", "SendChatMessageWithClientId", text(cid, "m0"))
    await cb.events("ChatMessageReceived", message_id=first["data"]["message_id"])
    last_seen = cb.max_seq()
    await cb.close()
    sent = []
    for i in range(1, 8):
        r = await ca.ok("chat/messages/ack", "SendChatMessageWithClientId", text(cid, f"m{i}"))
        sent.append(r["data"]["message_id"])
    cb2 = await api.client(b)
    resp = await cb2.ok(
        "sync/request", "SyncRequest", {"request_id": "r1", "since_sequence": last_seen}
    )
    changes = resp["data"]["changes"]
    assert [c["data"]["message_id"] for c in changes] == sent
    seqs = [c["seq"] for c in changes]
    assert seqs == sorted(seqs) and seqs[0] > last_seen and resp["data"]["to_sequence"] == seqs[-1]
    assert all(
        c["channel"] == "chat/messages" and c["type"] == "ChatMessageReceived" for c in changes
    )
    empty = await cb2.ok(
        "sync/request", "SyncRequest", {"request_id": "r2", "since_sequence": seqs[-1]}
    )
    assert empty["data"]["changes"] == [] and empty["data"]["to_sequence"] == seqs[-1]
    ack = await cb2.ok("sync/changes", "SyncAck", {"sync_id": "r1", "sequence": seqs[-1]})
    assert ack["type"] == "Ack"
    await close_all(ca, cb2)


async def test_per_conversation_order_with_concurrent_senders(api: Api) -> None:
    _users, clients, gid = await group_of(api, 4)
    n = 25

    async def burst(c: Client, tag: str) -> list[str]:
        ids = []
        for i in range(n):
            r = await c.ok(
                "chat/messages/ack", "SendChatMessageWithClientId", text(gid, f"{tag}-{i}")
            )
            ids.append(r["data"]["message_id"])
        return ids

    await asyncio.gather(*(burst(c, f"s{i}") for i, c in enumerate(clients[:3])))
    watcher = clients[3]
    await watcher.events("ChatMessageReceived", 3 * n)
    live = [f for f in watcher.frames if f["type"] == "ChatMessageReceived"]
    assert [f["seq"] for f in live] == sorted(f["seq"] for f in live)
    for tag in ("s0", "s1", "s2"):
        mine = [f["data"]["content"] for f in live if f["data"]["content"].startswith(tag + "-")]
        assert mine == [f"{tag}-{i}" for i in range(n)]
    resp = await watcher.ok("sync/request", "SyncRequest", {"full_sync": True, "request_id": "f"})
    synced = [c for c in resp["data"]["changes"] if c["type"] == "ChatMessageReceived"]
    assert [c["seq"] for c in synced] == [f["seq"] for f in live]
    await close_all(*clients)


@pytest.mark.parametrize("channel", ["user/presence", "chat/messages/expired"])
async def test_server_only_channels_refuse_client_frames(api: Api, channel: str) -> None:
    [a] = await api.user(1)
    ca = await api.client(a)
    r = await ca.request(channel, "Anything", {})
    assert r["type"] == "Error" and r["data"]["code"] == "bad_frame"
    await ca.close()


@pytest.mark.parametrize("channel", ["call/signaling", "call/signal"])
async def test_call_signals_reach_every_device_of_the_callee(api: Api, channel: str) -> None:
    a, b, s = await api.user(3)
    await api.direct(a[1], b[0])
    ca, cb1, cb2, cs = (
        await api.client(a),
        await api.client(b),
        await api.client(b),
        await api.client(s),
    )
    offer = {"call_id": "call-1", "to_user_id": b[0], "type": "offer", "payload": {"sdp": "v=0"}}
    reply = await ca.ok(channel, "SendCallSignal", offer)
    assert reply["type"] == "Ack" and reply["data"]["ids"]["call_id"] == "call-1"
    for c in (cb1, cb2):
        [sig] = await c.events("CallSignalReceived", call_id="call-1")
        assert sig["channel"] == channel and sig["data"]["from_user_id"] == a[0]
        assert sig["data"]["type"] == "offer" and sig["data"]["payload"] == {"sdp": "v=0"}
    answer = {"call_id": "call-1", "to_user_id": a[0], "type": "answer", "payload": {"sdp": "x"}}
    await cb1.ok(channel, "SendCallSignal", answer)
    [back] = await ca.events("CallSignalReceived", type="answer")
    assert back["data"]["from_user_id"] == b[0]
    # a stranger cannot ring b: same answer as an unknown user
    stranger = await cs.request(channel, "SendCallSignal", {**offer, "to_user_id": b[0]})
    unknown = await cs.request(channel, "SendCallSignal", {**offer, "to_user_id": "nobody"})
    assert stranger["data"] == unknown["data"] and stranger["data"]["code"] == "not_found"
    await close_all(ca, cb1, cb2, cs)
