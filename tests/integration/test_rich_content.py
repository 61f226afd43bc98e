"""Reactions, stickers, mentions and polls over `/ws`: several real clients,
members and strangers, live delivery and what a resume finds."""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Any

from hubbub.clock import iso, parse_iso
from tests.integration.test_messaging import close_all, group_of, text
from tests.support import Api, Client, ServerProcess, full_resume


def err(reply: dict[str, Any]) -> tuple[str, str | None]:
    assert reply["type"] == "Error", reply
    return reply["data"]["code"], reply["data"].get("path")


async def quiet(client: Client, type_: str, **match: Any) -> list[dict[str, Any]]:
    """What `client` has of `type_` after a round trip (a later frame proves order)."""
    await client.ok("status/response", "RequestStatus", {"request_id": secrets.token_hex(3)})
    return [
        f
        for f in client.frames
        if f.get("type") == type_ and all(f["data"].get(k) == v for k, v in match.items())
    ]


async def test_reactions_one_per_user_replace_remove(api: Api) -> None:
    users, (ca, cb, cc), gid = await group_of(api, 3)
    cb2 = await api.client(users[1], "b-second")
    stranger = await api.client((await api.user(1))[0])
    sent = await ca.ok("chat/messages/ack", "SendChatMessageWithClientId", text(gid, "lunch?"))
    mid = sent["data"]["message_id"]
    b = users[1][0]

    r = await cb.ok("chat/reactions", "AddReaction", {"message_id": mid, "reaction": "👍"})
    assert r["channel"] == "chat/reactions/ack" and r["type"] == "ReactionAck"
    assert r["data"]["status"] == "added" and r["data"]["error"] is None
    [own] = await ca.events("ReactionOnOwnMessage", message_id=mid)
    assert own["data"]["reactor_id"] == b and own["data"]["reaction"] == "👍" and own["seq"]
    for client in (ca, cc, cb2):
        [up] = await client.events("ReactionUpdated", message_id=mid, reaction="👍")
        assert up["channel"] == "chat/reactions" and up["data"]["user_id"] == b

    again = await cb.ok("chat/reactions", "AddReaction", {"message_id": mid, "reaction": "👍"})
    assert again["data"]["status"] == "unchanged"
    await cb.ok("chat/reactions", "AddReaction", {"message_id": mid, "reaction": "❤️"})
    await ca.events("ReactionOnOwnMessage", message_id=mid, reaction="❤️")
    gone = await cb.ok("chat/reactions", "AddReaction", {"message_id": mid, "reaction": ""})
    assert gone["data"]["status"] == "removed"
    await cc.events("ReactionUpdated", message_id=mid, reaction=None)
    assert len(await quiet(ca, "ReactionOnOwnMessage", message_id=mid)) == 2  # no removal note
    assert len(await quiet(cc, "ReactionUpdated", message_id=mid)) == 3  # add, change, remove

    # The author reacting to their own message tells nobody it is "on their own".
    await ca.ok("chat/reactions", "AddReaction", {"message_id": mid, "reaction": "🎉"})
    await cc.events("ReactionUpdated", message_id=mid, reaction="🎉")
    assert len(await quiet(ca, "ReactionOnOwnMessage", message_id=mid)) == 2

    # Strangers: the same answer as for a message that does not exist.
    for target in (mid, "00000000-0000-0000-0000-000000000000"):
        code, _ = err(await stranger.request(
            "chat/reactions", "AddReaction", {"message_id": target, "reaction": "👍"}
        ))  # fmt: skip
        assert code == "not_found"
    assert not [f for f in stranger.frames if "Reaction" in f.get("type", "")]
    long = await cb.request(
        "chat/reactions", "AddReaction", {"message_id": mid, "reaction": "x" * 65}
    )
    assert err(long) == ("validation_failed", "$.data.reaction")

    # A member who was away finds every change in its feed.
    await cc.close()
    cc = await api.client(users[2])
    changes = await full_resume(cc)
    seen = [c["data"]["reaction"] for c in changes if c["type"] == "ReactionUpdated"]
    assert seen == ["👍", "❤️", None, "🎉"]
    assert not [c for c in changes if c["type"] == "ReactionOnOwnMessage"]  # the author's only
    assert len([c for c in await full_resume(ca) if c["type"] == "ReactionOnOwnMessage"]) == 2
    await close_all(ca, cb, cc, cb2, stranger)


