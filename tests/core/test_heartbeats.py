"""Spec 003's presence TTL on a real SQLite store with a controlled clock: a
user is online for 60 s after their last ping, goes offline once when that
lapses, comes back with the next ping; only those who share a conversation
are told."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import msgspec
import pytest

from hubbub.bus.inprocess import InProcessBus, LocalPresence
from hubbub.core.heartbeats import Heartbeats
from hubbub.core.model import Notification, User
from hubbub.core.presence import Presence
from hubbub.core.presence_settings import PresenceSettings
from hubbub.core.publisher import Publisher
from hubbub.store.sql.engine import create_engine
from hubbub.store.sql.migrate import migrate
from hubbub.store.sql.stores import SqlStores
from hubbub.store.sql.writer import GroupCommitWriter
from tests.core.test_accounts import T0, ManualClock

TTL = 60_000


@dataclass
class World:
    beats: Heartbeats
    presence: Presence
    clock: ManualClock
    notes: list[Notification]
    arrived: asyncio.Event

    async def told_n(self, user_id: str, n: int) -> list[tuple[str, bool, list[str]]]:
        """The pushes about `user_id` once `n` have arrived (the bus delivers a turn later)."""

        async def wait() -> None:
            while len(self.told(user_id)) < n:
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(wait(), 5)
        return self.told(user_id)

    def told(self, user_id: str) -> list[tuple[str, bool, list[str]]]:
        """(user, online?, recipients) of each presence push about `user_id`."""
        out = []
        for n in self.notes:
            f = msgspec.json.decode(n.frame)
            if f.get("type") == "PresenceStatusUpdated" and f["data"]["user_id"] == user_id:
                out.append((user_id, f["data"]["status"] == "online", sorted(n.recipients)))
        return out


def _user(uid: str) -> User:
    return User(uid, uid, uid, None, None, "", None, None, T0)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    engine = create_engine(f"sqlite:///{tmp_path / 'h.db'}")
    await migrate(engine)
    writer = GroupCommitWriter(engine)
    writer.start()
    clock = ManualClock()
    st = SqlStores.build(engine, writer, clock.now_ms)
    for uid in ("alice", "bob", "eve"):
        await st.accounts.create_user(_user(uid))
    await st.conversations.open_direct("c-ab", "alice", "bob", T0)
    notes: list[Notification] = []
    arrived = asyncio.Event()

    def deliver(note: Notification) -> None:
        notes.append(note)
        arrived.set()

    bus = InProcessBus()
    await bus.start(deliver)
    settings = PresenceSettings(st.presence_settings, clock)
    publisher = Publisher(bus)
    presence = Presence(st.presence, st.conversations, publisher, clock, LocalPresence(), settings)
    yield World(Heartbeats(presence, clock, TTL), presence, clock, notes, arrived)
    await writer.close()
    await engine.dispose()


async def test_presence_lapses_sixty_seconds_after_the_last_ping(world: World) -> None:
    w = world
    await w.beats.open("conn-b", "bob")
    assert await w.told_n("bob", 1) == [("bob", True, ["alice"])]  # eve shares nothing with bob
    assert await w.presence.online_among({"bob"}) == {"bob"}

    w.clock.now = T0 + 30_000
    await w.beats.ping("conn-b")
    w.clock.now = T0 + 30_000 + TTL - 1
    assert await w.beats.sweep() == []
    assert w.beats.due_in_ms() == 1
    w.clock.now = T0 + 30_000 + TTL
    assert await w.beats.sweep() == ["bob"]
    assert (await w.told_n("bob", 2))[-1] == ("bob", False, ["alice"])
    assert await w.presence.online_among({"bob"}) == set()
    assert await w.beats.sweep() == []  # told once
    assert w.beats.due_in_ms() is None

    # The next ping brings bob back; closing then makes him offline at once.
    await w.beats.ping("conn-b")
    assert (await w.told_n("bob", 3))[-1] == ("bob", True, ["alice"])
    await w.beats.close("conn-b")
    assert (await w.told_n("bob", 4))[-1] == ("bob", False, ["alice"])
    assert len(w.told("bob")) == 4


async def test_a_second_connection_keeps_the_user_online(world: World) -> None:
    w = world
    await w.beats.open("phone", "bob")
    await w.told_n("bob", 1)
    w.clock.now = T0 + 50_000
    await w.beats.open("laptop", "bob")
    w.clock.now = T0 + TTL
    assert await w.beats.sweep() == ["bob"]  # the phone lapsed, but bob is still online:
    assert await w.presence.online_among({"bob"}) == {"bob"}
    w.clock.now = T0 + 50_000 + TTL
    assert await w.beats.sweep() == ["bob"]
    assert [online for _, online, _ in await w.told_n("bob", 2)] == [True, False]
