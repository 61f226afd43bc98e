"""Live revocation: what a user loses must stop reaching them at once.

- Logout (`POST /v1/auth/logout` with the token a connection used): every
  live connection on that token is closed with 4401, no event committed after
  the logout reaches it, and the token is refused everywhere after (REST, /ws
  header, /ws `Authenticate` frame). Connections racing the logout never
  outlive it. The user's other tokens keep working.
- Token revocation (`DELETE /v1/auth/tokens/{token_id}` from another of the
  user's devices) and password change (`POST /v1/auth/password`, which signs
  out every other device): the same, for the revoked tokens only.
- Leaving a group: no event of the group (messages, receipts of the leaver's
  own old messages, membership changes) nor of its members met only there
  (keys, profile, presence) reaches any of the leaver's devices; the other
  members keep receiving; the leaver's next send, receipt or leave is
  `not_found`; messages racing the leave reach the leaver only if committed
  before it.
- Blocking (`PUT /v1/users/{id}/block`): no further event of the blocker
  (profile, keys, presence, messages, calls) reaches any device of the
  blocked user, live or in its feed, and none of the blocked user's reaches
  the blocker; the blocked user's next send, receipt or call to the blocker
  is `not_found`, the blocker's own sends to it `forbidden`; a third contact
  keeps receiving everything.
- Across nodes (PostgreSQL + NATS): a token revoked through one node closes
  its connections on another; a block made through one node is enforced on
  another within 1 s, and nothing the blocker does after that reaches the
  blocked user on any node.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus

from tests.reliability.conftest import Figure, scale
from tests.support import Api, Client, ProtocolError, ServerProcess

User = tuple[str, str, str]
PASSWORD = "correct horse battery"
SEND_TEXT = ("chat/messages/ack", "SendChatMessageWithClientId")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def text(cid: str, content: str = "hi") -> dict[str, Any]:
    cmid = "c-" + secrets.token_hex(6)
    return {"client_message_id": cmid, "conversation_id": cid, "content": content}


def enc(cid: str) -> dict[str, Any]:
    return {
        "conversation_id": cid,
        "ciphertext": "Y2lwaGVy",
        "nonce": "bm9uY2U=",
        "algorithm": "AES-GCM",
        "key_id": "k1",
    }


async def within(c: Client, pred: Callable[[dict[str, Any]], bool], seconds: float) -> list[Any]:
    """Frames matching `pred` after waiting up to `seconds` for one (the one bounded wait
    for something that must not come); a closed connection can get nothing more."""
    try:
        await c.wait_for(pred, seconds)
    except (TimeoutError, ProtocolError):
        pass
    return [f for f in c.frames if pred(f)]


async def login(api: Api, username: str, device: str) -> str:
    r = await api.http.post(
        "/v1/auth/login", json={"username": username, "password": PASSWORD, "device_id": device}
    )
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


async def frame_auth(api: Api, user: User, token: str, device: str) -> Client:
    """A connection authenticated by an `Authenticate` frame, as browsers do."""
    c = Client(api.server, user[0], token, device)
    await c.connect(header_auth=False)
    reply = await c.request("", "Authenticate", {"token": token, "device_id": device})
    assert reply["type"] == "Authenticated", reply
    return c


async def refused_everywhere(api: Api, user: User, token: str) -> list[str]:
    """Every way of using `token`; returns the ones that were not refused."""
    accepted = []
    for method, path, body in (
        ("GET", "/v1/conversations", None),
        ("GET", f"/v1/users/{user[0]}", None),
        ("POST", "/v1/conversations/direct", {"user_id": user[0]}),
        ("POST", "/v1/auth/logout", None),
    ):
        r = await api.http.request(method, path, json=body, headers=bearer(token))
        if r.status_code != 401 or r.json()["error"]["code"] != "unauthorized":
            accepted.append(f"{method} {path}: {r.status_code}")
    header = Client(api.server, user[0], token, "again")
    await header.connect(wait_ready=False)
    err = await header.wait_for(lambda f: f.get("type") in ("Error", "Authenticated"))
    if err["type"] != "Error" or (await header.wait_closed())[0] != 4401:
        accepted.append(f"/ws header: {err}")
    await header.close()
    framed = Client(api.server, user[0], token, "again")
    await framed.connect(header_auth=False)
    reply = await framed.request("", "Authenticate", {"token": token})
    if reply["type"] != "Error" or (await framed.wait_closed())[0] != 4401:
        accepted.append(f"/ws Authenticate: {reply}")
    await framed.close()
    return accepted


async def token_id_of(api: Api, token: str) -> str:
    r = await api.http.get("/v1/auth/tokens", headers=bearer(token))
    assert r.status_code == 200, r.text
    [current] = [t for t in r.json() if t["current"]]
    return str(current["token_id"])


async def by_logout(api: Api, _user: User, token: str, _other: str) -> int:
    return (await api.http.post("/v1/auth/logout", headers=bearer(token))).status_code


async def by_token_id(api: Api, _user: User, token: str, other: str) -> int:
    """Sign the device out from another device, as a user who lost a phone would."""
    tid = await token_id_of(api, token)
    r = await api.http.delete(f"/v1/auth/tokens/{tid}", headers=bearer(other))
    listed = await api.http.get("/v1/auth/tokens", headers=bearer(other))
    assert tid not in {t["token_id"] for t in listed.json()}
    return r.status_code


async def by_password_change(api: Api, _user: User, _token: str, other: str) -> int:
    """Change the password on another device: every device but that one is signed out."""
    r = await api.http.post(
        "/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "a brand new horse"},
        headers=bearer(other),
    )
    return r.status_code


# (api, user, the token to revoke, another token of the user) -> HTTP status
Revoke = Callable[[Api, User, str, str], Awaitable[int]]
REVOCATIONS: dict[str, tuple[str, Revoke]] = {
    "logout": ("logout (POST /v1/auth/logout with the token)", by_logout),
    "token": ("DELETE /v1/auth/tokens/{id} from another device", by_token_id),
    "password": ("password change on another device", by_password_change),
}


@pytest.mark.parametrize("how", list(REVOCATIONS))
async def test_revocation_cuts_live_connections_and_refuses_the_token(
    api: Api, figure: Figure, how: str
) -> None:
    what, revoke = REVOCATIONS[how]
    user, peer = await api.user(2)
    uid, token, username = user
    other_token = await login(api, username, "other")
    dm = await api.direct(token, peer[0])
    p = await api.client(peer)
    g = await p.ok("chat/groups", "CreateGroup", {"name": "revocation", "member_ids": [uid]})
    gid = g["data"]["group_id"]
    by_header = await api.client(user, "dev-a")
    by_frame = await frame_auth(api, user, token, "dev-b")
    kept = await Client(api.server, uid, other_token, "other").connect()
    revoked = (by_header, by_frame)
    try:
        before = await p.ok("chat/messages/ack", "SendChatMessageWithClientId", text(dm))
        for c in (*revoked, kept):  # all three were live
            await c.events("ChatMessageReceived", message_id=before["data"]["message_id"])

        assert await revoke(api, user, token, other_token) == 204
        codes = [(await c.wait_closed())[0] for c in revoked]

        after: list[str] = []
        for i in range(scale(10, 200)):
            cid = dm if i % 2 else gid
            reply = await p.ok("chat/messages/ack", "SendChatMessageWithClientId", text(cid))
            after.append(reply["data"]["message_id"])
        posted = set(after)
        got = await kept.events("ChatMessageReceived", len(after) + 1)  # `before` too
        assert [f["data"]["message_id"] for f in got][1:] == after
        leaked = []
        for c in revoked:
            leaked += await within(c, lambda f: f.get("data", {}).get("message_id") in posted, 1.0)
        not_refused = await refused_everywhere(api, user, token)
        await kept.ok("sync/request", "SyncRequest", {"request_id": "still-served"})
        assert kept.closed is None
    finally:
        for c in (*revoked, kept, p):
            await c.close()

    figure(
        "revocation_logout" if how == "logout" else f"revocation_{how}",
        f"{what} while 2 connections (header auth, Authenticate frame) use the token and "
        "another token of the same user stays connected; then messages to a direct chat "
        "and a group; then every use of the revoked token",
        f"{len(leaked)} events leaked after revocation; closes {codes}; "
        f"{len(not_refused)} uses of the revoked token accepted",
        events_leaked=len(leaked),
        events_after=len(after),
        revoked_connections=len(revoked),
        not_closed_4401=sum(code != 4401 for code in codes),
        token_uses_accepted=len(not_refused),
    )
    assert codes == [4401, 4401]
    assert leaked == []
    assert not_refused == []


@pytest.mark.parametrize("how", ["logout", "token"])
async def test_connections_racing_a_revocation_do_not_outlive_it(
    api: Api, figure: Figure, how: str
) -> None:
    """Connect with a token while it is being revoked: each connection is refused or cut."""
    what = REVOCATIONS[how][0]
    rounds, per_round = scale(5, 50), 8
    survivors = 0
    leaked = 0
    outcomes: dict[str, int] = {}
    peer = await api.register()
    p = await api.client(peer)
    try:
        for _ in range(rounds):
            user = await api.register()
            other = await login(api, user[2], "manager")
            dm = await api.direct(user[1], peer[0])

            async def attempt(user: User = user) -> Client | None:
                c = Client(api.server, user[0], user[1], "race-" + secrets.token_hex(3))
                try:
                    await c.connect(wait_ready=False)
                except InvalidStatus:
                    return None
                return c

            if how == "logout":
                revoke = api.http.post("/v1/auth/logout", headers=bearer(user[1]))
            else:  # looked up first, so only the DELETE races the connections
                tid = await token_id_of(api, user[1])
                revoke = api.http.delete(f"/v1/auth/tokens/{tid}", headers=bearer(other))
            results = await asyncio.gather(*(attempt() for _ in range(per_round)), revoke)
            assert results[-1].status_code == 204
            clients = [c for c in results[:-1] if isinstance(c, Client)]
            alive = []
            for c in clients:
                try:
                    code = (await c.wait_closed(5.0))[0]
                    authed = any(f.get("type") == "Authenticated" for f in c.frames)
                    key = f"{'cut' if authed else 'refused'} {code}"
                    outcomes[key] = outcomes.get(key, 0) + 1
                except TimeoutError:
                    alive.append(c)
            survivors += len(alive)
            if alive:
                m = await p.ok("chat/messages/ack", "SendChatMessageWithClientId", text(dm))
                mid = m["data"]["message_id"]
                for c in alive:
                    leaked += len(await within(c, about(mid), 1.0))
            for c in clients:
                await c.close()
    finally:
        await p.close()
    figure(
        f"revocation_{how}_race",
        f"{rounds} rounds of {per_round} /ws connections opened with a token concurrently "
        f"with its revocation by {what}",
        f"{survivors} connections outlived the revocation, {leaked} events leaked to them",
        rounds=rounds,
        connections=rounds * per_round,
        survivors=survivors,
        events_leaked=leaked,
        outcomes=json.dumps(outcomes, sort_keys=True),
    )
    assert survivors == 0
    assert leaked == 0


def about(message_id: str) -> Callable[[dict[str, Any]], bool]:
    return lambda f: (f.get("data") or {}).get("message_id") == message_id


def mentions(ids: set[str]) -> Callable[[dict[str, Any]], bool]:
    def pred(f: dict[str, Any]) -> bool:
        data = f.get("data") or {}
        return any(
            data.get(k) in ids
            for k in ("conversation_id", "group_id", "sender_id", "user_id", "from_user_id")
        )

    return pred


async def test_leaving_a_group_stops_its_events_on_every_device(api: Api, figure: Figure) -> None:
    owner_u, member_u, second_u, leaver_u = await api.user(4)
    owner = await api.client(owner_u)
    member = await api.client(member_u)
    second = await api.client(second_u)
    l1, l2 = await api.client(leaver_u, "leaver-1"), await api.client(leaver_u, "leaver-2")
    leaver = (l1, l2)
    g = await owner.ok(
        "chat/groups",
        "CreateGroup",
        {"name": "leaving", "member_ids": [member_u[0], second_u[0], leaver_u[0]]},
    )
    gid = g["data"]["group_id"]
    try:
        # Before: the leaver's devices get the group's traffic, and send to it.
        hello = await owner.ok("chat/messages/ack", "SendChatMessageWithClientId", text(gid))
        own = await l1.ok("chat/messages", "SendEncryptedMessage", enc(gid))
        own_id = own["data"]["ids"]["message_id"]
        for c in leaver:
            await c.events("ChatMessageReceived", message_id=hello["data"]["message_id"])
        await member.events("EncryptedMessageReceived", message_id=own_id)

        await l1.ok("group/membership", "LeaveGroup", {"group_id": gid})
        leave = await l2.wait_for(lambda f: f["type"] == "LeaveGroupAck" and "seq" in f)
        marks = [len(c.frames) for c in leaver]

        # After: every kind of group event, and the members' own events.
        sent = await owner.ok("chat/messages/ack", "SendChatMessageWithClientId", text(gid))
        e2e = await member.ok("chat/messages", "SendEncryptedMessage", enc(gid))
        await member.ok(  # a receipt for the leaver's own old message
            "chat/acks",
            "SendEncryptedAck",
            {"message_id": own_id, "conversation_id": gid, "status": "read"},
        )
        await member.ok(
            "crypto/keys",
            "PublishPublicKey",
            {"key_id": "m1", "public_key": "cHVi", "algorithm": "X25519"},
        )
        await member.ok("profile/info-text", "UpdateProfileInfoText", {"info_text": "busy"})
        await second.close()  # presence: offline, then online again, to its contacts
        await owner.events("PresenceStatusUpdated", user_id=second_u[0], status="offline")
        second = await api.client(second_u)
        await second.ok("group/membership", "LeaveGroup", {"group_id": gid})
        # Nor can the members still ring the leaver, met only in the group.
        ring = await owner.request(
            "call/signaling",
            "SendCallSignal",
            {"call_id": "c1", "to_user_id": leaver_u[0], "type": "offer"},
        )

        # The others keep receiving.
        await member.events("ChatMessageReceived", message_id=sent["data"]["message_id"])
        await owner.events("EncryptedMessageReceived", message_id=e2e["data"]["ids"]["message_id"])
        await owner.events("PublicKeyReceived", user_id=member_u[0])
        await owner.events("ProfileInfoTextUpdated", user_id=member_u[0])
        await owner.events("LeaveGroupAck", user_id=second_u[0])
        await owner.events("PresenceStatusUpdated", user_id=second_u[0], status="online")

        pred = mentions({gid, owner_u[0], member_u[0], second_u[0]})
        leaked = []
        for c, mark in zip(leaver, marks, strict=True):
            await within(c, lambda f, c=c, mark=mark: pred(f) and c.frames.index(f) >= mark, 1.0)
            leaked += [f for f in c.frames[mark:] if pred(f)]

        # The leaver's next actions on the group are refused like any unknown id.
        refused = [
            await l1.request("chat/messages/ack", "SendChatMessageWithClientId", text(gid)),
            await l2.request("chat/messages", "SendEncryptedMessage", enc(gid)),
            await l1.request(
                "chat/acks",
                "SendEncryptedAck",
                {"message_id": sent["data"]["message_id"], "conversation_id": gid},
            ),
            await l2.request("group/membership", "LeaveGroup", {"group_id": gid}),
        ]
        not_refused = [r for r in [*refused, ring] if r["data"].get("code") != "not_found"]
        sync = await l1.ok("sync/request", "SyncRequest", {"full_sync": True})
        late = [c for c in sync["data"]["changes"] if pred(c) and c["seq"] > leave["seq"]]
    finally:
        for c in (owner, member, second, *leaver):
            await c.close()

    figure(
        "revocation_leave_group",
        "a member with 2 devices leaves a group; then messages (plaintext, E2E), a receipt "
        "for the leaver's own message, another member's leave, key, profile and presence "
        "of members met only there",
        f"{len(leaked)} events leaked to the leaver's devices, {len(late)} in its feed; "
        f"{len(not_refused)} of 5 next actions (4 by the leaver, a call to it) not refused",
        events_leaked=len(leaked),
        feed_leaked=len(late),
        devices=2,
        next_actions_accepted=len(not_refused),
    )
    assert leaked == []
    assert late == []
    assert not_refused == []


async def test_messages_racing_a_leave_reach_the_leaver_only_if_committed_before(
    api: Api, figure: Figure
) -> None:
    rounds, burst = scale(5, 40), range(20)
    missing = total = 0
    left_at: dict[str, int] = {}  # group -> seq of the leave
    sent_at: dict[str, int] = {}  # message -> seq
    owner_u, member_u, leaver_u = await api.user(3)
    owner, member = await api.client(owner_u), await api.client(member_u)
    leaver = await api.client(leaver_u)
    try:
        for _ in range(rounds):
            # A fresh connection per round: 21 frames a round back to back would
            # exceed one connection's rate limit (50/s, burst 200) over 40 rounds.
            await owner.close()
            owner = await api.client(owner_u)
            g = await owner.ok(
                "chat/groups",
                "CreateGroup",
                {"name": "race", "member_ids": [member_u[0], leaver_u[0]]},
            )
            gid = g["data"]["group_id"]
            [created] = await leaver.events("GroupCreated", group_id=gid)
            results = await asyncio.gather(
                leaver.request("group/membership", "LeaveGroup", {"group_id": gid}),
                *(owner.request("chat/messages", "SendEncryptedMessage", enc(gid)) for _ in burst),
            )
            assert all(r["type"] != "Error" for r in results), results
            seqs = {r["data"]["ids"]["message_id"]: r["data"]["seq"] for r in results[1:]}
            sent_at.update(seqs)
            total += len(seqs)
            leave = await leaver.wait_for(
                lambda f, gid=gid: (
                    f["type"] == "LeaveGroupAck" and "seq" in f and f["data"]["group_id"] == gid
                )
            )
            left_at[gid] = leave["seq"]
            await member.events("EncryptedMessageReceived", len(seqs), conversation_id=gid)
            # Committed before the leave: in the leaver's feed (delivery is at least once).
            sync = await leaver.ok(
                "sync/request", "SyncRequest", {"since_sequence": created["seq"] - 1}
            )
            in_feed = {c["data"].get("message_id") for c in sync["data"]["changes"]}
            missing += sum(1 for m, s in seqs.items() if s < leave["seq"] and m not in in_feed)

        def late(f: dict[str, Any]) -> bool:
            gid = (f.get("data") or {}).get("conversation_id")
            return f["type"] == "EncryptedMessageReceived" and f["seq"] > left_at.get(gid, 1 << 62)

        # Every member got every message above; one bounded wait for stragglers.
        leaked = await within(leaver, late, 1.0)
    finally:
        for c in (owner, member, leaver):
            await c.close()
    assert all(sent_at[f["data"]["message_id"]] == f["seq"] for f in leaked)
    figure(
        "revocation_leave_race",
        f"{rounds} rounds: a leave racing a burst of {len(burst)} E2E messages to the group",
        f"{len(leaked)} messages committed after the leave reached the leaver live; "
        f"{missing} committed before it missing from its feed",
        rounds=rounds,
        messages=total,
        events_leaked=len(leaked),
        missing_before_leave=missing,
    )
    assert leaked == []
    assert missing == 0


def by_user(uid: str) -> Callable[[dict[str, Any]], bool]:
    """Frames about something `uid` did: a message, receipt, profile, key, presence, call."""

    def pred(f: dict[str, Any]) -> bool:
        data = f.get("data") or {}
        return uid in (data.get("sender_id"), data.get("user_id"), data.get("from_user_id"))

    return pred


def ring(to: str) -> dict[str, Any]:
    return {"call_id": "call-" + secrets.token_hex(4), "to_user_id": to, "type": "offer"}


async def test_block_stops_the_blockers_events_and_refuses_the_blocked(
    api: Api, figure: Figure
) -> None:
    blocker_u, blocked_u, third_u = await api.user(3)
    a_id, b_id = blocker_u[0], blocked_u[0]
    dm = await api.direct(blocker_u[1], b_id)
    ac, bc = await api.direct(blocker_u[1], third_u[0]), await api.direct(blocked_u[1], third_u[0])
    third = await api.client(third_u)
    b1, b2 = await api.client(blocked_u, "blocked-1"), await api.client(blocked_u, "blocked-2")
    a1, a2 = await api.client(blocker_u, "blocker-1"), await api.client(blocker_u, "blocker-2")
    blocked, blocker_before = (b1, b2), (a1, a2)
    try:
        # Before: each side gets the other's messages and presence.
        hello = await a1.ok("chat/messages/ack", "SendChatMessageWithClientId", text(dm))
        yo = await b1.ok("chat/messages/ack", "SendChatMessageWithClientId", text(dm))
        for c in blocked:
            [got] = await c.events("ChatMessageReceived", message_id=hello["data"]["message_id"])
        await a1.events("ChatMessageReceived", message_id=yo["data"]["message_id"])
        hello_seq = got["seq"]

        r = await api.http.put(f"/v1/users/{b_id}/block", headers=bearer(blocker_u[1]))
        assert r.status_code == 204
        marks = [len(c.frames) for c in (*blocked, *blocker_before)]

        # After: everything the blocker can do ...
        yo_ack = {"message_id": yo["data"]["message_id"], "conversation_id": dm, "status": "read"}
        blocker_tries = [
            await a1.request("chat/messages/ack", "SendChatMessageWithClientId", text(dm)),
            await a2.request("chat/messages", "SendEncryptedMessage", enc(dm)),
            await a1.request("chat/acks", "SendEncryptedAck", yo_ack),
            await a2.request("call/signaling", "SendCallSignal", ring(b_id)),
        ]
        await a1.ok("profile/info-text", "UpdateProfileInfoText", {"info_text": "blocked you"})
        await a2.ok(
            "crypto/keys",
            "PublishPublicKey",
            {"key_id": "after-block", "public_key": "cHVi", "algorithm": "X25519"},
        )
        for c in blocker_before:  # presence: offline, then online again
            await c.close()
        await third.events("PresenceStatusUpdated", user_id=a_id, status="offline")
        a3 = await api.client(blocker_u, "blocker-1")
        await third.events("PresenceStatusUpdated", 2, user_id=a_id, status="online")

        # ... and the blocked user's next actions: answered as for a stranger's ids.
        hello_ack = {"message_id": hello["data"]["message_id"], "conversation_id": dm}
        as_stranger = {
            "conversation": await b1.request(
                "chat/messages/ack", "SendChatMessageWithClientId", text(str(uuid.uuid4()))
            ),
            "user": await b1.request("call/signal", "SendCallSignal", ring(str(uuid.uuid4()))),
        }
        blocked_tries = [
            ("conversation", await b1.request(*SEND_TEXT, text(dm))),
            ("conversation", await b2.request("chat/messages", "SendEncryptedMessage", enc(dm))),
            ("conversation", await b1.request("chat/acks", "SendEncryptedAck", hello_ack)),
            ("user", await b2.request("call/signal", "SendCallSignal", ring(a_id))),
        ]
        await b1.ok("profile/info-text", "UpdateProfileInfoText", {"info_text": "who blocked me"})

        # The third contact got the events of both, so they happened; its
        # messages, published after all of them, reach both sides last.
        await third.events("ProfileInfoTextUpdated", user_id=a_id)
        await third.events("PublicKeyReceived", user_id=a_id, key_id="after-block")
        await third.events("ProfileInfoTextUpdated", user_id=b_id)
        for cid, targets in ((bc, blocked), (ac, (a3,))):
            m = await third.ok("chat/messages/ack", "SendChatMessageWithClientId", text(cid))
            for c in targets:
                await c.events("ChatMessageReceived", message_id=m["data"]["message_id"])

        from_a, from_b = by_user(a_id), by_user(b_id)
        leaked = []
        for c, mark in zip(blocked, marks[:2], strict=True):
            await within(c, lambda f, c=c, mark=mark: from_a(f) and c.frames.index(f) >= mark, 1.0)
            leaked += [f for f in c.frames[mark:] if from_a(f)]
        for c, mark in zip(blocker_before, marks[2:], strict=True):
            leaked += [f for f in c.frames[mark:] if from_b(f)]
        leaked += await within(a3, from_b, 1.0)
        sync = await b1.ok("sync/request", "SyncRequest", {"full_sync": True})
        late = [x for x in sync["data"]["changes"] if from_a(x) and x["seq"] > hello_seq]

        not_refused = [r["data"] for r in blocker_tries[:3] if r["data"].get("code") != "forbidden"]
        if blocker_tries[3]["data"] != as_stranger["user"]["data"]:
            not_refused.append(blocker_tries[3]["data"])
        not_refused += [r["data"] for k, r in blocked_tries if r["data"] != as_stranger[k]["data"]]
    finally:
        for c in (third, *blocked, *blocker_before):
            await c.close()
        if "a3" in locals():
            await a3.close()

    figure(
        "revocation_block",
        "A blocks B (2 devices each, a third contact of both); then A writes to the direct "
        "chat, acks, rings B, changes profile and key, goes offline and online; B writes, "
        "acks, rings A, changes profile",
        f"{len(leaked)} events leaked across the block live, {len(late)} in B's feed; "
        f"{len(not_refused)} of 8 next actions not refused",
        events_leaked=len(leaked),
        feed_leaked=len(late),
        next_actions_accepted=len(not_refused),
    )
    assert leaked == []
    assert late == []
    assert not_refused == []


@pytest.fixture
def two_nodes(tmp_path: Path, pg_url: str, jetstream_url: str) -> Iterator[list[ServerProcess]]:
    """Two nodes sharing one PostgreSQL database and one NATS (skipped without them)."""
    env = {"HUBBUB_NATS_PREFIX": "hubbub_t_" + secrets.token_hex(4)}
    nodes = []
    try:
        for i in range(2):
            extra = {**env, "HUBBUB_NODE_ID": f"n{i}"}
            node = ServerProcess(
                tmp_path / f"n{i}", database_url=pg_url, nats_url=jetstream_url, extra_env=extra
            )
            nodes.append(node.start())
        yield nodes
    finally:
        for n in nodes:
            n.stop()


async def test_token_revocation_and_block_take_effect_on_every_node(
    two_nodes: list[ServerProcess], figure: Figure
) -> None:
    n0, n1 = two_nodes
    api0, api1 = Api(n0), Api(n1)
    clients: list[Client] = []

    async def connect(node: ServerProcess, user: User, device: str) -> Client:
        c = await Client(node, user[0], user[1], device).connect()
        clients.append(c)
        return c

    try:
        # A token revoked through node 0 while a device uses it on node 1.
        user = await api0.register()
        manager = await login(api0, user[2], "manager")
        far = await connect(n1, user, "far")
        tid = await token_id_of(api0, user[1])
        r = await api0.http.delete(f"/v1/auth/tokens/{tid}", headers=bearer(manager))
        assert r.status_code == 204
        token_close = (await far.wait_closed())[0]
        not_refused = await refused_everywhere(api1, user, user[1])

        # A blocks B through node 0; A's device on node 1 keeps trying to write.
        a, b, c = await api0.user(3)
        dm = await api0.direct(a[1], b[0])
        bc = await api0.direct(b[1], c[0])
        a_far = await connect(n1, a, "a-far")
        b_near, b_far = await connect(n0, b, "b-near"), await connect(n1, b, "b-far")
        c_near = await connect(n0, c, "c-near")
        warm = await a_far.ok(*SEND_TEXT, text(dm))  # node 1 now caches the chat as usable
        for x in (b_near, b_far):
            await x.events("ChatMessageReceived", message_id=warm["data"]["message_id"])
        marks = [len(x.frames) for x in (b_near, b_far)]
        loop = asyncio.get_running_loop()
        r = await api0.http.put(f"/v1/users/{b[0]}/block", headers=bearer(a[1]))
        assert r.status_code == 204
        blocked_at = loop.time()
        accepted: set[str] = set()
        refusal: dict[str, Any] = {}
        while loop.time() < blocked_at + 1.0:  # the window the requirement allows
            reply = await a_far.request(*SEND_TEXT, text(dm))
            if reply["type"] == "Error":
                refusal = reply["data"]
                break
            accepted.add(reply["data"]["message_id"])
        window_ms = round((loop.time() - blocked_at) * 1000)
        after = [await a_far.request(*SEND_TEXT, text(dm)) for _ in range(3)]
        await a_far.ok("profile/info-text", "UpdateProfileInfoText", {"info_text": "gone"})
        blocked_tries = [await x.request(*SEND_TEXT, text(dm)) for x in (b_near, b_far)]
        m = await c_near.ok(*SEND_TEXT, text(bc))  # published last: nothing is in flight after it
        for x in (b_near, b_far):
            await x.events("ChatMessageReceived", message_id=m["data"]["message_id"])

        def late(f: dict[str, Any]) -> bool:
            return by_user(a[0])(f) and (f.get("data") or {}).get("message_id") not in accepted

        leaked = []
        for x, mark in zip((b_near, b_far), marks, strict=True):
            await within(x, lambda f, x=x, mark=mark: late(f) and x.frames.index(f) >= mark, 1.0)
            leaked += [f for f in x.frames[mark:] if late(f)]
    finally:
        for x in clients:
            await x.close()
        await api0.aclose()
        await api1.aclose()

    figure(
        "revocation_cluster",
        "2 nodes (PostgreSQL + NATS): a token revoked through node 0 while used on node 1; "
        "A blocks B through node 0 while A's device on node 1 keeps writing to their chat "
        "and B has a device on each node",
        f"token: close {token_close}, {len(not_refused)} uses accepted on node 1; block: "
        f"enforced on node 1 after {window_ms} ms ({len(accepted)} messages accepted in the "
        f"window), then {len(leaked)} events of A reached B",
        token_close=token_close or 0,
        token_uses_accepted=len(not_refused),
        block_window_ms=window_ms,
        accepted_in_window=len(accepted),
        events_leaked=len(leaked),
    )
    assert token_close == 4401
    assert not_refused == []
    assert refusal.get("code") == "forbidden", f"still accepted {window_ms} ms after the block"
    assert [x["data"].get("code") for x in after] == ["forbidden"] * 3
    assert [x["data"].get("code") for x in blocked_tries] == ["not_found"] * 2
    assert leaked == []