async def test_stickers_are_idempotent_messages(api: Api) -> None:
    users, (ca, cb, cc), gid = await group_of(api, 3)
    stranger = await api.client((await api.user(1))[0])
    body = {
        "conversation_id": gid,
        "sticker_id": "cat-7",
        "sticker_pack_id": "cats",
        "client_message_id": "st-1",
    }
    first = await ca.ok("chat/stickers", "SendStickerMessage", body)
    mid = first["data"]["ids"]["message_id"]
    for client in (cb, cc):
        [got] = await client.events("StickerMessageReceived", message_id=mid)
        d = got["data"]
        assert (d["sticker_id"], d["sticker_pack_id"], d["sender_id"]) == (
            "cat-7",
            "cats",
            users[0][0],
        )
    retry = await ca.ok("chat/stickers", "SendStickerMessage", body)
    assert retry["data"]["ids"]["message_id"] == mid
    assert retry["data"]["timestamp"] == first["data"]["timestamp"]
    assert len(await quiet(cb, "StickerMessageReceived")) == 1
    code, _ = err(await stranger.request("chat/stickers", "SendStickerMessage", body))
    assert code == "not_found"
    bad = await ca.request("chat/stickers", "SendStickerMessage", {**body, "sticker_id": ""})
    assert err(bad) == ("validation_failed", "$.data.sticker_id")
    # A sticker is a message: receipts and reactions work on it.
    r = await cb.ok("chat/reactions", "AddReaction", {"message_id": mid, "reaction": "😹"})
    assert r["data"]["status"] == "added"
    changes = await full_resume(cc)
    assert [c["data"]["message_id"] for c in changes if c["type"] == "StickerMessageReceived"] == [
        mid
    ]
    assert not [f for f in stranger.frames if f.get("type") == "StickerMessageReceived"]
    await close_all(ca, cb, cc, stranger)


async def test_mentions_reach_only_mentioned_members(api: Api) -> None:
    users, (ca, cb, cc), gid = await group_of(api, 3)
    outsider = (await api.user(1))[0]
    co = await api.client(outsider)
    a, b, c = users
    content = f"@{b[2]} and @{outsider[2]} and @{a[2]}, mail me at x@{c[2]}"
    sent = await ca.ok("chat/messages/ack", "SendChatMessageWithClientId", text(gid, content))
    mid = sent["data"]["message_id"]
    [note] = await cb.events("MentionNotification", message_id=mid)
    d = note["data"]
    assert d["mentioned_user_id"] == b[0] and d["mentioning_user_id"] == a[0]
    assert d["conversation_id"] == gid and d["content_preview"] == content[:100]
    assert note["channel"] == "chat/mentions" and note["seq"]
    for client in (ca, cc, co):  # the sender, an e-mail address, a non-member: nobody
        assert await quiet(client, "MentionNotification") == []
    nid = d["notification_id"]
    code, _ = err(await cc.request("chat/mentions", "AcknowledgeMention", {"notification_id": nid}))
    assert code == "not_found"  # not theirs: the same as unknown
    ok = await cb.ok("chat/mentions", "AcknowledgeMention", {"notification_id": nid})
    assert ok["data"]["ids"]["notification_id"] == nid
    await cb.ok("chat/mentions", "AcknowledgeMention", {"notification_id": nid})  # a retry
    # In a direct conversation an @name mentions nobody.
    dm = await api.direct(a[1], b[0])
    await ca.ok("chat/messages/ack", "SendChatMessageWithClientId", text(dm, f"hey @{b[2]}"))
    await cb.events("ChatMessageReceived", content=f"hey @{b[2]}")
    assert len(await quiet(cb, "MentionNotification")) == 1
    # The retry of a mentioning message creates no second notification.
    again = await ca.ok(
        "chat/messages/ack",
        "SendChatMessageWithClientId",
        text(gid, f"@{b[2]} once", "m-once"),
    )
    await ca.ok(
        "chat/messages/ack", "SendChatMessageWithClientId", text(gid, f"@{b[2]} once", "m-once")
    )
    await cb.events("MentionNotification", message_id=again["data"]["message_id"])
    assert len(await quiet(cb, "MentionNotification")) == 2
    await cb.close()
    cb = await api.client(b)
    resumed = [ch for ch in await full_resume(cb) if ch["type"] == "MentionNotification"]
    assert [ch["data"]["message_id"] for ch in resumed] == [mid, again["data"]["message_id"]]
    assert not [ch for ch in await full_resume(cc) if ch["type"] == "MentionNotification"]
    await close_all(ca, cb, cc, co)


