"""Which conversations a new message must look at for archives, on a real
SQLite store: the node reads once which conversations hold an archive, then
a message anywhere else costs no read; an archive made here or announced by
another node (its invalidation) is revived by the next message; a revived
conversation needs no read again; a bus gap reads again; past ARCHIVED_MAX
the node reads per conversation and is still right.

Reads are counted with SQLAlchemy's statement hook on the real engine:
"no read" is the property this module exists for (a read per conversation
made the first messages after a restart queue behind the read pool)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event as sa_event

from hubbub.bus.inprocess import InProcessBus
from hubbub.core import archive as archive_mod
from hubbub.core.archive import Archive
from hubbub.core.context import Caller
from hubbub.core.conversations import Conversations
from hubbub.core.frames import event
from hubbub.core.model import MessageRecord, User
from hubbub.core.publisher import Publisher
from hubbub.ids import new_id
from hubbub.store.sql.engine import create_engine
from hubbub.store.sql.migrate import migrate
from hubbub.store.sql.stores import SqlStores
from hubbub.store.sql.writer import GroupCommitWriter
from tests.core.test_accounts import T0, ManualClock


@dataclass
class World:
    archive: Archive
    st: SqlStores
    reads: list[str]  # statements on the archives table, in order

    def archive_reads(self) -> int:
        return len(self.reads)


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
    reads: list[str] = []

    def count(_c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        if "FROM archives" in statement:
            reads.append(statement)

    sa_event.listen(engine.sync_engine, "before_cursor_execute", count)
    await st.accounts.create_user(User("a", "a", "a", None, None, "", None, None, T0))
    yield World(Archive(st.archive, conversations, pub, clock), st, reads)
    await writer.close()
    await engine.dispose()


async def _chat(w: World) -> str:
    """A direct chat of "a" with someone new (one per pair of users)."""
    other = new_id()
    await w.st.accounts.create_user(User(other, other, other, None, None, "", None, None, T0))
    cid, _ = await w.st.conversations.open_direct(new_id(), "a", other, T0)
    return cid


async def _send(w: World, cid: str) -> None:
    """A message stored, then what `Messages` runs after it."""
    rec = MessageRecord(new_id(), cid, "a", "text", T0, None, None, None, False, None)
    ev = event("c", cid, "chat/messages", "ChatMessageReceived", {"content": "x"}, rec.id)
    await w.st.messages.append_message(rec, {"content": "x"}, ev)
    await w.archive.revive(cid, "a")


async def _archive_elsewhere(w: World, cid: str) -> None:
    """Another node's archive: the row, then its invalidation arriving here."""
    ev = event("u", "a", "chat/archive", "ChatArchiveStatusChanged", {"conversation_id": cid})
    await w.st.archive.set_archived(cid, "a", True, T0, ev, None, lambda c: {})
    w.archive.forget([cid])


async def test_messages_in_conversations_nobody_archived_read_once_in_all(w: World) -> None:
    chats = [await _chat(w) for _ in range(20)]
    archived = await _chat(w)
    await _send(w, archived)
    await _archive_elsewhere(w, archived)
    w.reads.clear()
    w.archive.forget_all()  # as after a restart: nothing known yet
    # twenty first messages at once share the one read
    await asyncio.gather(*(_send(w, cid) for cid in chats))
    assert w.archive_reads() == 1
    for cid in chats:
        await _send(w, cid)
    assert w.archive_reads() == 1
    # the archived one is in what was read: its message revives it
    await _send(w, archived)
    assert await w.st.archive.archived_of("a") == set()
    assert not await w.st.archive.has_archives(archived)


async def test_archives_made_after_the_read_are_revived(w: World) -> None:
    here, there = await _chat(w), await _chat(w)
    await _send(w, here)
    await _send(w, there)  # both read as having no archive
    await w.archive.set_archived(Caller("a", "d-a"), here, True)
    await _archive_elsewhere(w, there)
    assert await w.st.archive.archived_of("a") == {here, there}
    await _send(w, here)
    await _send(w, there)
    assert not await w.st.archive.has_archives(here)
    assert not await w.st.archive.has_archives(there)
    # revived: out of the set, so their next messages read nothing
    w.reads.clear()
    await _send(w, here)
    await _send(w, there)
    assert w.archive_reads() == 0
    # archived again later: revived again
    await _archive_elsewhere(w, there)
    await _send(w, there)
    assert not await w.st.archive.has_archives(there)


async def test_an_archive_announced_during_a_revival_keeps_the_conversation(w: World) -> None:
    """The revival's "none left" read raced an archive: its announcement wins."""
    cid = await _chat(w)
    await _send(w, cid)
    await _archive_elsewhere(w, cid)
    real = w.st.archive.has_archives
    late: list[bool] = []

    async def racing(conversation_id: str) -> bool:
        found = await real(conversation_id)  # read before the archive commits...
        if not late:
            late.append(True)
            await _archive_elsewhere(w, conversation_id)  # ... announced after it
        return found

    w.st.archive.has_archives = racing  # type: ignore[method-assign]
    try:
        await _send(w, cid)
    finally:
        w.st.archive.has_archives = real  # type: ignore[method-assign]
    assert await w.st.archive.has_archives(cid)  # the late archive stands
    await _send(w, cid)  # and the next message still looks
    assert not await w.st.archive.has_archives(cid)


async def test_a_bus_gap_reads_again(w: World) -> None:
    cid = await _chat(w)
    await _send(w, cid)
    # an archive whose invalidation was lost in the gap
    ev = event("u", "a", "chat/archive", "ChatArchiveStatusChanged", {"conversation_id": cid})
    await w.st.archive.set_archived(cid, "a", True, T0, ev, None, lambda c: {})
    w.archive.forget_all()
    await _send(w, cid)
    assert not await w.st.archive.has_archives(cid)


async def test_past_the_limit_each_conversation_is_read(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archive_mod, "ARCHIVED_MAX", 1)
    one, two, quiet = await _chat(w), await _chat(w), await _chat(w)
    for cid in (one, two, quiet):
        await _send(w, cid)
    await _archive_elsewhere(w, one)
    await _archive_elsewhere(w, two)
    w.archive.forget_all()
    for cid in (one, two):
        await _send(w, cid)
        assert not await w.st.archive.has_archives(cid)
    await _send(w, quiet)
    w.reads.clear()
    await _send(w, quiet)  # remembered as quiet: no read
    assert w.archive_reads() == 0
