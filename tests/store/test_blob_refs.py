"""The blobs area's contract on SQLite and PostgreSQL: a blob's conversation,
deleting a blob (bytes, metadata and reference), and server secrets that the
first caller creates and every later one reads back, even when raced."""

from __future__ import annotations

import asyncio
import secrets

from hubbub.core.ports.blobs import BlobMeta
from hubbub.ids import new_id
from hubbub.store.sql.stores import SqlStores
from tests.store.test_blob_streams import whole
from tests.store.test_store_contract import now_ms, store  # noqa: F401  (the fixture)


async def test_blob_refs_and_delete(store: SqlStores) -> None:  # noqa: F811
    blobs = store.blobs
    bid, cid, mid = secrets.token_urlsafe(24), new_id(), new_id()
    meta = BlobMeta(bid, new_id(), "voice", "voice.wav", "audio/wav", 3, now_ms())
    await blobs.put(meta, b"abc")
    await blobs.put_ref(bid, cid, mid, now_ms())
    other = new_id()
    await blobs.put_ref(bid, other, new_id(), now_ms())  # forwarded there
    await blobs.put_ref(bid, other, new_id(), now_ms())  # a retried forward: no error
    assert sorted(await blobs.ref_conversations(bid)) == sorted([cid, other])
    assert await whole(blobs, bid) == (meta, b"abc")
    await blobs.delete_ref(bid, other)
    assert await blobs.ref_conversations(bid) == [cid]
    await blobs.delete_ref(bid, cid)
    await blobs.delete(bid)
    assert await blobs.ref_conversations(bid) == []
    assert await blobs.stat(bid) is None and await blobs.get_meta(bid) is None
    await blobs.delete(bid)  # absent is fine


async def test_a_secret_is_created_once_and_shared(store: SqlStores) -> None:  # noqa: F811
    name = "test-" + secrets.token_hex(6)
    got = await asyncio.gather(*(store.blobs.secret(name, f"v{i}", now_ms()) for i in range(8)))
    assert len(set(got)) == 1 and got[0] in {f"v{i}" for i in range(8)}
    assert await store.blobs.secret(name, "another", now_ms()) == got[0]


async def test_unreferenced_lists_only_blobs_no_live_message_carries(
    store: SqlStores,  # noqa: F811
) -> None:
    blobs = store.blobs
    purpose = "t" + secrets.token_hex(4)  # the PostgreSQL database is shared: our own use
    t0 = now_ms()

    async def blob(created: int) -> str:
        bid = secrets.token_urlsafe(24)
        await blobs.put(BlobMeta(bid, new_id(), purpose, "v", "audio/wav", 1, created), b"x")
        return bid

    orphan, dangling, recent = await blob(t0 - 10), await blob(t0 - 10), await blob(t0 + 10)
    await blobs.put_ref(dangling, new_id(), new_id(), t0)  # its message never committed
    found = await blobs.unreferenced(purpose, t0, 10)
    assert sorted(found) == sorted([orphan, dangling])
    await blobs.delete_refs(dangling)
    assert await blobs.ref_conversations(dangling) == []
    assert recent not in found


async def test_created_before_pages_through_one_use_in_id_order(
    store: SqlStores,  # noqa: F811
) -> None:
    blobs = store.blobs
    purpose = "t" + secrets.token_hex(4)
    t0 = now_ms()
    old = []
    for _ in range(5):
        bid = secrets.token_urlsafe(24)
        await blobs.put(BlobMeta(bid, new_id(), purpose, "f", "text/plain", 1, t0 - 10), b"x")
        old.append(bid)
    young = secrets.token_urlsafe(24)
    await blobs.put(BlobMeta(young, new_id(), purpose, "f", "text/plain", 1, t0 + 10), b"x")
    other = secrets.token_urlsafe(24)
    await blobs.put(BlobMeta(other, new_id(), "o" + purpose, "f", "text/plain", 1, t0 - 10), b"x")
    first = await blobs.created_before(purpose, t0, "", 3)
    rest = await blobs.created_before(purpose, t0, first[-1], 3)
    assert first + rest == sorted(old) and len(first) == 3
    assert await blobs.created_before(purpose, t0, rest[-1], 3) == []
