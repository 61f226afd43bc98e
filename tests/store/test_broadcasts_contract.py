"""The broadcast store's contract on SQLite and PostgreSQL: one event per
broadcast whatever the audience, the feed's audience rules (everyone, the
admins' segment, a channel's subscribers from their subscription on), expiry
read from the store's clock, idempotent publish, acknowledgements once."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from hubbub.bus.inprocess import InProcessBus
from hubbub.clock import iso
from hubbub.core.broadcasts import EVERYONE, Broadcasts
from hubbub.core.context import Caller
from hubbub.core.frames import event
from hubbub.core.model import NewEvent, Notification
from hubbub.core.ports.broadcasts import MakeBroadcastEvent
from hubbub.core.publisher import Publisher
from hubbub.errors import ValidationFailed
from hubbub.store.sql.stores import SqlStores
from tests.store.test_store_contract import make_user, now_ms, store

__all__ = ["store"]

TAG = secrets.token_hex(4)  # this run's titles (the PostgreSQL database is shared)


class Clock:
    """An hour behind: every broadcast here has expired for the real clock, so the
    other tests sharing the PostgreSQL database find none of them in their feeds."""

    def __init__(self) -> None:
        self.now = now_ms() - 3_600_000

    def __call__(self) -> int:
        return self.now


def make(audience: str, title: str) -> MakeBroadcastEvent:
    def build(bid: str) -> NewEvent:
        return event("b", audience, "broadcast/messages", "BroadcastMessageReceived",
                     {"message_id": bid, "title": f"{title}-{TAG}"})  # fmt: skip

    return build


async def ids_in_feed(s: SqlStores, user: str) -> list[str]:
    return [ev.data.decode() for ev in await s.events.feed(user, 0, 1000) if ev.scope == "b"]


async def test_audiences_expiry_idempotency_and_acks(store: SqlStores) -> None:
    clock = Clock()
    s = SqlStores.build(store.engine, store.writer, clock)
    admin, plain, sub = await make_user(s), await make_user(s), await make_user(s)
    news = "news-" + secrets.token_hex(4)
    live = clock.now + 600_000
    await s.accounts.set_admin(admin, True)
    assert await s.broadcasts.put_channel(news, "News", admin, clock.now)
    assert not await s.broadcasts.put_channel(news, "News!", admin, clock.now)

    r_all, ev = await s.broadcasts.publish(admin, "k1", "all", live, clock.now, make("all", "A"))
    assert ev is not None and ev.pos == r_all.pos
    again, none = await s.broadcasts.publish(admin, "k1", "all", live, clock.now, make("all", "B"))
    assert none is None and again.id == r_all.id and f'"A-{TAG}"'.encode() in again.reply
    r_adm, _ = await s.broadcasts.publish(
        admin, None, "seg:admins", live, clock.now, make("seg:admins", "ADM")
    )
    early, _ = await s.broadcasts.publish(
        admin, None, f"ch:{news}", live, clock.now, make(f"ch:{news}", "EARLY")
    )
    since = await s.broadcasts.subscribe(news, sub, clock.now)
    assert since >= early.pos and await s.broadcasts.subscribe(news, sub, clock.now) == since
    r_ch, _ = await s.broadcasts.publish(
        admin, None, f"ch:{news}", live, clock.now, make(f"ch:{news}", "CH")
    )
    r_exp, _ = await s.broadcasts.publish(
        admin, None, "all", clock.now + 1000, clock.now, make("all", "EXP")
    )

    def titles(feed: list[str]) -> list[str]:
        return [
            t for t in ("A", "ADM", "EARLY", "CH", "EXP") if any(f'"{t}-{TAG}"' in f for f in feed)
        ]

    assert titles(await ids_in_feed(s, plain)) == ["A", "EXP"]
    assert titles(await ids_in_feed(s, admin)) == ["A", "ADM", "EXP"]
    assert titles(await ids_in_feed(s, sub)) == ["A", "CH", "EXP"]  # not before subscribing
    assert await s.broadcasts.subscribers(news) == [sub]
    assert await s.broadcasts.subscriptions_of(sub) == [news]
    assert await s.broadcasts.subscriptions_of(plain) == []
    assert admin in await s.broadcasts.active_admins()

    clock.now += 1000  # the expiry passes: left out of every feed
    assert titles(await ids_in_feed(s, plain)) == ["A"]
    assert await s.broadcasts.unsubscribe(news, sub)
    assert titles(await ids_in_feed(s, sub)) == ["A"]
    assert await s.broadcasts.subscriptions_of(sub) == []
    assert not await s.broadcasts.unsubscribe(news, sub)

    seg = "seg-" + TAG
    await s.broadcasts.set_segment_member(seg, plain, admin, clock.now, True)
    await s.broadcasts.set_segment_member(seg, plain, admin, clock.now, True)  # once
    r_seg, _ = await s.broadcasts.publish(
        admin, None, f"seg:{seg}", live, clock.now, make(f"seg:{seg}", "SEG")
    )
    assert await s.broadcasts.segment_members(seg) == [plain]
    assert await s.broadcasts.in_segment(seg, plain) and not await s.broadcasts.in_segment(seg, sub)
    in_feed = await ids_in_feed(s, plain)
    assert any(f'"SEG-{TAG}"' in f for f in in_feed)
    assert not any(f'"SEG-{TAG}"' in f for f in await ids_in_feed(s, sub))
    await s.broadcasts.set_segment_member(seg, plain, admin, clock.now, False)
    assert not any(f'"SEG-{TAG}"' in f for f in await ids_in_feed(s, plain))
    assert r_seg.audience == f"seg:{seg}"

    assert await s.broadcasts.acknowledge(r_all.id, plain, "read", None, clock.now)
    assert not await s.broadcasts.acknowledge(r_all.id, plain, "read", None, clock.now)
    assert (await s.broadcasts.get_broadcast(r_exp.id)).expires_at == r_exp.expires_at  # type: ignore[union-attr]
    assert r_adm.audience == "seg:admins" and r_ch.audience == f"ch:{news}"


class ManualClock:
    def __init__(self, now: int) -> None:
        self.now = now

    def now_ms(self) -> int:
        return self.now


async def test_one_notification_for_everyone_and_none_once_expired(store: SqlStores) -> None:
    """The core on a real store and the in-process bus, with an injected clock."""
    clock = ManualClock(now_ms() - 3_600_000)  # expired for the real clock (shared database)
    s = SqlStores.build(store.engine, store.writer, clock.now_ms)
    bus = InProcessBus()
    notes: list[Notification] = []
    await bus.start(notes.append)
    service = Broadcasts(s.broadcasts, s.accounts, Publisher(bus), clock)
    admin, sub = await make_user(s), await make_user(s)
    await s.accounts.set_admin(admin, True)
    caller = Caller(admin, "d")
    due = clock.now + 1000
    out = await service.announce(
        caller, title=f"T-{TAG}", content="c", expires_at=iso(due), client_request_id=TAG
    )
    again = await service.announce(
        caller, title="other", content="c", expires_at=iso(due), client_request_id=TAG
    )
    await asyncio.sleep(0)  # the in-process bus delivers on the next loop turn
    assert again == out
    assert [n.recipients for n in notes] == [[EVERYONE]]  # one, whatever the user count
    [ev] = [e for e in await s.events.events_between(out["seq"] - 1, out["seq"] + 1)]
    assert await service.recipients_of(ev) == [EVERYONE]

    chan = "c-" + secrets.token_hex(4)
    await service.put_channel(caller, chan, "C")
    await service.subscribe(Caller(sub, "d"), chan)
    got = await service.publish(caller, chan, title="x", payload={"a": 1}, expires_at=iso(due))
    await asyncio.sleep(0)
    assert notes[-1].recipients == [sub] and notes[-1].pos == got["seq"]

    clock.now = due  # expired: a late read-back (a lost notification) reaches no one
    assert await service.recipients_of(ev) == []
    notes.clear()
    with pytest.raises(ValidationFailed):  # and a new one cannot be set in the past
        await service.announce(caller, title="t", content="c", expires_at=iso(due))
    assert not notes
