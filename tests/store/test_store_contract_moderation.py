"""The contract of the moderation reports store, on SQLite and PostgreSQL:
a report stored once per client id, the per-reporter bound on pending ones,
keyset pages, and a status change that commits with its event."""

from __future__ import annotations

import asyncio

import pytest

from hubbub.core.frames import event
from hubbub.core.model import NewEvent
from hubbub.core.ports import Report
from hubbub.errors import Conflict
from hubbub.ids import new_id
from hubbub.store.sql.stores import SqlStores
from tests.store.test_store_contract import make_user, now_ms, store

__all__ = ["store"]

OPEN = frozenset({"open"})
PENDING = frozenset({"open", "reviewing"})


def report(reporter: str, key: str | None = None, target: str | None = None) -> Report:
    now = now_ms()
    return Report(
        new_id(), reporter, key, "user", target or new_id(), "spam", "d", "t", now, "open", now,
        target_user_id=target,
    )  # fmt: skip


def status_event(reporter: str, rid: str, status: str) -> NewEvent:
    data = {"report_id": rid, "status": status, "updated_at": "x"}
    return event("u", reporter, "moderation/reports", "ReportStatusUpdate", data)


async def test_a_report_is_stored_once_per_client_request_id(store: SqlStores) -> None:
    a, b = await make_user(store), await make_user(store)
    first = report(a, "k1", b)
    assert await store.moderation_reports.add_report(first, 5) == first
    retry = report(a, "k1", b)  # a new id, the same key: the first comes back
    assert await store.moderation_reports.add_report(retry, 5) == first
    assert await store.moderation_reports.get_report(retry.id) is None
    assert await store.moderation_reports.report_by_request(a, "k1") == first
    assert await store.moderation_reports.report_by_request(b, "k1") is None  # keys are per user
    other = report(b, "k1", a)
    assert await store.moderation_reports.add_report(other, 5) == other
    # racing retries on one node: one row
    racers = [report(a, "k2", b) for _ in range(4)]
    got = await asyncio.gather(*[store.moderation_reports.add_report(r, 50) for r in racers])
    assert len({r.id for r in got if r is not None}) == 1


async def test_pending_reports_are_bounded_per_reporter(store: SqlStores) -> None:
    a, b = await make_user(store), await make_user(store)
    made = [report(a) for _ in range(3)]
    for r in made:
        assert await store.moderation_reports.add_report(r, 3) == r
    assert await store.moderation_reports.add_report(report(a), 3) is None
    assert await store.moderation_reports.add_report(report(b), 3) is not None  # b's own count
    # a verdict frees a place; reviewing does not
    now = now_ms()
    ev = status_event(a, made[0].id, "reviewing")
    await store.moderation_reports.set_status(made[0].id, "reviewing", OPEN, None, b, now, ev)
    assert await store.moderation_reports.add_report(report(a), 3) is None
    ev = status_event(a, made[0].id, "dismissed")
    await store.moderation_reports.set_status(made[0].id, "dismissed", PENDING, "n", b, now, ev)
    assert await store.moderation_reports.add_report(report(a), 3) is not None


async def test_status_changes_commit_with_their_event_and_verdicts_are_final(
    store: SqlStores,
) -> None:
    a, admin = await make_user(store), await make_user(store)
    r = report(a, "k")
    await store.moderation_reports.add_report(r, 5)
    rid = r.id
    head = await store.events.max_pos()
    done = await store.moderation_reports.set_status(
        rid, "reviewing", OPEN, "looking", admin, 123, status_event(a, rid, "reviewing")
    )
    assert done is not None
    got, stored = done
    assert got.status == "reviewing" and got.updated_at == 123 and got.note == "looking"
    assert got.handled_by == admin and got.received_at == r.received_at
    assert stored is not None and stored.scope == "u" and stored.target == a
    assert stored.pos > head
    # the same status again: nothing written, no event
    again = await store.moderation_reports.set_status(
        rid, "reviewing", OPEN, None, admin, 456, status_event(a, rid, "reviewing")
    )
    assert again is not None and again[1] is None and again[0].updated_at == 123
    assert await store.events.max_pos() == stored.pos
    ev = status_event(a, rid, "resolved")
    done = await store.moderation_reports.set_status(rid, "resolved", PENDING, None, admin, 7, ev)
    assert done is not None and done[0].note == "looking"  # a note is kept when none is given
    with pytest.raises(Conflict):
        ev = status_event(a, rid, "dismissed")
        await store.moderation_reports.set_status(rid, "dismissed", PENDING, None, admin, 8, ev)
    assert (await store.moderation_reports.get_report(rid)).status == "resolved"  # type: ignore[union-attr]
    missing = await store.moderation_reports.set_status(
        new_id(), "reviewing", OPEN, None, admin, 9, status_event(a, rid, "reviewing")
    )
    assert missing is None


async def test_reports_page_by_id_and_filter_by_status(store: SqlStores) -> None:
    a, admin = await make_user(store), await make_user(store)
    mine = []
    for _ in range(5):
        r = report(a)
        await store.moderation_reports.add_report(r, 50)
        mine.append(r.id)
    ev = status_event(a, mine[1], "dismissed")
    await store.moderation_reports.set_status(mine[1], "dismissed", OPEN, None, admin, 1, ev)
    seen: list[str] = []
    after: str | None = None
    while True:
        page = await store.moderation_reports.list_reports(None, after, 2)
        seen += [r.id for r in page]
        if len(page) < 2:
            break
        after = page[-1].id
    assert seen == sorted(seen) and [x for x in seen if x in mine] == sorted(mine)
    dismissed = await store.moderation_reports.list_reports("dismissed", None, 200)
    assert mine[1] in {r.id for r in dismissed}
    assert all(r.status == "dismissed" for r in dismissed)
    opened = {r.id for r in await store.moderation_reports.list_reports("open", None, 200)}
    assert mine[1] not in opened and set(mine) - {mine[1]} <= opened
