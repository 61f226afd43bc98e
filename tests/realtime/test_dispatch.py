"""The dispatcher delivers in `seq` order and fills gaps from the database.

Real store (SQLite), real in-process bus; the connection is a recording
endpoint of the hub's `LiveConnection` interface.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest

from hubbub.bus.inprocess import InProcessBus
from hubbub.clock import SystemClock
from hubbub.core.frames import encode, event, frame_of
from hubbub.core.info_visibility import InfoVisibility
from hubbub.core.model import Notification, StoredEvent, User
from hubbub.core.ports import PresenceVisibility
from hubbub.core.publisher import Publisher
from hubbub.ids import new_id
from hubbub.realtime.dispatch import Dispatcher
from hubbub.realtime.hub import Hub
from hubbub.realtime.outbox import Out
from hubbub.store.sql.engine import create_engine
from hubbub.store.sql.migrate import migrate
from hubbub.store.sql.stores import SqlStores
from hubbub.store.sql.writer import GroupCommitWriter


class Recorder:
    def __init__(self, user_id: str) -> None:
        self.id = new_id()
        self.user_id = user_id
        self.token_hash = "t"
        self.seqs: list[int] = []
        self.kicked: tuple[int, str] | None = None

    def push(self, out: Out) -> None:
        self.seqs.append(msgspec.json.decode(out.payload).get("seq"))

    def kick(self, code: int, reason: str) -> None:
        self.kicked = (code, reason)


def now() -> int:
    return time.time_ns() // 1_000_000


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlStores]:
    engine = create_engine(f"sqlite:///{tmp_path / 'd.db'}")
    await migrate(engine)
    writer = GroupCommitWriter(engine)
    writer.start()
    yield SqlStores.build(engine, writer, now)
    await writer.close()
    await engine.dispose()


async def setup(store: SqlStores) -> tuple[str, list[StoredEvent]]:
    uid = new_id()
    await store.accounts.create_user(
        User(uid, "u" + uid[-12:], "U", None, None, "", None, None, now(), "x")
    )
    stored = await store.events.append(
        [event("u", uid, "chat/acks", "EncryptedMessageAck", {"n": i}) for i in range(6)]
    )
    return uid, stored


def note(ev: StoredEvent, uid: str) -> Notification:
    return Notification(encode(frame_of(ev)), [uid], pos=ev.pos)


async def until(cond: object, timeout: float = 5) -> None:
    async def wait() -> None:
        while not cond():  # type: ignore[operator]  # noqa: ASYNC110 - bounded poll
            await asyncio.sleep(0.01)

    await asyncio.wait_for(wait(), timeout)


async def test_lost_and_late_notifications_are_delivered_in_order(store: SqlStores) -> None:
    hub = Hub(lambda _ids: None)

    async def no_members(_cid: str) -> dict[str, str]:
        return {}

    dispatcher = Dispatcher(hub, store.events, store.conversations, no_members)
    dispatcher.upto = 0
    uid, evs = await setup(store)
    dispatcher.upto = evs[0].pos - 1
    rec = Recorder(uid)
    hub.add(rec)
    bus = InProcessBus()
    await bus.start(dispatcher.on_note)
    # events 1 and 3 never announced (their node died), 4 arrives before 2
    for i in (0, 4, 2, 5):
        await bus.publish(note(evs[i], uid))
    await until(lambda: len(rec.seqs) == 6)
    assert rec.seqs == [e.pos for e in evs]
    assert dispatcher.filled >= 2 and rec.kicked is None
    # a duplicate or stale notification changes nothing
    await bus.publish(note(evs[3], uid))
    await bus.publish(Notification(encode({"channel": "x", "type": "P", "data": {}}), [uid]))
    await until(lambda: len(rec.seqs) == 7)
    assert rec.seqs[-1] is None  # the ephemeral push, not a replay of seq 4


async def test_a_filled_event_still_skips_the_connection_that_sent_it(store: SqlStores) -> None:
    """A local event read back from the database (its notification came late)
    must not echo to the sender's connection, which got a reply instead."""
    hub = Hub(lambda _ids: None)

    async def no_members(_cid: str) -> dict[str, str]:
        return {}

    dispatcher = Dispatcher(hub, store.events, store.conversations, no_members)
    uid, evs = await setup(store)
    dispatcher.upto = evs[0].pos - 1
    sender, other = Recorder(uid), Recorder(uid)
    hub.add(sender)
    hub.add(other)
    dispatcher.remember_skip(evs[1].pos, sender.id)
    bus = InProcessBus()
    await bus.start(dispatcher.on_note)
    await bus.publish(note(evs[0], uid))
    await bus.publish(note(evs[2], uid))  # evs[1]'s notification is late: filled from the DB
    await until(lambda: len(other.seqs) == 3)
    assert other.seqs == [evs[0].pos, evs[1].pos, evs[2].pos]
    assert sender.seqs == [evs[0].pos, evs[2].pos] and dispatcher.filled == 1


