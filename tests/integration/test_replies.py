"""Replies on `/ws` (issue #14): `reply_to_id` on both sends, end to end.

Two members of a group and a stranger, each a real client on a real server:
a reply reaches the other member with its link, live and after a reconnect
and a resume; a link to a message of another conversation, to an unknown
id, of the wrong type or to a deleted message is refused with
`validation_failed` at `$.data.reply_to_id` (one answer for all) and
nothing is stored; a retry on `client_message_id` creates nothing new; and
the link is the one MTChat shows (`reply_to_id` in its message list).
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from tests.integration.mtchat import Mt, MtSocket, create_dialog, scope_header
from tests.support import Api, Client, ServerProcess, full_resume

REFUSED = {
    "code": "validation_failed",
    "message": "no such message in this conversation",
    "path": "$.data.reply_to_id",
}


def text(cid: str, content: str, **extra: Any) -> dict[str, Any]:
    return {
        "client_message_id": "c-" + secrets.token_hex(6),
        "conversation_id": cid,
        "content": content,
        "type": "text",
        **extra,
    }


def sealed(cid: str, **extra: Any) -> dict[str, Any]:
    return {
        "conversation_id": cid,
        "ciphertext": "Y2lwaGVy",
        "nonce": "bm9uY2U=",
        "algorithm": "AES-GCM",
        "key_id": "k1",
        "type": "text",
        **extra,
    }


async def refusal(c: Client, channel: str, type_: str, data: dict[str, Any]) -> dict[str, Any]:
    reply = await c.request(channel, type_, data)
    assert reply["type"] == "Error", reply
    return dict(reply["data"])


def received(frames: list[dict[str, Any]], type_: str, mid: str) -> list[dict[str, Any]]:
    return [f for f in frames if f.get("type") == type_ and f["data"].get("message_id") == mid]


async def test_a_reply_is_delivered_refused_when_foreign_and_idempotent(api: Api) -> None:
    alice, bob, stranger = await api.user(3)
    ca, cb, cs = [await api.client(u) for u in (alice, bob, stranger)]
    group = (await ca.ok("chat/groups", "CreateGroup", {"name": "team", "member_ids": [bob[0]]}))[
        "data"
    ]["group_id"]
    # The stranger's conversation with alice, and a message in it.
    direct = await api.direct(stranger[1], alice[0])
    theirs = (await cs.ok("chat/messages/ack", "SendChatMessageWithClientId", text(direct, "hi")))[
        "data"
    ]["message_id"]

    q = await cb.ok("chat/messages/ack", "SendChatMessageWithClientId", text(group, "lunch?"))
    question = q["data"]["message_id"]
    first = text(group, "yes, at noon", reply_to_id=question)
    r = await ca.ok("chat/messages/ack", "SendChatMessageWithClientId", first)
    answer = r["data"]["message_id"]
    [live] = await cb.events("ChatMessageReceived", message_id=answer)
    assert live["data"]["reply_to_id"] == question and live["data"]["content"] == "yes, at noon"
    # A message that answers nothing says so by leaving the field out.
    [plain] = await ca.events("ChatMessageReceived", message_id=question)
    assert "reply_to_id" not in plain["data"]

    # Encrypted: the same link, next to the opaque ciphertext.
    e = await ca.ok("chat/messages", "SendEncryptedMessage", sealed(group, reply_to_id=question))
    enc = e["data"]["ids"]["message_id"]
    [live_enc] = await cb.events("EncryptedMessageReceived", message_id=enc)
    assert live_enc["data"]["reply_to_id"] == question

    # A retry on the client id returns the first message and tells no one again.
    again = await ca.ok("chat/messages/ack", "SendChatMessageWithClientId", first)
    assert again["data"]["message_id"] == answer

    # Refused, each with the same answer: another conversation's message (one
    # the sender can read, and one they cannot), an unknown id, a deleted one.
    unknown = str(uuid.uuid4())
    for target in (theirs, unknown):
        data = text(group, "bad-" + target, reply_to_id=target)
        assert await refusal(ca, "chat/messages/ack", "SendChatMessageWithClientId", data) == (
            REFUSED
        )
        enc_data = sealed(group, reply_to_id=target)
        assert await refusal(ca, "chat/messages", "SendEncryptedMessage", enc_data) == REFUSED
    foreign = text(direct, "bad-foreign", reply_to_id=question)
    assert await refusal(cs, "chat/messages/ack", "SendChatMessageWithClientId", foreign) == (
        REFUSED
    )
    for wrong in (17, {"id": question}, [question]):
        data = text(group, "bad-type", reply_to_id=wrong)
        err = await refusal(ca, "chat/messages/ack", "SendChatMessageWithClientId", data)
        assert err["code"] == "validation_failed" and err["path"] == "$.data.reply_to_id"
    # The stranger cannot reach the group at all (`not_found`, as for any send there).
    intrude = text(group, "bad-intruder", reply_to_id=question)
    err = await refusal(cs, "chat/messages/ack", "SendChatMessageWithClientId", intrude)
    assert err["code"] == "not_found"

    # Nothing was stored under a refused client id: the same id goes through now.
    redo = {**text(direct, "fine now"), "client_message_id": foreign["client_message_id"]}
    fine = await cs.ok("chat/messages/ack", "SendChatMessageWithClientId", redo)
    assert fine["data"]["message_id"] not in (answer, question, theirs)

    # bob reconnects and resumes from the start: the links are in the feed.
    marker = await ca.ok("chat/messages/ack", "SendChatMessageWithClientId", text(group, "end"))
    await cb.events("ChatMessageReceived", message_id=marker["data"]["message_id"])
    assert len(received(cb.frames, "ChatMessageReceived", answer)) == 1  # the retry sent none
    await cb.close()
    cb2 = await api.client(bob, cb.device_id)
    changes = await full_resume(cb2)
    [synced] = received(changes, "ChatMessageReceived", answer)
    assert synced["data"]["reply_to_id"] == question
    [synced_enc] = received(changes, "EncryptedMessageReceived", enc)
    assert synced_enc["data"]["reply_to_id"] == question
    contents = [f["data"].get("content", "") for f in changes]
    assert not [c for c in contents if c.startswith("bad-")]
    for c in (ca, cb2, cs):
        await c.close()


SCOPE = scope_header(["tenant-r"])
RULE = {"scope_level0": ["tenant-r"]}


async def test_a_ws_reply_is_mtchats_reply_to(server: ServerProcess, api: Api) -> None:
    """The one link of the core: a `/ws` reply is `reply_to_id` in MTChat's list
    and its `message.new`; a deleted original is refused on both sides alike."""
    hub_id, hub_token, _ = await api.register()
    alice = Mt(server, scope=SCOPE)
    cid = await create_dialog(server, [alice], [RULE])
    ws_a = await MtSocket.open(server, f"token={alice.token}")
    hub = Mt(server, user=hub_id, scope=SCOPE)
    hub.token = hub_token
    await hub.ok("POST", f"/dialogs/{cid}/join", json={"display_name": "Hub", "company": "H"})
    c = await Client(server, hub_id, hub_token, "d-" + secrets.token_hex(4)).connect()

    said = (await alice.ok("POST", f"/dialogs/{cid}/messages", json={"content": "ready?"}))["data"]
    r = await c.ok(
        "chat/messages/ack",
        "SendChatMessageWithClientId",
        text(cid, "ready", reply_to_id=said["id"]),
    )
    mid = r["data"]["message_id"]
    ev = await ws_a.event("message.new", id=mid)
    assert ev["reply_to_id"] == said["id"]
    page = (await alice.ok("GET", f"/dialogs/{cid}/messages"))["data"]["messages"]
    assert [(m["id"], m["reply_to_id"]) for m in page[-2:]] == [
        (said["id"], None),
        (mid, said["id"]),
    ]

    # MTChat's reply to the /ws message is the same link the other way.
    back = (
        await alice.ok("POST", f"/dialogs/{cid}/messages", json={"content": "ok", "reply_to": mid})
    )["data"]
    [got] = await c.events("ChatMessageReceived", message_id=back["id"])
    assert got["data"]["reply_to_id"] == mid

    # Deleted: refused on /ws as an unknown id, and MTChat keeps its 404.
    await alice.ok("DELETE", f"/dialogs/{cid}/messages/{said['id']}")
    await c.events("ChatMessageDeleted", message_id=said["id"])
    gone = text(cid, "too late", reply_to_id=said["id"])
    assert await refusal(c, "chat/messages/ack", "SendChatMessageWithClientId", gone) == REFUSED
    for target in (said["id"], str(uuid.uuid4())):
        resp = await alice.call(
            "POST", f"/dialogs/{cid}/messages", json={"content": "x", "reply_to": target}
        )
        assert resp.status_code == 404, resp.text
        assert resp.json()["error"]["code"] == "MESSAGE_NOT_FOUND"
    page = (await alice.ok("GET", f"/dialogs/{cid}/messages"))["data"]["messages"]
    assert page[-1]["id"] == back["id"]  # nothing stored by the refusals
    await c.close()
    await ws_a.close()
    await alice.aclose()
    await hub.aclose()