def poll_body(gid: str, **extra: Any) -> dict[str, Any]:
    return {
        "conversation_id": gid,
        "question": "Where?",
        "options": ["Pizza", {"text": "Sushi"}],
        **extra,
    }


async def test_polls_vote_replace_close(api: Api) -> None:
    users, (ca, cb, cc), gid = await group_of(api, 3)
    stranger = await api.client((await api.user(1))[0])
    created = await cb.ok("chat/polls", "CreatePoll", poll_body(gid))
    pid = created["data"]["ids"]["poll_id"]
    for client in (ca, cc):
        [ev] = await client.events("PollCreated", poll_id=pid)
        assert ev["data"]["options"] == [
            {"option_id": "o1", "text": "Pizza"},
            {"option_id": "o2", "text": "Sushi"},
        ]
        assert ev["data"]["multi_select"] is False and ev["data"]["creator_id"] == users[1][0]
    vote = {"poll_id": pid, "conversation_id": gid}
    r = await ca.ok("chat/polls/votes", "VotePoll", {**vote, "selected_option_ids": ["o1"]})
    assert r["data"]["counts"] == {"o1": 1, "o2": 0}
    for client in (cb, cc):
        await client.events("PollVoteUpdated", option_id="o1", vote_count=1, voter_id=users[0][0])
    r = await ca.ok("chat/polls/votes", "VotePoll", {**vote, "selected_option_ids": ["o2"]})
    assert r["data"]["counts"] == {"o1": 0, "o2": 1}  # replaced, not added
    await cc.events("PollVoteUpdated", option_id="o1", vote_count=0)
    await cc.events("PollVoteUpdated", option_id="o2", vote_count=1)
    two = await cc.request(
        "chat/polls/votes", "VotePoll", {**vote, "selected_option_ids": ["o1", "o2"]}
    )
    assert err(two) == ("validation_failed", "$.data.selected_option_ids")
    unknown = await cc.request(
        "chat/polls/votes", "VotePoll", {**vote, "selected_option_ids": ["o9"]}
    )
    assert err(unknown) == ("validation_failed", "$.data.selected_option_ids[0]")
    code, _ = err(
        await stranger.request(
            "chat/polls/votes", "VotePoll", {**vote, "selected_option_ids": ["o1"]}
        )
    )
    assert code == "not_found"
    code, _ = err(await stranger.request("chat/polls/status", "ClosePoll", vote))
    assert code == "not_found"
    # Only the creator or a group admin closes it (ca owns the group).
    code, _ = err(await cc.request("chat/polls/status", "ClosePoll", vote))
    assert code == "forbidden"
    closed = await ca.ok("chat/polls/status", "ClosePoll", vote)
    assert closed["data"]["closed_by"] == users[0][0]
    for client in (cb, cc):
        [ev] = await client.events("PollClosed", poll_id=pid)
        assert ev["data"]["final_results"] == [
            {"option_id": "o1", "text": "Pizza", "vote_count": 0},
            {"option_id": "o2", "text": "Sushi", "vote_count": 1},
        ]
    late = await cc.request("chat/polls/votes", "VotePoll", {**vote, "selected_option_ids": ["o1"]})
    assert err(late)[0] == "conflict"
    await cb.ok("chat/polls/status", "ClosePoll", vote)  # closed already: told again, no event
    assert len(await quiet(cc, "PollClosed")) == 1

    # Validation of the request.
    for bad, path in (
        (poll_body(gid, options=["only"]), "$.data.options"),
        (poll_body(gid, options=["a", ""]), "$.data.options[1]"),
        (poll_body(gid, question=""), "$.data.question"),
        (poll_body(gid, expires_at="2001-01-01T00:00:00Z"), "$.data.expires_at"),
        (poll_body(gid, expires_at="soon"), "$.data.expires_at"),
    ):
        assert err(await ca.request("chat/polls", "CreatePoll", bad)) == ("validation_failed", path)
    assert err(await stranger.request("chat/polls", "CreatePoll", poll_body(gid)))[0] == "not_found"

    # Multi select, and an empty choice withdraws a vote.
    multi = await ca.ok("chat/polls", "CreatePoll", poll_body(gid, multi_select=True))
    mvote = {"poll_id": multi["data"]["ids"]["poll_id"], "conversation_id": gid}
    r = await cb.ok("chat/polls/votes", "VotePoll", {**mvote, "selected_option_ids": ["o1", "o2"]})
    assert r["data"]["counts"] == {"o1": 1, "o2": 1}
    r = await cb.ok("chat/polls/votes", "VotePoll", {**mvote, "selected_option_ids": []})
    assert r["data"]["counts"] == {"o1": 0, "o2": 0}
    await cc.close()
    cc = await api.client(users[2])
    kinds = [c["type"] for c in await full_resume(cc) if c["channel"].startswith("chat/polls")]
    assert kinds.count("PollCreated") == 2 and kinds.count("PollClosed") == 1
    assert kinds.count("PollVoteUpdated") == 7
    assert not [f for f in stranger.frames if f.get("type", "").startswith("Poll")]
    await close_all(ca, cb, cc, stranger)


