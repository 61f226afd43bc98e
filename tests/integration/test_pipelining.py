"""A client may send without waiting for acks: replies and order stay as if it waited.

The reader goes on to a connection's next frame as soon as a message send has
taken its place in the commit queue (`core/ordering.py`); these tests pin
what that must not change: one reply per frame, in frame order; messages
stored and delivered in the order sent; a later frame sees what earlier
frames wrote; an idempotency key repeated within the pipeline creates one
message.
"""

from __future__ import annotations

import secrets
from typing import Any

import msgspec

from tests.support import Api, Client


def send_frame(fid: str, cid: str, content: str, client_id: str | None = None) -> str:
    data = {
        "client_message_id": client_id or "c-" + secrets.token_hex(6),
        "conversation_id": cid,
        "content": content,
    }
    frame = {"id": fid, "channel": "chat/messages/ack", "type": "SendChatMessageWithClientId"}
    return msgspec.json.encode({**frame, "data": data}).decode()


def replies(c: Client) -> list[dict[str, Any]]:
    return [f for f in c.frames if f.get("ref", "").startswith("p")]


async def pair(api: Api) -> tuple[Client, Client, str]:
    a, b = await api.user(2)
    cid = await api.direct(a[1], b[0])
    return await api.client(a), await api.client(b), cid


async def test_pipelined_sends_reply_in_frame_order_and_deliver_in_send_order(api: Api) -> None:
    ca, cb, cid = await pair(api)
    n = 120
    frames = []
    for i in range(n):
        frames.append(send_frame(f"p{i:04}", cid, f"m{i}"))
        if i % 40 == 20:  # frames that fail fast, between pipelined ones
            frames.append(f'{{"id":"p{i:04}x","channel":"no/such","type":"X","data":{{}}}}')
            frames.append(f'{{"id":"p{i:04}y","channel":"chat/messages/ack","type":"Nope"}}')
    for raw in frames:  # all at once: no ack awaited
        await ca.send_raw(raw)
    await ca.wait_for(lambda _f: len(replies(ca)) >= len(frames))
    got = replies(ca)
    assert [f["ref"] for f in got] == [msgspec.json.decode(r)["id"] for r in frames]
    acks = [f for f in got if f["type"] == "ChatMessageAccepted"]
    assert len(acks) == n and all(f["ref"][-1].isdigit() for f in acks)
    assert [f["type"] for f in got if not f["ref"][-1].isdigit()] == ["Error"] * 6
    events = await cb.events("ChatMessageReceived", n)
    assert [e["data"]["content"] for e in events] == [f"m{i}" for i in range(n)]
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == n
    assert [e["data"]["message_id"] for e in events] == [a["data"]["message_id"] for a in acks]
    await ca.close()
    await cb.close()


async def test_a_frame_after_pipelined_sends_sees_their_writes(api: Api) -> None:
    ca, cb, cid = await pair(api)
    for i in range(30):
        await ca.send_raw(send_frame(f"p{i:04}", cid, f"m{i}"))
    sync = {"id": "p9999", "channel": "sync/request", "type": "SyncRequest"}
    await ca.send_raw(msgspec.json.encode({**sync, "data": {"since_sequence": 0}}).decode())
    reply = await ca.wait_for(lambda f: f.get("ref") == "p9999")
    assert reply["type"] == "SyncResponse"
    contents = [
        ch["data"]["content"]
        for ch in reply["data"]["changes"]
        if ch.get("type") == "ChatMessageReceived"
    ]
    assert contents == [f"m{i}" for i in range(30)]
    await ca.close()
    await cb.close()


async def test_a_repeated_idempotency_key_in_the_pipeline_makes_one_message(api: Api) -> None:
    ca, cb, cid = await pair(api)
    for i in range(4):
        await ca.send_raw(send_frame(f"p{i:04}", cid, "once", client_id="same-key"))
    await ca.send_raw(send_frame("p0004", cid, "after"))
    await ca.wait_for(lambda _f: len(replies(ca)) >= 5)
    acks = replies(ca)
    assert [f["type"] for f in acks] == ["ChatMessageAccepted"] * 5
    assert len({f["data"]["message_id"] for f in acks[:4]}) == 1
    events = await cb.events("ChatMessageReceived", 2)
    assert [e["data"]["content"] for e in events] == ["once", "after"]
    assert [f for f in cb.frames if f.get("type") == "ChatMessageReceived"] == events
    await ca.close()
    await cb.close()
