"""The contract of the room, blob and chat-event relay stores, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from hubbub.blobs.filesystem import FsBlobs
from hubbub.core.frames import event
from hubbub.core.model import MessageRecord
from hubbub.core.ports.blobs import BlobMeta
from hubbub.core.ports.rooms import JoinOutcome
from hubbub.ids import new_id
from hubbub.store.sql import chatevents as chatevents_sql
from hubbub.store.sql.stores import SqlStores
from tests.store.test_blob_streams import whole
from tests.store.test_store_contract import make_user, now_ms, store

__all__ = ["store"]


async def new_room(store: SqlStores) -> str:
    key = "room:" + new_id()
    rid = await store.rooms.ensure_room(key, "r", new_id(), now_ms())
    assert await store.rooms.ensure_room(key, "r", new_id(), now_ms()) == rid  # once
    return rid


async def test_join_outcomes(store: SqlStores) -> None:
    rid = await new_room(store)
    anon = new_id()
    out, u = await store.rooms.join_room(rid, "h1", anon, "Alice", False, now_ms())
    assert out is JoinOutcome.JOINED and u is not None and u.user_id == anon
    out, u = await store.rooms.join_room(rid, "h1", new_id(), "Alicia", False, now_ms() + 5)
    assert out is JoinOutcome.RETURNED and u is not None
    assert (u.user_id, u.username) == (anon, "Alicia")  # keeps its member id, takes the name
    account = await make_user(store)
    assert (await store.rooms.join_room(rid, "h1", account, "x", True, now_ms()))[0] is (
        JoinOutcome.HANDLE_BOUND
    )
    out, _ = await store.rooms.join_room(rid, "h2", account, "Bob", True, now_ms() + 10)
    assert out is JoinOutcome.JOINED
    out, u = await store.rooms.join_room(rid, "h3", account, "Bob", True, now_ms())
    assert out is JoinOutcome.ACCOUNT_ELSEWHERE and u is not None and u.handle == "h2"
    assert (await store.rooms.join_room(rid, "h2", new_id(), "y", False, now_ms()))[0] is (
        JoinOutcome.HANDLE_BOUND
    )
    other = await make_user(store)
    assert (await store.rooms.join_room(rid, "h2", other, "y", True, now_ms()))[0] is (
        JoinOutcome.HANDLE_BOUND
    )
    assert [x.handle for x in await store.rooms.named(rid, "alicia")] == ["h1"]
    listed = await store.rooms.room_users(rid, 10)
    assert [x.handle for x in listed] == ["h2", "h1"]  # most recently active first
    assert listed[0].account_bound and not listed[1].account_bound
    members = {m.user_id for m in await store.conversations.active_members(rid)}
    assert members == {anon, account}
    await store.rooms.touch(rid, anon, now_ms() + 60_000)
    assert [x.handle for x in await store.rooms.room_users(rid, 1)] == ["h1"]


async def test_recent_messages_are_the_last_oldest_first(store: SqlStores) -> None:
    rid = await new_room(store)
    uid = new_id()
    await store.rooms.join_room(rid, "h", uid, "name", False, now_ms())
    for i in range(5):
        mid = new_id()
        rec = MessageRecord(mid, rid, uid, "text", now_ms(), None, None, None, False, None)
        ev = event("c", rid, "chat/messages", "ChatMessageReceived", {"content": f"m{i}"}, mid)
        await store.messages.append_message(rec, {"content": f"m{i}"}, ev)
    got = await store.rooms.recent_messages(rid, 3)
    assert [b'"m2"' in g for g in got] == [True, False, False]
    assert [b'"m4"' in g for g in got] == [False, False, True]


async def test_blobs_in_the_database_and_on_disk(store: SqlStores, tmp_path: Path) -> None:
    meta = BlobMeta("b" + new_id().replace("-", ""), "o", "room", "a.txt", "text/plain", 3, 1)
    await store.blobs.put(meta, b"abc")
    assert await whole(store.blobs, meta.id) == (meta, b"abc")
    assert await store.blobs.stat("nope" * 5) is None
    files = FsBlobs(tmp_path / "blobs", store.blobs)
    meta2 = BlobMeta("c" + new_id().replace("-", ""), "o", "room", "b.bin", "image/png", 2, 1)
    await files.put(meta2, b"\x00\x01")
    assert await whole(files, meta2.id) == (meta2, b"\x00\x01")
    assert (tmp_path / "blobs" / meta2.id[:2] / meta2.id).read_bytes() == b"\x00\x01"
    assert await store.blobs.stat(meta2.id) is None  # only its metadata is in the database
    assert await store.blobs.get_meta(meta2.id) == meta2
    assert await files.stat("../../etc/passwd") is None


async def test_relay_lease_is_exclusive_and_the_cursor_durable(store: SqlStores) -> None:
    name = "t-" + new_id()
    t0 = now_ms()
    start = await store.chatevents.claim(name, "A", t0, 1000)
    assert start is not None and start == await store.chatevents.head()
    assert await store.chatevents.claim(name, "B", t0 + 10, 1000) is None
    assert await store.chatevents.advance(name, "A", start + 5, t0 + 20, 1000)
    assert not await store.chatevents.advance(name, "B", start + 9, t0 + 20, 1000)
    # A stops renewing: after its lease B takes over where A left off
    assert await store.chatevents.claim(name, "B", t0 + 1021, 1000) == start + 5
    assert not await store.chatevents.advance(name, "A", start + 6, t0 + 1022, 1000)
    await store.chatevents.release(name, "B")
    assert await store.chatevents.claim(name, "A", t0 + 1023, 1000) == start + 5


async def test_committed_messages_as_the_relay_reads_them(store: SqlStores) -> None:
    a, b = await make_user(store), await make_user(store)
    cid, _ = await store.conversations.open_direct(new_id(), a, b, now_ms())
    before = await store.chatevents.head()
    mid = new_id()
    rec = MessageRecord(mid, cid, a, "text", now_ms(), None, None, None, False, None)
    ev = event("c", cid, "chat/messages", "ChatMessageReceived", {"content": "hi"}, mid)
    fields = {
        "content": "hi",
        "trace_parent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01",
        "session_id": "s",
        "client_id": "dev",
    }
    await store.messages.append_message(rec, fields, ev)
    found = [
        m
        for m in await store.chatevents.committed_messages(before, 10**12, 100)
        if m.message_id == mid
    ]
    [m] = found
    assert (m.sender_id, m.conversation_id, m.conversation_kind, m.kind, m.content) == (
        a,
        cid,
        "direct",
        "text",
        "hi",
    )
    assert (m.trace_parent, m.session_id, m.client_id) == (fields["trace_parent"], "s", "dev")
    assert m.members == tuple(sorted([a, b]))


async def test_relay_member_windows_follow_membership_changes(store: SqlStores) -> None:
    """The relay's cached member windows: re-read when membership changes, and
    each message's members as of its commit, read in one step or in several."""
    a, b, c = await make_user(store), await make_user(store), await make_user(store)
    cid = new_id()
    ev = event("c", cid, "group/membership", "GroupCreated", {}, None)
    await store.groups.create_group(cid, "g", a, [b, c], None, now_ms(), ev)
    start = await store.chatevents.head()

    async def send(text: str) -> str:
        mid = new_id()
        rec = MessageRecord(mid, cid, a, "text", now_ms(), None, None, None, False, None)
        msg = event("c", cid, "chat/messages", "ChatMessageReceived", {"content": text}, mid)
        await store.messages.append_message(rec, {"content": text}, msg)
        return mid

    async def members_of(mid: str, after: int) -> tuple[str, ...]:
        [m] = [
            m
            for m in await store.chatevents.committed_messages(after, 10**12, 100)
            if m.message_id == mid
        ]
        return m.members

    m1 = await send("all")
    assert await members_of(m1, start) == tuple(sorted([a, b, c]))
    assert await members_of(m1, start) == tuple(sorted([a, b, c]))  # cached
    await store.groups.leave_group(cid, c, event("c", cid, "group/membership", "Left", {}, None))
    m2 = await send("c left")
    assert await members_of(m2, start) == tuple(sorted([a, b]))
    # read again from the start: each message as of its own commit
    assert await members_of(m1, start) == tuple(sorted([a, b, c]))


async def test_relay_member_cache_is_bounded(
    store: SqlStores, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past its bound the cache starts again, keeping what the step needs."""
    monkeypatch.setattr(chatevents_sql, "MAX_CACHED", 1)
    a = await make_user(store)
    start = await store.chatevents.head()
    mids = []
    for _ in range(3):  # three direct conversations in one step
        other = await make_user(store)
        cid, _ = await store.conversations.open_direct(new_id(), a, other, now_ms())
        mid = new_id()
        rec = MessageRecord(mid, cid, a, "text", now_ms(), None, None, None, False, None)
        ev = event("c", cid, "chat/messages", "ChatMessageReceived", {"content": "x"}, mid)
        await store.messages.append_message(rec, {"content": "x"}, ev)
        mids.append((mid, tuple(sorted([a, other]))))
    for _ in range(2):
        got = {
            m.message_id: m.members
            for m in await store.chatevents.committed_messages(start, 10**12, 100)
        }
        assert all(got[mid] == members for mid, members in mids)
