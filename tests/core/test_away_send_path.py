"""Away replies on a real SQLite store with the clock injected: the send path
reads nobody's settings for a message to a user without automatic replies
(one read of who has any, at the first message); the reply window is
24 hours of the injected clock; another node's change, announced by its
invalidation, applies to the next message here.

Reads are counted with SQLAlchemy's statement hook on the real engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select

from hubbub.bus.inprocess import InProcessBus
from hubbub.core.away import INVALIDATE_PREFIX, REPLY_WINDOW_MS, Away
from hubbub.core.context import Caller
from hubbub.core.conversations import Conversations
from hubbub.core.frames import event
from hubbub.core.messages import Messages
from hubbub.core.model import User
from hubbub.core.ports import AwaySettings
from hubbub.core.publisher import Publisher
from hubbub.ids import new_id
from hubbub.store.sql import tables as t
from hubbub.store.sql.engine import create_engine
from hubbub.store.sql.migrate import migrate
from hubbub.store.sql.stores import SqlStores
from hubbub.store.sql.writer import GroupCommitWriter
from tests.core.test_accounts import T0, ManualClock


@dataclass
class World:
    away: Away
    messages: Messages
    st: SqlStores
    clock: ManualClock
    reads: list[str]  # statements on away_settings, in order


@pytest.fixture
async def w(tmp_path: Path) -> AsyncIterator[World]:
    engine = create_engine(f"sqlite:///{tmp_path / 'a.db'}")
    await migrate(engine)
    writer = GroupCommitWriter(engine)
    writer.start()
    clock = ManualClock()
    st = SqlStores.build(engine, writer, clock.now_ms)
    pub = Publisher(InProcessBus())
    conversations = Conversations(st.conversations, st.accounts, pub, clock)
    messages = Messages(st.messages, st.events, conversations, pub, clock)
    away = Away(st.away, messages, conversations, pub, clock)
    messages.on_sent.append(away.on_sent)
    reads: list[str] = []

    def count(_c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        if "FROM away_settings" in statement:
            reads.append(statement)

    sa_event.listen(engine.sync_engine, "before_cursor_execute", count)
    yield World(away, messages, st, clock, reads)
    await writer.close()
    await engine.dispose()


async def _user(w: World) -> str:
    uid = new_id()
    await w.st.accounts.create_user(User(uid, uid, uid, None, None, "", None, None, T0))
    return uid


async def _send(w: World, sender: str, cid: str) -> None:
    await w.messages.send_text(Caller(sender, "dev"), cid, "hello", None, new_id(), False, None)


async def _away_replies(w: World, cid: str) -> int:
    async with w.st.engine.connect() as conn:
        rows = await conn.execute(
            select(t.events.c.data).where(t.events.c.target == cid, t.events.c.scope == "c")
        )
        return sum(1 for r in rows if msgspec.json.decode(bytes(r.data)).get("type") == "away")


async def test_no_settings_read_for_users_without_automatic_replies(w: World) -> None:
    a = await _user(w)
    chats = []
    for _ in range(10):
        b = await _user(w)
        chats.append((await w.st.conversations.open_direct(new_id(), a, b, T0))[0])
    for cid in chats:
        await _send(w, a, cid)
        await _send(w, a, cid)
    assert len(w.reads) == 1  # who has automatic replies, once; nobody's settings


async def test_one_reply_per_24_hours_of_the_clock(w: World) -> None:
    alice, bob = await _user(w), await _user(w)
    cid, _ = await w.st.conversations.open_direct(new_id(), alice, bob, T0)
    await w.away.set_away(Caller(alice, "dev"), True, "away", None)
    await _send(w, bob, cid)
    assert await _away_replies(w, cid) == 1
    w.clock.now += REPLY_WINDOW_MS - 1
    await _send(w, bob, cid)
    await _send(w, alice, cid)  # her own message is never answered
    assert await _away_replies(w, cid) == 1
    w.clock.now += 2
    await _send(w, bob, cid)
    assert await _away_replies(w, cid) == 2


async def test_another_nodes_change_applies_after_its_invalidation(w: World) -> None:
    alice, bob = await _user(w), await _user(w)
    cid, _ = await w.st.conversations.open_direct(new_id(), alice, bob, T0)
    await _send(w, bob, cid)  # the set is read: nobody
    assert await _away_replies(w, cid) == 0
    on = AwaySettings(True, "elsewhere", "", None, T0)
    ev = event("u", alice, "user/away", "AwayMessageUpdated", {})
    await w.st.away.set_settings(alice, on, lambda _s: ev)  # written by another node
    w.away.forget([INVALIDATE_PREFIX + alice, new_id()])  # its bus invalidation
    await _send(w, bob, cid)
    assert await _away_replies(w, cid) == 1
    # Disabled elsewhere: the next read finds nothing and takes her out again.
    off = AwaySettings(False, "elsewhere", "", None, T0 + 1)
    await w.st.away.set_settings(alice, off, lambda _s: ev)
    w.away.forget([INVALIDATE_PREFIX + alice])
    reads = len(w.reads)
    w.clock.now += REPLY_WINDOW_MS + 1
    await _send(w, bob, cid)
    await _send(w, bob, cid)
    assert await _away_replies(w, cid) == 1
    assert len(w.reads) == reads + 1  # read once, then known to have none