async def test_committed_events_never_announced_are_delivered_once_idle(
    store: SqlStores,
) -> None:
    """Their node died between commit and publish, and nothing came after them
    to reveal the gap: the idle watcher reads them from the database."""
    hub = Hub(lambda _ids: None)

    async def no_members(_cid: str) -> dict[str, str]:
        return {}

    dispatcher = Dispatcher(hub, store.events, store.conversations, no_members)
    await dispatcher.start(idle_check_s=0.05)
    try:
        uid, evs = await setup(store)  # committed, never published
        rec = Recorder(uid)
        hub.add(rec)
        await until(lambda: len(rec.seqs) == len(evs))
        assert rec.seqs == [e.pos for e in evs] and dispatcher.upto == evs[-1].pos
        # a late notification for one of them changes nothing
        bus = InProcessBus()
        await bus.start(dispatcher.on_note)
        await bus.publish(note(evs[2], uid))
        await bus.publish(Notification(encode({"channel": "x", "type": "P", "data": {}}), [uid]))
        await until(lambda: len(rec.seqs) == len(evs) + 1)
        assert rec.seqs[-1] is None
    finally:
        await dispatcher.close()


async def test_a_filled_info_text_update_reaches_only_the_contacts_allowed(
    store: SqlStores,
) -> None:
    """An info-text update read back from the database (its notification was
    lost) goes where it would have gone live: to the contacts the owner's
    info-text visibility allows, not to every contact."""
    ids = [new_id() for _ in range(3)]
    for uid in ids:
        await store.accounts.create_user(
            User(uid, "u" + uid[-12:], "U", None, None, "", None, None, now(), "x")
        )
    owner, hidden, allowed = ids
    for peer in (hidden, allowed):
        await store.conversations.open_direct(new_id(), owner, peer, now())
    setting = PresenceVisibility("custom", (allowed,), (), now())
    ev = event("u", owner, "user/info-visibility", "InfoVisibilityUpdated", {})
    await store.info_visibility.set_info_visibility(owner, setting, ev, None, lambda s: {})

    hub = Hub(lambda _ids: None)

    async def no_members(_cid: str) -> dict[str, str]:
        return {}

    dispatcher = Dispatcher(hub, store.events, store.conversations, no_members)
    visibility = InfoVisibility(store.info_visibility, Publisher(InProcessBus()), SystemClock())
    dispatcher.info_audience = visibility.audience
    await dispatcher.start(idle_check_s=0.05)
    try:
        recs = {uid: Recorder(uid) for uid in ids}
        for rec in recs.values():
            hub.add(rec)
        [info] = await store.events.append(
            [event("a", owner, "profile/info-text", "ProfileInfoTextUpdated", {"info_text": "x"})]
        )  # committed, never published
        await until(lambda: dispatcher.upto == info.pos)
        assert recs[owner].seqs == [info.pos] and recs[allowed].seqs == [info.pos]
        assert recs[hidden].seqs == []
    finally:
        await dispatcher.close()
