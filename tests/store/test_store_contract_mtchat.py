"""The contract of the stores spec 003 brought (edits, reads, archive, history,
dialogs, external users), on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio

from hubbub.core.frames import event
from hubbub.core.model import User
from hubbub.core.ports.attachments import AttachmentRecord
from hubbub.core.ports.dialogs import DialogRecord, Participant, ScopeRule
from hubbub.ids import new_id
from hubbub.store.sql.stores import SqlStores
from tests.store.test_store_contract import make_user, now_ms, record, store, text_event

__all__ = ["store"]


async def _send(store: SqlStores, cid: str, sender: str, content: str) -> str:
    rec = record(cid, sender)
    await store.messages.append_message(
        rec, {"content": content, "content_type": "text"}, text_event(cid, rec.id, content)
    )
    return rec.id


async def test_edit_then_delete_scrubs_every_event_of_the_message(store: SqlStores) -> None:
    a, b = await make_user(store), await make_user(store)
    cid, _ = await store.conversations.open_direct(new_id(), a, b, now_ms())
    mid = await _send(store, cid, a, "first words")
    ev = event("c", cid, "chat/messages", "ChatMessageEdited", {"content": "second words"}, mid)
    assert await store.edits.edit_message(mid, "second words", now_ms(), ev) is not None
    got = await store.history.message(mid)
    assert got is not None and got.content == "second words" and got.edited_at is not None
    gone = event("c", cid, "chat/messages", "ChatMessageDeleted", {"message_id": mid})
    results = await asyncio.gather(
        *[store.edits.delete_message(mid, now_ms(), gone) for _ in range(3)]
    )
    assert sum(r is not None for r in results) == 1
    feed = await store.events.feed(b, 0, 100)
    blob = b"".join(e.data for e in feed)
    assert b"first words" not in blob and b"second words" not in blob
    assert [e.type for e in feed][-1] == "ChatMessageDeleted"
    assert await store.edits.edit_message(mid, "again", now_ms(), ev) is None
    assert await store.history.page(cid, 10) == []


async def test_history_pages_and_unread_counts(store: SqlStores) -> None:
    a, b = await make_user(store), await make_user(store)
    cid, _ = await store.conversations.open_direct(new_id(), a, b, now_ms())
    ids = [await _send(store, cid, a if i % 2 else b, f"m{i}") for i in range(6)]
    page = await store.history.page(cid, 3)
    assert [m.id for m in page] == ids[3:]
    older = await store.history.page(cid, 10, before_pos=page[0].pos)
    assert [m.id for m in older] == ids[:3]
    newer = await store.history.page(cid, 2, after_pos=older[0].pos)
    assert [m.id for m in newer] == ids[1:3]
    assert await store.history.count_after(cid, 0, a) == 3  # b's messages
    assert await store.history.first_after(cid, 0, a) == ids[0]
    last = await store.history.last_message(cid)
    assert last is not None and last.id == ids[-1]


async def test_read_position_only_moves_forward(store: SqlStores) -> None:
    a, b = await make_user(store), await make_user(store)
    cid, _ = await store.conversations.open_direct(new_id(), a, b, now_ms())
    m1, m2 = await _send(store, cid, a, "1"), await _send(store, cid, a, "2")
    p1, p2 = [(await store.history.message(m)).pos for m in (m1, m2)]  # type: ignore[union-attr]
    ev = event("c", cid, "chat/messages", "ReadPositionUpdated", {"message_id": m2})
    assert await store.reads.advance_read(cid, b, m2, p2, now_ms(), ev) is not None
    assert await store.reads.advance_read(cid, b, m1, p1, now_ms(), ev) is None
    assert await store.reads.advance_read(cid, b, m2, p2, now_ms(), ev) is None
    assert await store.reads.read_position(cid, b) == (m2, p2)
    assert await store.reads.read_position(cid, a) is None


async def test_archive_is_per_user_idempotent_and_ends_with_the_next_message(
    store: SqlStores,
) -> None:
    a, b = await make_user(store), await make_user(store)
    cid, _ = await store.conversations.open_direct(new_id(), a, b, now_ms())
    await _send(store, cid, b, "before")
    ev = event("u", a, "chat/archive", "ChatArchiveStatusChanged", {"conversation_id": cid})

    async def archive(archived: bool, key: str | None = None) -> bool:
        reply, stored = await store.archive.set_archived(
            cid, a, archived, now_ms(), ev, key, lambda changed: {"changed": changed}
        )
        assert reply == {"changed": stored is not None}
        return stored is not None

    assert await archive(True)
    assert not await archive(True)
    assert await store.archive.archived_of(a) == {cid}
    # what a node reads once to know which conversations a message must look at
    assert cid in await store.archive.conversations_with_archives(1_000_000)
    assert len(await store.archive.conversations_with_archives(1)) == 1
    assert await store.archive.archived_of(b) == set()
    assert await archive(False)
    assert not await archive(False)
    assert await store.archive.archived_of(a) == set()
    assert cid not in await store.archive.conversations_with_archives(1_000_000)
    # Archived again, then a message: no longer archived, with no write by the send.
    assert await archive(True)
    await _send(store, cid, b, "after")
    assert await store.archive.archived_of(a) == set()
    # ... until `revive` announces it: once, for the one who had archived it.
    assert await store.archive.has_archives(cid)
    [told] = await store.archive.revive(cid, now_ms(), lambda uid: event("u", uid, "x", "Y", {}))
    assert told.target == a
    assert not await store.archive.has_archives(cid)
    assert (
        await store.archive.revive(cid, now_ms(), lambda uid: event("u", uid, "x", "Y", {})) == []
    )
    assert not await archive(False)
    assert await archive(True)
    assert await store.archive.archived_of(a) == {cid}
    assert (
        await store.archive.revive(cid, now_ms(), lambda uid: event("u", uid, "x", "Y", {})) == []
    )
    # A request key: the retry gets the first reply back and writes nothing.
    first, stored = await store.archive.set_archived(
        cid, a, False, now_ms(), ev, "archive:k1", lambda changed: {"first": changed}
    )
    assert first == {"first": True} and stored is not None
    again, stored = await store.archive.set_archived(
        cid, a, True, now_ms(), ev, "archive:k1", lambda changed: {"second": changed}
    )
    assert again == first and stored is None
    assert await store.archive.archived_of(a) == set()


async def test_pins_are_per_user_limited_and_idempotent(store: SqlStores) -> None:
    a, b, c = await make_user(store), await make_user(store), await make_user(store)
    one, _ = await store.conversations.open_direct(new_id(), a, b, now_ms())
    two, _ = await store.conversations.open_direct(new_id(), a, c, now_ms())
    ev = event("u", a, "chat/pins", "ChatPinnedUpdated", {})

    async def pin(cid: str, pinned: bool, key: str | None = None) -> tuple[str, bool]:
        reply, stored = await store.pins.set_pinned(
            cid, a, pinned, 1, now_ms(), ev, key, lambda status: {"status": status}
        )
        return str(reply["status"]), stored is not None

    assert await pin(one, True) == ("pinned", True)
    assert await pin(one, True) == ("unchanged", False)
    assert await pin(two, True) == ("limit", False)  # at most 1 here
    assert await store.pins.pinned_of(a) == {one}
    assert await store.pins.pinned_of(b) == set()
    # A request key: the retry gets the first reply back and writes nothing.
    assert await pin(one, False, "pin:k") == ("unpinned", True)
    assert await pin(one, True, "pin:k") == ("unpinned", False)
    assert await store.pins.pinned_of(a) == set()
    assert await pin(two, True) == ("pinned", True)
    assert await store.pins.pinned_of(a) == {two}


async def test_external_users_are_created_once_even_when_raced(store: SqlStores) -> None:
    ext = "host-" + new_id()

    def fresh() -> User:
        uid = new_id()
        return User(uid, "mtchat-" + uid, "", None, None, "", None, None, now_ms(), "!")

    got = await asyncio.gather(
        *[store.external_users.ensure_external("mt", ext, fresh()) for _ in range(5)]
    )
    assert len(set(got)) == 1
    assert await store.accounts.existing_users(got) == {got[0]}
    assert await store.external_users.external_ids("mt", [got[0], new_id()]) == {got[0]: ext}
    assert await store.external_users.external_ids("other", [got[0]]) == {}


async def test_dialog_membership_profiles_and_windows(store: SqlStores) -> None:
    a, b = await make_user(store), await make_user(store)
    cid, now = new_id(), now_ms()
    obj = "o-" + new_id()
    rule = ScopeRule(["t1"], [], ["manager"])
    d = DialogRecord(cid, "order", obj, "T", None, "ext-a", '{"k": 1}', [rule], now)
    await store.dialogs.create_dialog(d, [Participant(a, "Alice", "Acme", joined_at=now)], a)
    got = await store.dialogs.get_dialog(cid)
    assert got is not None and got.access_scopes == [rule] and got.meta == '{"k": 1}'
    assert [x.conversation_id for x in await store.dialogs.dialogs_by_object("order", obj)] == [cid]
    assert cid in [x.conversation_id for x in await store.dialogs.dialogs_without(b, 1000)]
    joined = event("c", cid, "group/membership", "ConversationMemberJoined", {"user_id": b})
    prof = Participant(b, "Bob", email="b@x.org", joined_at=now)
    assert await store.dialogs.add_participant(cid, prof, joined) is not None
    assert await store.dialogs.add_participant(cid, prof, joined) is None
    assert [p.user_id for p in await store.dialogs.participants(cid)] == [a, b]
    assert cid in [x.conversation_id for x in await store.dialogs.dialogs_of(b)]
    pin = event("u", b, "chat/pins", "ChatPinnedUpdated", {})
    await store.pins.set_pinned(cid, b, True, 10, now, pin, None, lambda st: {"status": st})
    [bob] = [p for p in await store.dialogs.participants(cid) if p.user_id == b]
    assert bob.is_pinned and bob.email == "b@x.org"
    left = event("c", cid, "group/membership", "ConversationMemberLeft", {"user_id": b})
    assert await store.dialogs.remove_participant(cid, b, left) is not None
    assert await store.dialogs.remove_participant(cid, b, left) is None
    assert [m.user_id for m in await store.conversations.active_members(cid)] == [a]
    after = await _send(store, cid, a, "after bob left")
    feed_b = await store.events.feed(b, 0, 100)
    assert [e.type for e in feed_b] == [
        "ConversationMemberJoined", "ChatPinnedUpdated", "ConversationMemberLeft",
    ]  # fmt: skip
    assert after not in b"".join(e.data for e in feed_b).decode()
    # Back again: a new window.
    assert await store.dialogs.add_participant(cid, prof, joined) is not None
    assert b in [m.user_id for m in await store.conversations.active_members(cid)]


async def test_deleting_a_dialog_takes_everyone_and_everything_out(store: SqlStores) -> None:
    a, b = await make_user(store), await make_user(store)
    cid, now = new_id(), now_ms()
    d = DialogRecord(cid, "order", "o-" + new_id(), None, None, None, None, [], now)
    await store.dialogs.create_dialog(d, [Participant(a, "A"), Participant(b, "B")], a)
    mid = await _send(store, cid, a, "confidential")
    ev = event("c", cid, "group/membership", "ConversationDeleted", {"conversation_id": cid})
    results = await asyncio.gather(*[store.dialogs.delete_dialog(cid, ev) for _ in range(3)])
    assert sum(r is not None for r in results) == 1
    assert await store.dialogs.get_dialog(cid) is None
    assert await store.conversations.active_members(cid) == []
    got = await store.history.message(mid)
    assert got is not None and got.deleted_at is not None and got.content is None
    feed = await store.events.feed(b, 0, 100)
    assert b"confidential" not in b"".join(e.data for e in feed)
    assert feed[-1].type == "ConversationDeleted"


async def test_dialogs_without_pages_by_keyset_with_ties(store: SqlStores) -> None:
    a, outsider = await make_user(store), await make_user(store)
    at = now_ms() + 10_000_000  # newer than every other test's dialogs
    made = []
    for i in range(5):  # two share a creation time: the id breaks the tie
        cid = new_id()
        d = DialogRecord(cid, "order", "o", "T", None, None, None, [], at - (i // 2) * 1000)
        await store.dialogs.create_dialog(d, [Participant(a, "A", joined_at=at)], a)
        made.append((d.created_at, cid))
    # One read's order (ids compare by the database's collation) is the pages' order.
    expected = [d.conversation_id for d in await store.dialogs.dialogs_without(outsider, 5)]
    assert sorted(expected) == sorted(cid for _, cid in made)
    assert [at - (i // 2) * 1000 for i in range(5)] == [
        dict((c, t) for t, c in made)[cid] for cid in expected
    ]
    seen: list[str] = []
    before: tuple[int, str] | None = None
    while len(seen) < 5:
        page = await store.dialogs.dialogs_without(outsider, 2, before)
        seen += [d.conversation_id for d in page]
        before = (page[-1].created_at, page[-1].conversation_id)
    assert seen[:5] == expected  # (the sixth is an older dialog of another test)
    mine = await store.dialogs.dialogs_without(a, 50)
    assert expected[0] not in [d.conversation_id for d in mine]


async def test_unsent_attachments_are_found_by_age_and_claimed_once(store: SqlStores) -> None:
    a, b = await make_user(store), await make_user(store)
    cid, _ = await store.conversations.open_direct(new_id(), a, b, now_ms())
    old, sent, young, crashed, other = (new_id() for _ in range(5))
    for aid, created in ((old, 1), (sent, 2), (young, 10**15), (crashed, 3), (other, 4)):
        await store.attachments.create_attachment(
            AttachmentRecord(aid, cid, a, "f.txt", "text/plain", 1, created)
        )
        assert await store.attachments.mark_uploaded(aid, created, "blob-" + aid)
    assert not await store.attachments.mark_uploaded(sent, 5, "again")  # once
    mid = await _send(store, cid, a, "with a file")
    assert await store.attachments.bind_attachments([sent], mid)
    # All or none: `sent` is taken, so `other` stays free.
    assert not await store.attachments.bind_attachments([other, sent], new_id())
    assert (await store.attachments.get_attachment(other)).message_id is None  # type: ignore[union-attr]
    assert await store.attachments.bind_attachments([crashed], new_id())  # never committed
    found = [r.id for r in await store.attachments.unsent_before(1000, 100)]
    assert {old, crashed, other} <= set(found) and sent not in found and young not in found
    results = await asyncio.gather(*[store.attachments.delete_unsent(old) for _ in range(3)])
    assert sum(results) == 1 and await store.attachments.get_attachment(old) is None
    assert await store.attachments.delete_unsent(crashed)
    assert not await store.attachments.delete_unsent(sent)
    got = await store.attachments.get_attachment(sent)
    assert got is not None and got.blob_id == "blob-" + sent and got.message_id == mid
    await store.attachments.unbind_attachments([sent], new_id())  # not its message: no-op
    assert (await store.attachments.attachments_of([mid]))[mid][0].id == sent
    assert await store.attachments.sent_with_live_message(sent)
    gone = event("c", cid, "chat/messages", "ChatMessageDeleted", {"message_id": mid})
    assert await store.edits.delete_message(mid, now_ms(), gone) is not None
    assert not await store.attachments.sent_with_live_message(sent)
    assert sent in [r.id for r in await store.attachments.unsent_before(1000, 100)]