async def test_a_poll_closes_at_expires_at_even_across_a_restart(
    tmp_path: Path, backend: str
) -> None:
    srv = ServerProcess(tmp_path / "data").start()
    try:
        api = Api(srv)
        a, b = await api.user(2)
        cid = await api.direct(a[1], b[0])
        ca = await api.client(a)
        soon = iso(parse_iso(iso_now()) + 5000)
        created = await ca.ok("chat/polls", "CreatePoll", poll_body(cid, expires_at=soon))
        pid = created["data"]["ids"]["poll_id"]
        vote = {"poll_id": pid, "conversation_id": cid}
        await ca.ok("chat/polls/votes", "VotePoll", {**vote, "selected_option_ids": ["o2"]})
        srv.kill9()  # before it is due: only the durable timer can close it now
        await ca.wait_closed()
        await ca.close()
        await api.aclose()
        assert not [f for f in ca.frames if f.get("type") == "PollClosed"]
        srv.start()
        api = Api(srv)
        cb = await api.client(b)
        # Closed before b connected (then in its feed) or after (then pushed live).
        found = [c for c in await full_resume(cb) if c["type"] == "PollClosed"]
        ev = found[0] if found else (await cb.events("PollClosed", timeout=30, poll_id=pid))[0]
        assert ev["data"]["closed_by"] == "system"
        assert [r["vote_count"] for r in ev["data"]["final_results"]] == [0, 1]
        assert parse_iso(ev["data"]["closed_at"]) >= parse_iso(soon)
        late = await cb.request(
            "chat/polls/votes",
            "VotePoll",
            {"poll_id": pid, "conversation_id": cid, "selected_option_ids": ["o1"]},
        )
        assert err(late)[0] == "conflict"
        closes = [c for c in await full_resume(cb) if c["type"] == "PollClosed"]
        assert len(closes) == 1  # fired once
        await cb.close()
        await api.aclose()
    finally:
        srv.stop()


