"""MTChat attachments on a real node with a controlled clock: their bytes are
blobs of the shared store, and one presigned but never sent is collected
with its blob after the grace period, while a sent one is kept. Runs on the
suite's backend (SQLite files, or PostgreSQL with the blobs in it)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hubbub.config import Settings
from hubbub.core.attachments import ORPHAN_AFTER_MS
from hubbub.core.blobs import read_all
from hubbub.core.context import Caller
from hubbub.errors import NotFound
from hubbub.ids import new_id
from hubbub.runtime import Node
from tests.core.test_accounts import T0, ManualClock
from tests.support import ServerProcess

DATA = b"%PDF-1.4 hello"


@pytest.fixture
async def node(tmp_path: Path, backend: str) -> AsyncIterator[tuple[Node, ManualClock]]:
    clock = ManualClock()
    settings = Settings(
        data_dir=tmp_path,
        database_url=ServerProcess.default_database_url,
        argon2_time_cost=1,
        argon2_memory_kib=8192,
        registration="open",
        chat_events_relay=False,
        simplechat=False,
    )
    n = Node(settings, clock=clock)
    await n.start()
    yield n, clock
    await n.close()


async def test_unsent_attachments_are_collected_with_their_blobs(
    node: tuple[Node, ManualClock],
) -> None:
    n, clock = node
    while await n.attachments.collect_orphans():  # other tests' on a shared database
        pass
    a_id, _ = await n.accounts.register("alice" + str(T0 % 1000), "correct horse battery")
    b_id, _ = await n.accounts.register("bob" + str(T0 % 1000), "correct horse battery")
    alice = Caller(a_id, "d-a")
    cid, _ = await n.conversations.open_direct(alice, b_id)

    async def uploaded() -> str:
        rec = await n.attachments.announce(a_id, cid, "a.pdf", "application/pdf", len(DATA))
        await n.attachments.accept_upload(rec.id, DATA)
        return rec.id

    sent, unsent = await uploaded(), await uploaded()
    never = (await n.attachments.announce(a_id, cid, "b.pdf", "application/pdf", 3)).id
    mid = new_id()
    await n.attachments.reserve(a_id, cid, [sent], mid)
    with pytest.raises(NotFound):  # one send has it: another cannot take it
        await n.attachments.reserve(a_id, cid, [sent], new_id())
    msg = await n.messages.send_text(alice, cid, "files", "text", None, False, None, message_id=mid)
    unsent_blob = await n.stores.attachments.get_attachment(unsent)
    assert unsent_blob is not None and unsent_blob.blob_id is not None
    assert (await read_all(n.blobs, unsent_blob.blob_id))[1] == DATA  # in the blob store

    assert await n.attachments.collect_orphans() == 0  # within the grace period
    clock.now = T0 + ORPHAN_AFTER_MS + 1
    assert await n.attachments.collect_orphans() == 2
    assert await n.attachments.collect_orphans() == 0
    for gone in (unsent, never):
        assert await n.stores.attachments.get_attachment(gone) is None
    with pytest.raises(NotFound):
        await n.blobs.open(unsent_blob.blob_id)
    rec, meta = await n.attachments.content(sent)
    assert rec.message_id == msg["message_id"] and (await read_all(n.blobs, meta.id))[1] == DATA
    # A file a message took meanwhile is not the collector's any more.
    late = await uploaded()
    await n.attachments.reserve(a_id, cid, [late], msg["message_id"])
    assert not await n.stores.attachments.delete_unsent(late)
    # A send that failed gives its files back.
    freed, failed = await uploaded(), new_id()
    await n.attachments.reserve(a_id, cid, [freed], failed)
    await n.attachments.release([freed], new_id())  # not that send's: kept
    with pytest.raises(NotFound):
        await n.attachments.reserve(a_id, cid, [freed], new_id())
    await n.attachments.release([freed], failed)
    assert await n.attachments.reserve(a_id, cid, [freed], new_id())
