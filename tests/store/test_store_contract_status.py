"""The status_updates store's contract, on SQLite and PostgreSQL: a status
commits with its timer and its events, once per client request id, at most
`max_live` per author; expiry deletes it once and the feed drops its events
once expired or blocked; contacts are direct peers without a block; the
settings' request ids make writes idempotent; mute receipts once each."""

from __future__ import annotations

from collections.abc import Callable

from hubbub.core.frames import event
from hubbub.core.model import NewEvent
from hubbub.core.ports import PresenceVisibility, StatusRecord
from hubbub.core.status_updates import CHANNEL, STATUS_TIMER
from hubbub.ids import new_id
from hubbub.store.sql.stores import SqlStores
from tests.store.test_store_contract import make_user, now_ms, store

__all__ = ["store"]


def record(author: str, now: int, key: str | None = None, ttl: int = 60_000) -> StatusRecord:
    return StatusRecord(new_id(), author, "text", None, "hi", now, now + ttl, key)


def to(*viewers: str) -> Callable[[StatusRecord], list[NewEvent]]:
    def make(s: StatusRecord) -> list[NewEvent]:
        return [event("u", v, CHANNEL, "StatusCreated", {"status_id": s.id}, s.id) for v in viewers]

    return make


async def test_create_once_per_key_bounded_expire_once_and_the_feed_follows(
    store: SqlStores,
) -> None:
    a, b = await make_user(store), await make_user(store)
    st = store.status_updates
    now = now_ms()
    first = record(a, now, "k1")
    made = await st.create_status(first, 2, STATUS_TIMER, to(a, b))
    assert made is not None and made[0] == first and [e.target for e in made[1]] == [a, b]
    retry = await st.create_status(record(a, now, "k1"), 2, STATUS_TIMER, to(a, b))
    assert retry is not None and retry[0].id == first.id and retry[1] == []
    second = await st.create_status(record(a, now, "k2"), 2, STATUS_TIMER, to(b))
    assert second is not None
    assert await st.create_status(record(a, now, "k3"), 2, STATUS_TIMER, to(b)) is None
    assert [s.id for s in await st.live_statuses([a], now)] == [first.id, second[0].id]
    feed = await store.events.feed(b, 0, 100)
    assert {e.pos for e in feed if e.channel == CHANNEL} == {made[1][1].pos, second[1][0].pos}
    assert await st.expire_status(first.id, STATUS_TIMER) is True
    assert await st.expire_status(first.id, STATUS_TIMER) is False  # once
    feed = await store.events.feed(b, 0, 100)
    assert [e.pos for e in feed if e.channel == CHANNEL] == [second[1][0].pos]
    # A block either way drops the rest from the feed, and from the contacts.
    await store.conversations.open_direct(new_id(), a, b, now)
    assert await st.contacts_of(a) == {b} and await st.contacts_of(b) == {a}
    await store.blocks.add_block(b, a, now)
    assert [e for e in await store.events.feed(b, 0, 100) if e.channel == CHANNEL] == []
    assert await st.contacts_of(a) == set()


async def test_expired_by_time_is_gone_from_reads_before_the_timer(store: SqlStores) -> None:
    a, b = await make_user(store), await make_user(store)
    st = store.status_updates
    past = now_ms() - 10_000
    made = await st.create_status(record(a, past, ttl=1000), 5, STATUS_TIMER, to(b))
    assert made is not None
    assert await st.live_statuses([a], now_ms()) == []
    assert [e for e in await store.events.feed(b, 0, 100) if e.channel == CHANNEL] == []


async def test_settings_request_ids_mutes_and_receipts(store: SqlStores) -> None:
    a, b = await make_user(store), await make_user(store)
    st = store.status_updates
    assert await st.status_visibility_of(a) is None
    ev = event("u", a, "user/status/visibility", "StatusVisibilityUpdated", {})
    done, stored = await st.set_status_visibility(
        a, PresenceVisibility("custom", (b,), (), 5), "r1", ev
    )
    assert done == 5 and stored is not None and stored.target == a
    again, none = await st.set_status_visibility(
        a, PresenceVisibility("nobody", (), (), 9), "r1", ev
    )
    assert (again, none) == (5, None)  # the first answer, nothing written
    assert await st.status_visibility_of(a) == PresenceVisibility("custom", (b,), (), 5)
    same, none = await st.set_status_visibility(
        a, PresenceVisibility("custom", (b,), (), 7), None, ev
    )
    assert (same, none) == (7, None)  # the same setting: no event
    assert await st.request_done_at(a, "visibility", "r1") == 5
    assert await st.request_done_at(a, "mute", "r1") is None
    assert await st.user_exists(b) and not await st.user_exists(new_id())
    mev = event("u", b, "contacts/status-mute", "ContactStatusMuteChanged", {})
    made = await st.set_mute(b, a, True, "m1", 10, mev, 1)
    assert made is not None and made[1] is not None
    muted = made[1]
    assert await st.muters_of(a, [a, b]) == {b}
    assert await st.set_mute(b, a, False, "m1", 11, mev, 1) == (10, None)
    assert await st.set_mute(b, a, True, None, 12, mev, 1) == (12, None)  # already muted
    c = await make_user(store)
    assert await st.set_mute(b, c, True, None, 12, mev, 1) is None  # one mute at most
    assert await st.muters_of(c, [b]) == set()
    assert await st.is_mute_event(b, muted.pos) and not await st.is_mute_event(a, muted.pos)
    assert await st.record_mute_ack(b, str(muted.pos), None, 13) is True
    assert await st.record_mute_ack(b, str(muted.pos), None, 14) is False


async def test_live_with_url_finds_only_unexpired_statuses_of_that_file(store: SqlStores) -> None:
    a = await make_user(store)
    st = store.status_updates
    now = now_ms()
    url = "/v1/blobs/" + "b" * 32
    shown = StatusRecord(new_id(), a, "image", url, None, now, now + 60_000)
    old = StatusRecord(new_id(), a, "image", url, None, now - 9000, now - 1000)
    for s in (shown, old):
        assert await st.create_status(s, 5, STATUS_TIMER, to()) is not None
    assert [s.id for s in await st.live_with_url(url, now)] == [shown.id]
    assert await st.live_with_url("/v1/blobs/" + "c" * 32, now) == []