def iso_now() -> str:
    return iso(int(time.time() * 1000))


async def test_forwarding_rules_and_idempotency(api: Api) -> None:
    users, (ca, cb, cc), gid = await group_of(api, 3)
    a, b, c = users
    d = (await api.user(1))[0]
    dm = await api.direct(b[1], d[0])  # b forwards from the group into a chat with d
    cd = await api.client(d)
    sent = await ca.ok("chat/messages/ack", "SendChatMessageWithClientId", text(gid, "the plan"))
    mid = sent["data"]["message_id"]
    body = {"original_message_id": mid, "from_conversation_id": gid, "to_conversation_id": dm}
    r = await cb.ok("chat/forward", "ForwardMessage", {**body, "note": "fyi"})
    assert r["channel"] == "chat/forward/ack" and r["type"] == "ForwardMessageAck"
    assert r["data"]["status"] == "forwarded" and r["data"]["reason"] is None
    fid = r["data"]["forward_id"]
    [copy] = await cd.events("ChatMessageReceived", message_id=fid)
    got = copy["data"]
    assert (got["content"], got["forwarded"], got["note"], got["sender_id"]) == (
        "the plan",
        True,
        "fyi",
        b[0],
    )
    [note] = await cd.events("MessageForwarded", forward_id=fid)
    assert note["data"]["original_message_id"] == mid and note["data"]["forwarded_by"] == b[0]
    assert note["data"]["from_conversation_id"] == gid and note["data"]["to_conversation_id"] == dm
    again = await cb.ok("chat/forward", "ForwardMessage", body)  # a retry
    assert again["data"]["forward_id"] == fid
    assert len(await quiet(cd, "MessageForwarded")) == 1
    assert not [f for f in cc.frames if f.get("type") == "MessageForwarded"]  # not in the target
    # d cannot forward from a group it is not in; b cannot forward into a chat it is not in.
    code, _ = err(
        await cd.request("chat/forward", "ForwardMessage", {**body, "to_conversation_id": dm})
    )
    assert code == "not_found"
    other = await api.direct(a[1], c[0])
    code, _ = err(
        await cb.request("chat/forward", "ForwardMessage", {**body, "to_conversation_id": other})
    )
    assert code == "not_found"
    # Encrypted and self-destructing messages are refused with a reason.
    e2e = await ca.ok(
        "chat/messages",
        "SendEncryptedMessage",
        {
            "conversation_id": gid,
            "ciphertext": "Y2k=",
            "nonce": "bg==",
            "algorithm": "AES-GCM",
            "key_id": "k",
        },
    )
    burn = await ca.ok(
        "chat/messages/ack",
        "SendChatMessageWithClientId",
        text(gid, "burn", self_destruct=True, ttl_seconds=3600),
    )
    for original, why in (
        (e2e["data"]["ids"]["message_id"], "end_to_end"),
        (burn["data"]["message_id"], "self_destruct"),
    ):
        rej = await cb.ok(
            "chat/forward", "ForwardMessage", {**body, "original_message_id": original}
        )
        assert rej["data"]["status"] == "rejected" and rej["data"]["reason"].startswith(why)
        assert rej["data"]["forward_id"] is None
    long = await cb.request("chat/forward", "ForwardMessage", {**body, "note": "x" * 1001})
    assert err(long) == ("validation_failed", "$.data.note")
    # Stickers forward as stickers; the target's resume has the copy and the note.
    st = await ca.ok(
        "chat/stickers",
        "SendStickerMessage",
        {
            "conversation_id": gid,
            "sticker_id": "s9",
            "sticker_pack_id": "p",
            "client_message_id": "s9",
        },
    )
    fs = await cb.ok(
        "chat/forward",
        "ForwardMessage",
        {**body, "original_message_id": st["data"]["ids"]["message_id"]},
    )
    [stk] = await cd.events("StickerMessageReceived", message_id=fs["data"]["forward_id"])
    assert stk["data"]["sticker_id"] == "s9" and stk["data"]["forwarded"] is True
    await cd.close()
    cd = await api.client(d)
    kinds = [ch["type"] for ch in await full_resume(cd)]
    assert kinds.count("MessageForwarded") == 2 and "the plan" in str(await full_resume(cd))
    await close_all(ca, cb, cc, cd)


