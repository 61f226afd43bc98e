"""The contact sync store's contract (`store/sql/contact_sync.py`) on SQLite and PostgreSQL.

Only active users other than the caller, and never one who blocks the
caller, are discoverable; a sync record is written once (a second save
returns the first) and each user keeps only their newest few.
"""

from __future__ import annotations

from hubbub.core.model import User
from hubbub.core.ports.contact_sync import SyncRecord
from hubbub.ids import new_id
from hubbub.store.sql.stores import SqlStores
from tests.store.test_store_contract import make_user, now_ms, store

__all__ = ["store"]


async def _person(s: SqlStores, phone: str | None, email: str | None = None) -> str:
    uid = new_id()
    await s.accounts.create_user(
        User(uid, "p" + uid[-12:], "P", phone, email, "", None, None, now_ms(), "x")
    )
    return uid


def _rec(sync_id: str, at: int, matches: int = 0) -> SyncRecord:
    found = [{"user_id": f"u{i}", "index": i, "label": None} for i in range(matches)]
    return SyncRecord(sync_id, "dev", at, matches, matches, 0, found)


async def test_discoverable_excludes_blockers_deactivated_and_the_caller(store: SqlStores) -> None:
    tag = new_id()[-8:]
    me = await _person(store, f"+100{tag}", f"me{tag}@x.org")
    plain = await _person(store, f"+101{tag}")
    by_mail = await _person(store, None, f"m{tag}@x.org")
    blocker = await _person(store, f"+102{tag}")
    blocked_by_me = await _person(store, f"+103{tag}")
    gone = await _person(store, f"+104{tag}")
    await store.blocks.add_block(blocker, me, now_ms())
    await store.blocks.add_block(me, blocked_by_me, now_ms())
    await store.accounts.deactivate(gone, now_ms())
    phones = [f"+10{i}{tag}" for i in range(6)]
    found = await store.contact_sync.discoverable(me, phones, [f"m{tag}@x.org", f"me{tag}@x.org"])
    assert {c.user_id for c in found} == {plain, by_mail, blocked_by_me}
    mail = next(c for c in found if c.user_id == by_mail)
    assert (mail.email, mail.phone) == (f"m{tag}@x.org", None)
    assert await store.contact_sync.discoverable(me, [], []) == []
    # Opting out hides a user; opting in again shows them.
    assert await store.contact_sync.discoverability(plain) == (True, None)
    await store.contact_sync.set_discoverable(plain, False, 5)
    await store.contact_sync.set_discoverable(plain, False, 6)
    assert await store.contact_sync.discoverability(plain) == (False, 6)
    found = await store.contact_sync.discoverable(me, phones, [])
    assert {c.user_id for c in found} == {blocked_by_me}
    await store.contact_sync.set_discoverable(plain, True, 7)
    found = await store.contact_sync.discoverable(me, phones, [])
    assert {c.user_id for c in found} == {plain, blocked_by_me}


async def test_records_are_written_once_and_bounded_per_user(store: SqlStores) -> None:
    a, b = await make_user(store), await make_user(store)
    cs = store.contact_sync
    first = await cs.save_sync(a, _rec("s1", 1000, matches=2), keep=3)
    again = await cs.save_sync(a, _rec("s1", 2000, matches=5), keep=3)
    assert again == first and (await cs.find_sync(a, "s1")) == first
    assert await cs.find_sync(b, "s1") is None
    for i in range(2, 6):
        await cs.save_sync(a, _rec(f"s{i}", 1000 + i), keep=3)
    kept = [sid for sid in ("s1", "s2", "s3", "s4", "s5") if await cs.find_sync(a, sid)]
    assert kept == ["s3", "s4", "s5"]
    assert await cs.set_received(a, "s5", 7) is True
    assert (await cs.find_sync(a, "s5")).received_count == 7  # type: ignore[union-attr]
    assert await cs.set_received(b, "s5", 1) is False
    assert await cs.set_received(a, "s1", 1) is False
