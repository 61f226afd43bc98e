"""Spec 003's auto-archive on a real SQLite store with a controlled clock: a
dialog idle for the configured time is archived for each member, once; a
message resets the clock; plain conversations are never auto-archived."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hubbub.bus.inprocess import InProcessBus
from hubbub.core.archive import Archive
from hubbub.core.conversations import Conversations
from hubbub.core.frames import event
from hubbub.core.model import MessageRecord, User
from hubbub.core.ports.dialogs import DialogRecord, Participant
from hubbub.core.publisher import Publisher
from hubbub.ids import new_id
from hubbub.store.sql.engine import create_engine
from hubbub.store.sql.migrate import migrate
from hubbub.store.sql.stores import SqlStores
from hubbub.store.sql.writer import GroupCommitWriter
from tests.core.test_accounts import T0, ManualClock

DAY = 86_400_000


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[tuple[Archive, SqlStores, ManualClock]]:
    engine = create_engine(f"sqlite:///{tmp_path / 'a.db'}")
    await migrate(engine)
    writer = GroupCommitWriter(engine)
    writer.start()
    clock = ManualClock()
    st = SqlStores.build(engine, writer, clock.now_ms)
    pub = Publisher(InProcessBus())
    conversations = Conversations(st.conversations, st.accounts, pub, clock)
    yield Archive(st.archive, conversations, pub, clock), st, clock
    await writer.close()
    await engine.dispose()


async def _send(st: SqlStores, cid: str, sender: str, at: int) -> None:
    rec = MessageRecord(new_id(), cid, sender, "text", at, None, None, None, False, None)
    ev = event("c", cid, "chat/messages", "ChatMessageReceived", {"content": "x"}, rec.id)
    await st.messages.append_message(rec, {"content": "x"}, ev)


async def test_idle_dialogs_are_archived_once_for_each_member(
    setup: tuple[Archive, SqlStores, ManualClock],
) -> None:
    archive, st, clock = setup
    for uid in ("a", "b"):
        await st.accounts.create_user(User(uid, uid, uid, None, None, "", None, None, T0))
    dialog = DialogRecord("d1", "order", "o1", None, None, None, None, [], T0)
    await st.dialogs.create_dialog(dialog, [Participant("a", "A"), Participant("b", "B")], "a")
    direct, _ = await st.conversations.open_direct("c1", "a", "b", T0)
    await _send(st, "d1", "a", T0 + DAY)
    await _send(st, direct, "a", T0)

    clock.now = T0 + DAY + 3 * DAY - 1
    assert await archive.archive_inactive(3 * DAY) == 0
    clock.now = T0 + DAY + 3 * DAY + 1
    assert await archive.archive_inactive(3 * DAY) == 2
    assert await archive.archived_of("a") == {"d1"}  # the direct chat is not a dialog
    assert await archive.archive_inactive(3 * DAY) == 0  # once
    await _send(st, "d1", "b", clock.now)  # a message brings it back, for both
    assert await archive.archived_of("a") == set() == await archive.archived_of("b")
    clock.now += 3 * DAY + 1
    assert await archive.archive_inactive(3 * DAY) == 2  # idle again