def later(ms: int) -> str:
    return iso(int(time.time() * 1000) + ms)


async def test_group_events_versions_rsvps_and_idempotency(api: Api) -> None:
    users, (ca, cb, cc), gid = await group_of(api, 3)
    stranger = await api.client((await api.user(1))[0])
    _a, b, c = users
    start = later(86_400_000)
    body = {
        "group_id": gid,
        "title": "Offsite",
        "start_time": start,
        "location": "Lisbon",
        "request_id": "e-1",
    }
    made = await cb.ok("group/events", "UpsertGroupEvent", body)
    assert made["channel"] == "group/events/ack" and made["type"] == "GroupEventAck"
    assert made["data"]["status"] == "created" and made["data"]["current_version"] == 1
    eid = made["data"]["event_id"]
    for client in (ca, cc):
        [ev] = await client.events("GroupEventUpdated", event_id=eid)
        assert ev["data"]["organizer_id"] == b[0] and ev["data"]["version"] == 1
        assert (
            ev["data"]["start_time"] == iso(parse_iso(start)) and ev["data"]["location"] == "Lisbon"
        )
    retry = await cb.ok("group/events", "UpsertGroupEvent", body)
    assert retry["data"] == made["data"]
    assert len(await quiet(ca, "GroupEventUpdated")) == 1  # the retry created nothing

    upd = {
        **body,
        "event_id": eid,
        "title": "Offsite (moved)",
        "expected_version": 1,
        "request_id": "e-2",
    }
    r = await ca.ok("group/events", "UpsertGroupEvent", upd)  # ca owns the group
    assert r["data"]["status"] == "updated" and r["data"]["current_version"] == 2
    await cc.events("GroupEventUpdated", event_id=eid, version=2, title="Offsite (moved)")
    stale = await cb.ok(
        "group/events", "UpsertGroupEvent", {**upd, "title": "x", "request_id": "e-3"}
    )
    assert stale["data"]["status"] == "conflict" and stale["data"]["current_version"] == 2
    assert not await quiet(cc, "GroupEventUpdated", title="x")
    code, _ = err(
        await cc.request(
            "group/events", "UpsertGroupEvent", {**upd, "expected_version": 2, "request_id": "e-4"}
        )
    )
    assert code == "forbidden"  # neither organizer nor admin
    no_version = {**upd, "expected_version": None, "request_id": "e-5"}
    assert err(await cb.request("group/events", "UpsertGroupEvent", no_version)) == (
        "validation_failed",
        "$.data.expected_version",
    )
    for bad, path in (
        ({**body, "title": "", "request_id": "v1"}, "$.data.title"),
        ({**body, "start_time": "tomorrow", "request_id": "v2"}, "$.data.start_time"),
        ({**body, "end_time": "2001-01-01T00:00:00Z", "request_id": "v3"}, "$.data.end_time"),
    ):
        assert err(await cb.request("group/events", "UpsertGroupEvent", bad)) == (
            "validation_failed",
            path,
        )
    for req in (
        ("group/events", "UpsertGroupEvent", {**body, "request_id": "s1"}),
        (
            "group/events/rsvp",
            "SetGroupEventRsvp",
            {"event_id": eid, "group_id": gid, "status": "going"},
        ),
        ("group/events/ack", "DeleteGroupEvent", {"event_id": eid, "group_id": gid}),
    ):
        assert err(await stranger.request(*req))[0] == "not_found"

    rs = await cc.ok(
        "group/events/rsvp",
        "SetGroupEventRsvp",
        {"event_id": eid, "group_id": gid, "status": "maybe"},
    )
    assert rs["data"]["changed"] is True
    for client in (ca, cb):
        await client.events("GroupEventRsvpUpdated", event_id=eid, user_id=c[0], status="maybe")
    same = await cc.ok(
        "group/events/rsvp",
        "SetGroupEventRsvp",
        {"event_id": eid, "group_id": gid, "status": "maybe"},
    )
    assert same["data"]["changed"] is False
    bad = await cc.request(
        "group/events/rsvp",
        "SetGroupEventRsvp",
        {"event_id": eid, "group_id": gid, "status": "yes!"},
    )
    assert err(bad) == ("validation_failed", "$.data.status")

    gone = await cb.ok(
        "group/events/ack",
        "DeleteGroupEvent",
        {"event_id": eid, "group_id": gid, "request_id": "d-1"},
    )
    assert gone["data"]["status"] == "deleted"
    await cc.events("GroupEventDeleted", event_id=eid, deleted_by=b[0])
    again = await cb.ok(
        "group/events/ack",
        "DeleteGroupEvent",
        {"event_id": eid, "group_id": gid, "request_id": "d-1"},
    )
    assert again["data"] == gone["data"]  # a retry: the first answer
    after = await cc.request(
        "group/events/rsvp",
        "SetGroupEventRsvp",
        {"event_id": eid, "group_id": gid, "status": "going"},
    )
    assert err(after)[0] == "not_found"
    await cc.close()
    cc = await api.client(c)
    kinds = [ch["type"] for ch in await full_resume(cc) if ch["channel"].startswith("group/events")]
    assert kinds == [
        "GroupEventUpdated",
        "GroupEventUpdated",
        "GroupEventRsvpUpdated",
        "GroupEventDeleted",
    ]
    assert not [f for f in stranger.frames if f.get("type", "").startswith("GroupEvent")]
    await close_all(ca, cb, cc, stranger)


