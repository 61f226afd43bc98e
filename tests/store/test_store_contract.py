"""The store's contract, run on SQLite and on PostgreSQL.

Each test uses fresh random ids, so the PostgreSQL database is shared by the
session without truncation.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest
from sqlalchemy import text

from hubbub.core.frames import event
from hubbub.core.model import MessageRecord, NewEvent, TokenInfo, User
from hubbub.core.ports import PresenceVisibility
from hubbub.errors import Conflict
from hubbub.ids import new_id
from hubbub.store.sql.engine import create_engine
from hubbub.store.sql.migrate import migrate
from hubbub.store.sql.stores import SqlStores
from hubbub.store.sql.writer import GroupCommitWriter


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@pytest.fixture(params=["sqlite", "postgres"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqlStores]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    engine = create_engine(url, pool_size=5)
    await migrate(engine)
    batches: list[int] = []
    writer = GroupCommitWriter(engine, max_batch=64, on_batch=batches.append)
    writer.start()
    s = SqlStores.build(engine, writer, now_ms)
    s.batches = batches  # type: ignore[attr-defined]
    yield s
    await writer.close()
    await engine.dispose()


async def make_user(store: SqlStores, name: str | None = None) -> str:
    uid = new_id()
    await store.accounts.create_user(
        User(uid, name or "u" + uid[-12:], "U", None, None, "", None, None, now_ms(), "x")
    )
    return uid


def text_event(cid: str, mid: str, content: str) -> NewEvent:
    return event("c", cid, "chat/messages", "ChatMessageReceived", {"content": content}, mid)


def record(cid: str, sender: str, client_id: str | None = None, expires: int | None = None):
    return MessageRecord(
        new_id(), cid, sender, "text", now_ms(), expires, None, client_id, expires is not None, None
    )


async def test_users_and_unique_usernames(store: SqlStores) -> None:
    uid = await make_user(store, "alice" + new_id()[-8:])
    user = await store.accounts.get_user(uid)
    assert user is not None
    with pytest.raises(Conflict):
        await store.accounts.create_user(
            User(new_id(), user.username, "X", None, None, "", None, None, now_ms(), "x")
        )
    assert (await store.accounts.find_user("username", user.username)).id == uid  # type: ignore[union-attr]


async def test_tokens_revoke(store: SqlStores) -> None:
    uid = await make_user(store)
    h = new_id().replace("-", "")
    await store.accounts.insert_token(TokenInfo(uid, "dev1", h), now_ms())
    info = await store.accounts.lookup_token(h)
    assert info is not None and info.user_id == uid and info.device_id == "dev1"
    assert await store.accounts.revoke_token(h, now_ms())
    assert await store.accounts.lookup_token(h) is None
    assert not await store.accounts.revoke_token(h, now_ms())


async def test_direct_is_created_once_even_when_raced(store: SqlStores) -> None:
    a, b = await make_user(store), await make_user(store)
    results = await asyncio.gather(
        *[store.conversations.open_direct(new_id(), a, b, now_ms()) for _ in range(5)],
        store.conversations.open_direct(new_id(), b, a, now_ms()),
    )
    ids = {cid for cid, _ in results}
    assert len(ids) == 1
    assert sum(created for _, created in results) == 1
    assert {m.user_id for m in await store.conversations.active_members(ids.pop())} == {a, b}


async def test_message_idempotency_and_feed(store: SqlStores) -> None:
    a, b = await make_user(store), await make_user(store)
    cid, _ = await store.conversations.open_direct(new_id(), a, b, now_ms())
    rec1, ev1 = await store.messages.append_message(
        record(cid, a, "c1"), {"content": "hi"}, text_event(cid, "m", "hi")
    )
    assert ev1 is not None
    again, ev2 = await store.messages.append_message(
        record(cid, a, "c1"), {"content": "hi"}, text_event(cid, "m2", "hi")
    )
    assert ev2 is None and again.id == rec1.id
    feed_b = await store.events.feed(b, 0, 100)
    assert [e.pos for e in feed_b] == [ev1.pos]
    assert msgspec.json.decode(feed_b[0].data) == {"content": "hi"}
    stranger = await make_user(store)
    assert await store.events.feed(stranger, 0, 100) == []


async def test_group_commit_batches_and_keeps_order(store: SqlStores) -> None:
    a, b = await make_user(store), await make_user(store)
    cid, _ = await store.conversations.open_direct(new_id(), a, b, now_ms())
    n = 200
    results = await asyncio.gather(
        *[
            store.messages.append_message(
                record(cid, a, f"k{i}"), {"content": str(i)}, text_event(cid, f"x{i}", str(i))
            )
            for i in range(n)
        ]
    )
    positions = [ev.pos for _, ev in results if ev is not None]
    assert positions == sorted(positions) and len(set(positions)) == n
    assert max(store.batches) > 1  # type: ignore[attr-defined]
    feed = await store.events.feed(b, positions[0] - 1, 1000)
    assert [msgspec.json.decode(e.data)["content"] for e in feed] == [str(i) for i in range(n)]


async def test_one_failing_unit_fails_alone(store: SqlStores) -> None:
    a, b = await make_user(store), await make_user(store)
    cid, _ = await store.conversations.open_direct(new_id(), a, b, now_ms())

    def bad(conn) -> None:  # type: ignore[no-untyped-def]
        conn.execute(text("SELECT * FROM no_such_table"))

    good = [
        store.messages.append_message(
            record(cid, a, f"g{i}"), {"content": "g"}, text_event(cid, f"g{i}", "g")
        )
        for i in range(10)
    ]
    results = await asyncio.gather(
        *good[:5], store.writer.submit(bad), *good[5:], return_exceptions=True
    )
    failures = [r for r in results if isinstance(r, Exception)]
    assert len(failures) == 1
    assert len(await store.events.feed(b, 0, 100)) == 10


async def test_batched_appends_dedupe_within_the_batch_and_interleave_with_units(
    store: SqlStores,
) -> None:
    """Appends run many per statement (`appends.py`): what a batch must still do
    as if each ran alone."""
    a, b = await make_user(store), await make_user(store)
    cid, _ = await store.conversations.open_direct(new_id(), a, b, now_ms())
    order: list[str] = []

    def unit(conn) -> None:  # type: ignore[no-untyped-def]
        order.append("unit")

    due = now_ms() + 3_600_000
    calls = []
    for i in range(12):
        key = "dup" if i % 4 == 0 else f"k{i}"  # the same client id 3 times in the batch
        rec = record(cid, a, key, expires=due if i % 3 == 0 else None)
        calls.append(
            store.messages.append_message(rec, {"content": str(i)}, text_event(cid, rec.id, key))
        )
        if i == 5:
            calls.append(store.writer.submit(unit))
    results = await asyncio.gather(*calls)
    appended = [r for r in results if r is not None]
    dup = [(rec, ev) for rec, ev in appended if rec.client_message_id == "dup"]
    assert len(dup) == 3 and dup[0][1] is not None and dup[1][1] is None and dup[2][1] is None
    assert {rec.id for rec, _ in dup} == {dup[0][0].id} and order == ["unit"]
    positions = [ev.pos for _, ev in appended if ev is not None]
    assert len(positions) == 10 and positions == sorted(positions)
    feed = await store.events.feed(b, positions[0] - 1, 100)
    assert [e.pos for e in feed] == positions
    for rec, _ in appended:
        stored = await store.messages.get_message(rec.id)
        assert stored is not None and stored.event_pos == rec.event_pos
    expiring = {rec.id for rec, ev in appended if ev is not None and rec.expires_at is not None}
    assert len(expiring) == 4  # items 0, 3, 6 and 9: the repeats of "dup" made no timer
    assert expiring <= set(await store.timers.due_expiries(due + 1, 1000))


async def test_a_batch_larger_than_one_lookup_query_keeps_every_key_apart(
    store: SqlStores,
) -> None:
    """Over 400 idempotency keys in one batch take several lookup queries on
    SQLite (`appends._PAIRS_PER_QUERY`); the same client id from two senders
    is two keys."""
    a, b = await make_user(store), await make_user(store)
    cid, _ = await store.conversations.open_direct(new_id(), a, b, now_ms())
    batches: list[int] = []
    writer = GroupCommitWriter(store.engine, max_batch=2048, on_batch=batches.append)
    writer.start()
    big = SqlStores.build(store.engine, writer, now_ms)
    try:
        n = 450
        first = await asyncio.gather(
            *[
                big.messages.append_message(
                    record(cid, a, f"k{i}"), {"content": "a"}, text_event(cid, "m", "a")
                )
                for i in range(n)
            ]
        )
        before = len(batches)
        again = await asyncio.gather(
            *[
                big.messages.append_message(
                    record(cid, a, f"k{i}"), {"content": "x"}, text_event(cid, "m", "x")
                )
                for i in range(n)
            ],
            *[
                big.messages.append_message(
                    record(cid, b, f"k{i}"), {"content": "b"}, text_event(cid, "m", "b")
                )
                for i in range(n)
            ],
        )
    finally:
        await writer.close()
    # Committed as (large) batches, not rescued by replaying a failed batch one
    # unit at a time (which would hide a key the lookup missed).
    assert max(batches[before:]) > 400 and sum(batches[before:]) == 2 * n
    assert [rec.id for rec, _ in again[:n]] == [rec.id for rec, _ in first]
    assert all(ev is None for _, ev in again[:n])
    assert all(ev is not None and rec.sender_id == b for rec, ev in again[n:])
    assert len({rec.id for rec, _ in again[n:]} | {rec.id for rec, _ in first}) == 2 * n


async def test_membership_window_cuts_the_feed(store: SqlStores) -> None:
    owner, m1, m2 = await make_user(store), await make_user(store), await make_user(store)
    gid = new_id()
    created = event("c", gid, "chat/groups", "GroupCreated", {"group_id": gid})
    conv, ev = await store.groups.create_group(
        gid, "g", owner, [m1, m2], "req-1", now_ms(), created
    )
    assert ev is not None and {m.role for m in conv.members} == {"owner", "member"}
    # idempotent on (creator, client_request_id)
    again, ev2 = await store.groups.create_group(
        new_id(), "g", owner, [m1], "req-1", now_ms(), created
    )
    assert ev2 is None and again.id == gid
    _, before = await store.messages.append_message(
        record(gid, owner), {"content": "1"}, text_event(gid, "a1", "1")
    )
    left = await store.groups.leave_group(
        gid, m1, event("c", gid, "group/membership", "LeaveGroupAck", {})
    )
    assert left is not None
    assert (
        await store.groups.leave_group(
            gid, m1, event("c", gid, "group/membership", "LeaveGroupAck", {})
        )
        is None
    )
    _, after = await store.messages.append_message(
        record(gid, owner), {"content": "2"}, text_event(gid, "a2", "2")
    )
    assert before is not None and after is not None
    seen_m1 = [e.pos for e in await store.events.feed(m1, 0, 100)]
    seen_m2 = [e.pos for e in await store.events.feed(m2, 0, 100)]
    assert seen_m1 == [ev.pos, before.pos, left.pos]
    assert seen_m2 == [ev.pos, before.pos, left.pos, after.pos]


async def test_owner_leaving_hands_over_ownership(store: SqlStores) -> None:
    owner, m1 = await make_user(store), await make_user(store)
    gid = new_id()
    await store.groups.create_group(
        gid, "g", owner, [m1], None, now_ms(), event("c", gid, "x", "y", {})
    )
    await store.groups.leave_group(
        gid, owner, event("c", gid, "group/membership", "LeaveGroupAck", {})
    )
    assert [(m.user_id, m.role) for m in await store.conversations.active_members(gid)] == [
        (m1, "owner")
    ]


async def test_expiry_fires_once_and_scrubs_content(store: SqlStores) -> None:
    a, b = await make_user(store), await make_user(store)
    cid, _ = await store.conversations.open_direct(new_id(), a, b, now_ms())
    rec = record(cid, a, expires=now_ms() - 1)
    _, ev = await store.messages.append_message(
        rec, {"content": "secret"}, text_event(cid, rec.id, "secret")
    )
    assert ev is not None
    due = await store.timers.due_expiries(now_ms(), 100)
    assert rec.id in due

    def make(r: MessageRecord) -> NewEvent:
        return event(
            "c",
            r.conversation_id,
            "chat/messages/expired",
            "ChatMessageExpired",
            {"message_id": r.id},
        )

    results = await asyncio.gather(
        *[store.timers.expire_message(rec.id, now_ms(), make) for _ in range(4)]
    )
    assert sum(r is not None for r in results) == 1
    feed = await store.events.feed(b, 0, 100)
    assert b"secret" not in b"".join(e.data for e in feed)
    assert [e.type for e in feed] == ["ChatMessageReceived", "ChatMessageExpired"]
    assert rec.id not in await store.timers.due_expiries(now_ms(), 100)


async def test_keys_profile_and_contacts_scope(store: SqlStores) -> None:
    a, b, stranger = await make_user(store), await make_user(store), await make_user(store)
    await store.conversations.open_direct(new_id(), a, b, now_ms())
    ev = event("a", a, "crypto/keys", "PublicKeyReceived", {"key_id": "k1"})
    await store.keys.publish_key(a, "k1", "PUB", "X25519", now_ms(), ev)
    await store.keys.publish_key(a, "k1", "PUB", "X25519", now_ms(), ev)  # idempotent
    with pytest.raises(Conflict):
        await store.keys.publish_key(a, "k1", "OTHER", "X25519", now_ms(), ev)
    assert [k["key_id"] for k in await store.keys.list_keys(a)] == ["k1"]
    await store.profiles.update_info_text(
        a, "busy", now_ms(), event("a", a, "profile/info-text", "T", {})
    )
    assert (await store.accounts.get_user(a)).info_text == "busy"  # type: ignore[union-attr]
    assert await store.conversations.contacts_of(a) == {b}
    types_b = [e.type for e in await store.events.feed(b, 0, 100)]
    assert types_b.count("PublicKeyReceived") == 2 and "T" in types_b
    assert await store.events.feed(stranger, 0, 100) == []


async def test_cursor_only_moves_forward(store: SqlStores) -> None:
    a = await make_user(store)
    await store.sync.set_cursor(a, "d", 10, now_ms())
    await store.sync.set_cursor(a, "d", 5, now_ms())
    await store.sync.set_cursor(a, "d", 12, now_ms())
    async with store.engine.connect() as conn:
        seq = (
            await conn.execute(text("SELECT seq FROM device_cursors WHERE user_id = :u"), {"u": a})
        ).scalar_one()
    assert seq == 12


async def test_token_ids_listing_touch_and_revoke_by_id(store: SqlStores) -> None:
    uid, other = await make_user(store), await make_user(store)
    t0 = now_ms()
    hashes = [new_id().replace("-", "") for _ in range(3)]
    for i, h in enumerate(hashes):
        await store.accounts.insert_token(TokenInfo(uid, f"dev{i}", h, f"tid-{h[-8:]}"), t0 + i)
    await store.accounts.insert_token(TokenInfo(other, "x", "h" + hashes[0][1:], "tid-other"), t0)
    listed = await store.accounts.list_tokens(uid)
    assert [t.device_id for t in listed] == ["dev0", "dev1", "dev2"]
    assert [t.token_id for t in listed] == [f"tid-{h[-8:]}" for h in hashes]
    assert [t.last_used_at for t in listed] == [t0, t0 + 1, t0 + 2]  # issuing is a use
    await store.accounts.touch_token(hashes[0], t0 + 60_000)
    info = await store.accounts.lookup_token(hashes[0])
    assert info is not None and info.last_used_at == t0 + 60_000
    assert info.token_id == listed[0].token_id
    # By id, only the owner's own live token; the hash comes back for the bus.
    assert await store.accounts.revoke_token_id(other, listed[1].token_id, now_ms()) is None
    assert await store.accounts.revoke_token_id(uid, "tid-other", now_ms()) is None
    assert await store.accounts.revoke_token_id(uid, listed[1].token_id, now_ms()) == hashes[1]
    assert await store.accounts.revoke_token_id(uid, listed[1].token_id, now_ms()) is None
    assert await store.accounts.lookup_token(hashes[1]) is None
    assert [t.device_id for t in await store.accounts.list_tokens(uid)] == ["dev0", "dev2"]


async def test_token_without_an_id_gets_one(store: SqlStores) -> None:
    uid = await make_user(store)
    for h in ("a" * 64, "b" * 64):
        await store.accounts.insert_token(TokenInfo(uid, "d", h[:-8] + new_id()[-8:]), now_ms())
    ids = [t.token_id for t in await store.accounts.list_tokens(uid)]
    assert len(set(ids)) == 2 and all(ids)


async def test_set_password_revokes_every_other_token(store: SqlStores) -> None:
    uid, other = await make_user(store), await make_user(store)
    mine = [new_id().replace("-", "") for _ in range(3)]
    for h in mine:
        await store.accounts.insert_token(TokenInfo(uid, "d", h), now_ms())
    theirs = new_id().replace("-", "")
    await store.accounts.insert_token(TokenInfo(other, "d", theirs), now_ms())
    revoked = await store.accounts.set_password(uid, "new-hash", mine[0], now_ms())
    assert sorted(revoked) == sorted(mine[1:])
    assert (await store.accounts.get_user(uid)).password_hash == "new-hash"  # type: ignore[union-attr]
    assert await store.accounts.lookup_token(mine[0]) is not None
    assert await store.accounts.lookup_token(theirs) is not None
    assert [await store.accounts.lookup_token(h) for h in mine[1:]] == [None, None]
    assert await store.accounts.set_password(uid, "newer", mine[0], now_ms()) == []


async def test_blocks_cut_contacts_and_feed_both_ways_and_freeze_the_direct(
    store: SqlStores,
) -> None:
    a, b, c = await make_user(store), await make_user(store), await make_user(store)
    dm, _ = await store.conversations.open_direct(new_id(), a, b, now_ms())
    gid = new_id()
    await store.groups.create_group(
        gid, "g", a, [b, c], None, now_ms(), event("c", gid, "x", "y", {})
    )
    assert await store.conversations.contacts_of(a) == {b, c}
    assert await store.conversations.direct_blockers(dm) == set()
    assert await store.conversations.direct_blockers(gid) is None
    assert await store.conversations.direct_between(b, a) == dm

    assert await store.blocks.add_block(a, b, now_ms())
    assert not await store.blocks.add_block(a, b, now_ms())  # once
    assert await store.conversations.contacts_of(a) == {c}
    assert await store.conversations.contacts_of(b) == {c}  # both ways, though they share a group
    assert await store.conversations.direct_blockers(dm) == {a}
    assert await store.blocks.block_relations(a, [b, c]) == ({b}, set())
    assert await store.blocks.block_relations(b, [a, c]) == (set(), {a})
    assert [(x.blocked_id, x.blocker_id) for x in await store.blocks.list_blocks(a)] == [(b, a)]
    assert await store.blocks.list_blocks(b) == []

    # 'a'-scope events (profile, keys) of one do not reach the other's feed.
    await store.profiles.update_info_text(
        a, "busy", now_ms(), event("a", a, "profile/info-text", "T", {})
    )
    await store.profiles.update_info_text(
        b, "away", now_ms(), event("a", b, "profile/info-text", "T", {})
    )
    assert [e.target for e in await store.events.feed(b, 0, 100) if e.scope == "a"] == [b]
    assert [e.target for e in await store.events.feed(a, 0, 100) if e.scope == "a"] == [a]
    assert {e.target for e in await store.events.feed(c, 0, 100) if e.scope == "a"} == {a, b}

    assert await store.blocks.add_block(b, a, now_ms())
    assert await store.conversations.direct_blockers(dm) == {a, b}
    assert await store.blocks.remove_block(a, b)
    assert not await store.blocks.remove_block(a, b)
    assert await store.conversations.direct_blockers(dm) == {b}
    assert await store.blocks.remove_block(b, a)
    assert await store.conversations.contacts_of(a) == {b, c}
    assert [e.target for e in await store.events.feed(b, 0, 100) if e.scope == "a"] == [a, b]


async def test_reactions_polls_and_mentions_commit_once(store: SqlStores) -> None:
    a, b = await make_user(store), await make_user(store)
    cid, _ = await store.conversations.open_direct(new_id(), a, b, now_ms())
    rec, _ = await store.messages.append_message(
        record(cid, a, "r1"), {"content": "hi"}, text_event(cid, "m", "hi")
    )
    ev = event("c", cid, "chat/reactions", "ReactionUpdated", {})
    assert len(await store.reactions.set_reaction(rec.id, b, "+1", now_ms(), [ev]) or []) == 1
    assert await store.reactions.set_reaction(rec.id, b, "+1", now_ms(), [ev]) is None
    assert await store.reactions.reactions_of(rec.id) == {b: "+1"}
    assert await store.reactions.set_reaction(rec.id, b, None, now_ms(), [ev])
    assert await store.reactions.reactions_of(rec.id) == {}

    from hubbub.core.ports import PollRecord

    opts = [{"option_id": "o1", "text": "x"}, {"option_id": "o2", "text": "y"}]
    poll = PollRecord(new_id(), cid, a, "q", opts, False, now_ms() + 60_000, now_ms())
    await store.polls.create_poll(poll, event("c", cid, "chat/polls", "PollCreated", {}))
    assert ("poll_close", poll.id) in await store.timers.due_timers(now_ms() + 61_000, 100)

    def votes(p: PollRecord, changed: dict[str, int]) -> list[NewEvent]:
        return [
            event("c", cid, "chat/polls/votes", "PollVoteUpdated", {o: n})
            for o, n in changed.items()
        ]

    assert len(await store.polls.vote(poll.id, b, ["o1"], now_ms(), votes) or []) == 1
    assert await store.polls.vote(poll.id, b, ["o1"], now_ms(), votes) == []
    assert len(await store.polls.vote(poll.id, b, ["o2"], now_ms(), votes) or []) == 2
    got = await store.polls.get_poll(poll.id)
    assert got is not None and got.counts == {"o1": 0, "o2": 1}

    def closed(p: PollRecord) -> NewEvent:
        return event("c", cid, "chat/polls/status", "PollClosed", {"by": p.closed_by})

    results = await asyncio.gather(
        *[store.polls.close_poll(poll.id, who, now_ms(), closed) for who in (a, "system", b)]
    )
    assert len([r for r in results if r is not None]) == 1  # once, whoever raced
    assert ("poll_close", poll.id) not in await store.timers.due_timers(now_ms() + 61_000, 100)
    assert await store.polls.vote(poll.id, a, ["o1"], now_ms(), votes) is None

    # A mention commits with its message, once per client id.
    mention = (new_id(), b, event("u", b, "chat/mentions", "MentionNotification", {}))
    rec2, stored = await store.mentions.append_with_mentions(
        record(cid, a, "m1"), {"content": "@b"}, text_event(cid, "m", "@b"), [mention]
    )
    assert len(stored) == 2 and [e.scope for e in stored] == ["c", "u"]
    again, none = await store.mentions.append_with_mentions(
        record(cid, a, "m1"), {"content": "@b"}, text_event(cid, "m", "@b"), [mention]
    )
    assert again.id == rec2.id and none == []
    assert await store.mentions.ack_mention(mention[0], a, now_ms()) is None  # not a's
    assert await store.mentions.ack_mention(mention[0], b, now_ms()) is True
    assert await store.mentions.ack_mention(mention[0], b, now_ms()) is False


async def test_group_event_versions_are_compare_and_set(store: SqlStores) -> None:
    from hubbub.core.ports import GroupEventRecord

    owner = await make_user(store)
    gid = new_id()
    await store.groups.create_group(
        gid, "g", owner, [], None, now_ms(), event("c", gid, "x", "y", {})
    )
    rec = GroupEventRecord(
        new_id(), gid, owner, "t", None, now_ms(), None, None, 1, now_ms(), now_ms()
    )

    def make(r: GroupEventRecord) -> tuple[dict[str, object], NewEvent]:
        return {"v": r.version}, event("c", gid, "group/events", "GroupEventUpdated", {})

    made = await store.group_events.write_event(owner, "k1", rec, None, False, make)
    assert made.reply == {"v": 1} and made.stored is not None
    again = await store.group_events.write_event(owner, "k1", rec, None, False, make)
    assert again.reply == {"v": 1} and again.stored is None  # the first answer, nothing written
    racers = await asyncio.gather(
        *[store.group_events.write_event(owner, None, rec, 1, False, make) for _ in range(3)]
    )
    assert sorted(r.reply.get("status", "ok") for r in racers) == ["conflict", "conflict", "ok"]
    current = await store.group_events.get_event(rec.id)
    assert current is not None and current.version == 2


async def test_api_keys_and_tokens_end_with_deactivation(store: SqlStores) -> None:
    from hubbub.core.ports.apikeys import ApiKey

    uid = await make_user(store)
    keys = [ApiKey(new_id(), uid, f"k{i}", i == 1, now_ms()) for i in range(3)]
    hashes = [new_id().replace("-", "") for _ in keys]
    for k, h in zip(keys, hashes, strict=True):
        assert await store.apikeys.create_key(k, h, max_live=3)
    assert not await store.apikeys.create_key(ApiKey(new_id(), uid, "x", False, 1), "h" * 64, 3)
    found = await store.apikeys.lookup_key(hashes[1])
    assert found is not None and found.read_only and found.user_id == uid
    assert await store.apikeys.revoke_key(new_id(), keys[0].id, now_ms()) is None  # not theirs
    assert await store.apikeys.revoke_key(uid, keys[0].id, now_ms()) == hashes[0]
    assert await store.apikeys.lookup_key(hashes[0]) is None
    assert {k.id for k in await store.apikeys.list_keys(uid)} == {keys[1].id, keys[2].id}
    tok = new_id().replace("-", "")
    assert await store.accounts.insert_token(TokenInfo(uid, "d", tok), now_ms())

    revoked = await store.accounts.deactivate(uid, now_ms())
    assert sorted(revoked or []) == sorted([tok, *hashes[1:]])
    assert await store.accounts.lookup_token(tok) is None
    assert await store.apikeys.lookup_key(hashes[2]) is None
    # no new session for a deactivated account, even straight from the store
    assert not await store.accounts.insert_token(TokenInfo(uid, "d", "z" * 64), now_ms())
    assert await store.accounts.deactivate(uid, now_ms()) == []  # idempotent
    assert await store.accounts.deactivate(new_id(), now_ms()) is None
    assert await store.accounts.reactivate(uid)
    assert await store.accounts.insert_token(TokenInfo(uid, "d", "y" * 64), now_ms())


async def test_audit_pages_newest_first_with_filters(store: SqlStores) -> None:
    from hubbub.core.ports.audit import AuditEntry, AuditQuery

    target = new_id()
    t0 = now_ms()
    entries = [
        AuditEntry(new_id(), t0 + i // 2, "signin.failure" if i % 3 else "logout", None, target,
                   "127.0.0.1", {"i": i})
        for i in range(9)
    ]  # fmt: skip
    await store.audit.append_audit(entries)
    got: list[AuditEntry] = []
    before = None
    while True:
        page = await store.audit.read_audit(AuditQuery(limit=4, before=before, target_id=target))
        got += page
        if len(page) < 4:
            break
        before = (page[-1].at, page[-1].id)
    assert [e.id for e in got] == [e.id for e in sorted(entries, key=lambda e: (e.at, e.id))][::-1]
    assert {e.id: e.detail for e in got} == {e.id: e.detail for e in entries}
    only = await store.audit.read_audit(AuditQuery(action="logout", target_id=target))
    assert sorted(e.detail["i"] for e in only) == [0, 3, 6]  # type: ignore[type-var]
    late = await store.audit.read_audit(AuditQuery(target_id=target, since=t0 + 3, until=t0 + 4))
    assert sorted(e.detail["i"] for e in late) == [6, 7]  # type: ignore[type-var]


async def test_presence_settings_store_once_and_direct_peers(store: SqlStores) -> None:
    a, b, c = await make_user(store), await make_user(store), await make_user(store)
    await store.conversations.open_direct(new_id(), a, b, now_ms())
    gid = new_id()
    await store.groups.create_group(
        gid, "g", a, [b, c], None, now_ms(), event("c", gid, "x", "y", {})
    )
    assert await store.presence_settings.direct_peers_of(a) == {b}  # a group is not enough
    assert await store.presence_settings.direct_peers_of(c) == set()
    assert await store.presence_settings.visibility_of([a, b]) == {}

    def ev() -> NewEvent:
        return event("u", a, "user/presence-settings", "PresenceVisibilityUpdated", {})

    # The default, stored by nobody, counts as the current setting: nothing written.
    assert (
        await store.presence_settings.set_visibility(
            a, PresenceVisibility("everyone", updated_at=1), ev()
        )
        is None
    )
    custom = PresenceVisibility("custom", (b,), (c,), 2)
    stored = await store.presence_settings.set_visibility(a, custom, ev())
    assert stored is not None and stored.scope == "u" and stored.target == a
    assert await store.presence_settings.visibility_of([a, b]) == {a: custom}
    again = PresenceVisibility("custom", (b,), (c,), 3)
    assert await store.presence_settings.set_visibility(a, again, ev()) is None  # same: no event
    assert (await store.presence_settings.visibility_of([a]))[a].updated_at == 2
    nobody = PresenceVisibility("nobody", (), (), 4)
    assert await store.presence_settings.set_visibility(a, nobody, ev()) is not None
    assert await store.presence_settings.visibility_of([a]) == {a: nobody}
