"""Typing indicators on a real SQLite store and the in-process bus, with a
controlled clock: a start is told once to the other members (not the typist,
not outsiders), renewed by repeated starts, and lapses `ttl` after the last
one with `expired: true`; a stop is told at once; nothing is stored."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pytest

from hubbub.bus.inprocess import InProcessBus
from hubbub.core.context import Caller
from hubbub.core.conversations import Conversations
from hubbub.core.model import Notification, User
from hubbub.core.publisher import Publisher
from hubbub.core.typing_status import TypingStatus
from hubbub.errors import NotFound, ValidationFailed
from hubbub.store.sql.engine import create_engine
from hubbub.store.sql.migrate import migrate
from hubbub.store.sql.stores import SqlStores
from hubbub.store.sql.writer import GroupCommitWriter
from tests.core.test_accounts import T0, ManualClock

TTL = 5_000


@dataclass
class World:
    typing: TypingStatus
    clock: ManualClock
    notes: list[Notification]
    arrived: asyncio.Event
    pos_before: int
    events: Any

    async def told(self, n: int) -> list[tuple[str, dict[str, Any], list[str]]]:
        """(type, data, recipients) of the first `n` pushes, once they arrived."""

        async def wait() -> None:
            while len(self.notes) < n:
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(wait(), 5)
        out = []
        for note in self.notes[:n]:
            f = msgspec.json.decode(note.frame)
            assert f["channel"] == "chat/typing" and note.pos is None
            out.append((f["type"], f["data"], sorted(note.recipients)))
        return out


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    engine = create_engine(f"sqlite:///{tmp_path / 't.db'}")
    await migrate(engine)
    writer = GroupCommitWriter(engine)
    writer.start()
    clock = ManualClock()
    st = SqlStores.build(engine, writer, clock.now_ms)
    for uid in ("alice", "bob", "eve"):
        await st.accounts.create_user(User(uid, uid, uid, None, None, "", None, None, T0))
    await st.conversations.open_direct("c-ab", "alice", "bob", T0)
    notes: list[Notification] = []
    arrived = asyncio.Event()

    def deliver(note: Notification) -> None:
        notes.append(note)
        arrived.set()

    bus = InProcessBus()
    await bus.start(deliver)
    publisher = Publisher(bus)
    conversations = Conversations(st.conversations, st.accounts, publisher, clock)
    head = await st.events.max_pos()
    yield World(
        TypingStatus(conversations, publisher, clock, TTL), clock, notes, arrived, head, st.events
    )
    await writer.close()
    await engine.dispose()


def caller(uid: str) -> Caller:
    return Caller(uid, "dev")


async def test_start_is_told_once_renewed_then_lapses(world: World) -> None:
    w = world
    until = await w.typing.start(caller("alice"), "c-ab")
    [(kind, data, to)] = await w.told(1)
    assert kind == "TypingStarted" and to == ["bob"]  # not alice, not eve
    assert data["user_id"] == "alice" and data["conversation_id"] == "c-ab"
    assert data["expires_at"] == until
    assert w.typing.due_in_ms() == TTL

    w.clock.now = T0 + 3_000
    await w.typing.start(caller("alice"), "c-ab")  # a renewal, not a second push
    assert await w.typing.sweep() == 0
    assert len(w.notes) == 1
    w.clock.now = T0 + TTL  # the first deadline: renewed, so nothing lapses
    assert await w.typing.sweep() == 0
    assert w.typing.due_in_ms() == 3_000
    w.clock.now = T0 + 3_000 + TTL
    assert await w.typing.sweep() == 1
    _, (kind, data, to) = await w.told(2)
    assert kind == "TypingStopped" and data["expired"] is True and to == ["bob"]
    assert not w.typing.is_typing("c-ab", "alice")
    assert await w.typing.sweep() == 0 and w.typing.due_in_ms() is None
    assert await w.events.max_pos() == w.pos_before  # never stored


async def test_stop_is_told_at_once_and_only_members_may(world: World) -> None:
    w = world
    await w.typing.start(caller("bob"), "c-ab")
    await w.typing.stop(caller("bob"), "c-ab")
    _, (kind, data, to) = await w.told(2)
    assert kind == "TypingStopped" and data["expired"] is False and to == ["alice"]
    w.clock.now = T0 + TTL
    assert await w.typing.sweep() == 0  # stopped: nothing left to lapse
    with pytest.raises(NotFound):
        await w.typing.start(caller("eve"), "c-ab")
    with pytest.raises(NotFound):
        await w.typing.stop(caller("eve"), "c-ab")
    with pytest.raises(ValidationFailed):
        await w.typing.start(caller("alice"), "x" * 65)
    # Stop then start again: one live indicator, one lapse.
    await w.typing.start(caller("alice"), "c-ab")
    await w.typing.stop(caller("alice"), "c-ab")
    await w.typing.start(caller("alice"), "c-ab")
    w.clock.now = T0 + 2 * TTL
    assert await w.typing.sweep() == 1