async def test_group_event_reminder_fires_once_for_its_member_across_a_restart(
    tmp_path: Path, backend: str
) -> None:
    srv = ServerProcess(tmp_path / "data").start()
    try:
        api = Api(srv)
        users, (ca, cb, cc), gid = await group_of(api, 3)
        made = await ca.ok(
            "group/events",
            "UpsertGroupEvent",
            {"group_id": gid, "title": "Standup", "start_time": later(3_600_000)},
        )
        eid = made["data"]["event_id"]
        rem = {"event_id": eid, "group_id": gid}
        past = await cb.request(
            "group/events/reminders",
            "SetGroupEventReminder",
            {**rem, "reminder_time": "2001-01-01T00:00:00Z"},
        )
        assert err(past) == ("validation_failed", "$.data.reminder_time")
        await cb.ok(
            "group/events/reminders",
            "SetGroupEventReminder",
            {**rem, "reminder_time": later(3_600_000)},
        )
        at = later(5000)
        r = await cb.ok(
            "group/events/reminders", "SetGroupEventReminder", {**rem, "reminder_time": at}
        )  # replaces
        assert r["data"]["reminder_time"] == iso(parse_iso(at))
        srv.kill9()  # before it is due
        for client in (ca, cb, cc):
            await client.wait_closed()
            await client.close()
        assert not [f for f in cb.frames if f.get("type") == "GroupEventReminder"]
        await api.aclose()
        srv.start()
        api = Api(srv)
        cb = await api.client(users[1])
        found = [ch for ch in await full_resume(cb) if ch["type"] == "GroupEventReminder"]
        ev = (
            found[0]
            if found
            else (await cb.events("GroupEventReminder", timeout=30, event_id=eid))[0]
        )
        assert ev["data"]["title"] == "Standup" and ev["data"]["reminder_time"] == iso(
            parse_iso(at)
        )
        assert ev["channel"] == "group/events/reminders"
        ca = await api.client(users[0])
        assert not [ch for ch in await full_resume(ca) if ch["type"] == "GroupEventReminder"]
        assert len([ch for ch in await full_resume(cb) if ch["type"] == "GroupEventReminder"]) == 1
        await close_all(ca, cb)
        await api.aclose()
    finally:
        srv.stop()
