"""Room files (spec 001's `file` messages) are collected once the room no
longer shows them: on a real node (SQLite, files under the data dir) with a
controlled clock and the collector triggered directly (`Node.collect_blobs`,
what every node runs every 10 minutes). A file whose message fell out of
the kept history, one whose message was deleted and one never sent go after
the grace period; the file the history still shows stays downloadable."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hubbub.config import Settings
from hubbub.core.blobs import ORPHAN_AFTER_MS, read_all
from hubbub.core.context import Caller
from hubbub.core.rooms import Joined
from hubbub.errors import NotFound
from hubbub.runtime import Node
from tests.core.test_accounts import T0, ManualClock

HISTORY = 2


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[tuple[Node, ManualClock]]:
    clock = ManualClock()
    settings = Settings(
        data_dir=tmp_path,
        argon2_time_cost=1,
        argon2_memory_kib=8192,
        chat_events_relay=False,
        simplechat_history=HISTORY,
    )
    n = Node(settings, clock=clock)
    await n.start()
    yield n, clock
    await n.close()


async def room_blobs(n: Node) -> set[str]:
    return set(await n.stores.blobs.created_before("room", 2**62, "", 1000))


async def post(n: Node, joined: Joined, body: bytes) -> tuple[str, str]:
    """Send a file; its message id and blob id."""
    before = await room_blobs(n)
    b64 = base64.b64encode(body).decode()
    mid = await n.rooms.send_file(joined, "f.txt", "text/plain", len(body), b64, "s1")
    [blob_id] = await room_blobs(n) - before
    return mid, blob_id


def files_on_disk(tmp_path: Path) -> set[str]:
    return {p.name for p in (tmp_path / "blobs").rglob("*") if p.is_file()}


async def test_files_the_room_no_longer_shows_are_collected(
    node: tuple[Node, ManualClock], tmp_path: Path
) -> None:
    n, clock = node
    joined = await n.rooms.join("h-alice", "alice", None, "c1")
    _, fallen_out = await post(n, joined, b"first file")
    await n.rooms.send_text(joined, "between", "s1")
    deleted_mid, deleted = await post(n, joined, b"second file")
    _, shown = await post(n, joined, b"third file")
    never_sent = await n.blobs.upload(
        joined.user.user_id, n.rooms.policy.files, "x.txt", "text/plain", 1, "eA=="
    )
    # The history holds the last two undeleted messages: "between" and the third file.
    caller = Caller(joined.user.user_id, joined.user.handle)
    await n.edits.delete(caller, joined.room_id, deleted_mid)
    assert await n.rooms.shown_files() == {shown}
    assert len(files_on_disk(tmp_path)) == 4

    assert await n.collect_blobs() == 0  # within the grace period: nothing goes
    clock.now = T0 + ORPHAN_AFTER_MS + 1
    assert await n.collect_blobs() == 3
    assert await n.collect_blobs() == 0  # once
    for gone in (fallen_out, deleted, never_sent.id):
        with pytest.raises(NotFound):
            await n.blobs.open(gone)
    assert (await read_all(n.blobs, shown))[1] == b"third file"
    assert files_on_disk(tmp_path) == {shown}
    assert await room_blobs(n) == {shown}


async def test_a_young_file_out_of_history_waits_for_the_grace_period(
    node: tuple[Node, ManualClock],
) -> None:
    n, clock = node
    joined = await n.rooms.join("h-bob", "bobby", None, "c1")
    _, old = await post(n, joined, b"old")
    for i in range(HISTORY):
        await n.rooms.send_text(joined, f"t{i}", "s1")
    clock.now = T0 + ORPHAN_AFTER_MS - 1
    assert await n.rooms.collect_files() == 0
    assert (await read_all(n.blobs, old))[1] == b"old"
    clock.now = T0 + ORPHAN_AFTER_MS + 1
    assert await n.rooms.collect_files() == 1
    with pytest.raises(NotFound):
        await n.blobs.open(old)
