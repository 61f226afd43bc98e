"""Every blob backend's contract, on SQLite and PostgreSQL metadata: the
database itself (`db`), files under a directory (`fs`) and an S3 bucket on a
real S3-speaking server (`s3`, moto's server mode). A blob is read back
byte for byte in chunks of at most `CHUNK_BYTES` (never whole), any range
of it too, `stat` knows only stored blobs, missing bytes are `BlobGone`,
and a delete forgets bytes and metadata (absent is fine)."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hubbub.blobs.filesystem import FsBlobs
from hubbub.blobs.s3 import S3Blobs, S3Settings
from hubbub.core.ports.blobs import CHUNK_BYTES, BlobGone, BlobMeta, BlobStore
from hubbub.ids import new_id
from hubbub.store.sql.stores import SqlStores
from tests.s3server import CREDENTIALS, MotoServer, moto, new_bucket  # noqa: F401 (fixture)
from tests.store.test_store_contract import now_ms, store  # noqa: F401  (the fixture)


@pytest.fixture(params=["db", "fs", "s3"])
async def backend(
    request: pytest.FixtureRequest,
    store: SqlStores,  # noqa: F811
    tmp_path: Path,
) -> AsyncIterator[BlobStore]:
    if request.param == "db":
        yield store.blobs
    elif request.param == "fs":
        yield FsBlobs(tmp_path / "blobs", store.blobs)
    else:
        server: MotoServer = request.getfixturevalue("moto")
        bucket = new_bucket()
        await server.create_bucket(bucket)
        saved = {k: os.environ.get(k) for k in CREDENTIALS}
        os.environ.update(CREDENTIALS)  # the standard chain, as a node reads it
        s3 = S3Blobs(S3Settings(bucket, server.endpoint, addressing_style="path"), store.blobs)
        try:
            await s3.start()
            yield s3
            await s3.close()
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def blob(size: int) -> tuple[BlobMeta, bytes]:
    meta = BlobMeta(
        secrets.token_urlsafe(24), new_id(), "t", "f.bin", "application/zip", size, now_ms()
    )
    return meta, secrets.token_bytes(size)


async def whole(backend: BlobStore, blob_id: str) -> tuple[BlobMeta, bytes] | None:
    """A stored blob's metadata and all its bytes (None if not stored)."""
    meta = await backend.stat(blob_id)
    if meta is None:
        return None
    return meta, b"".join(await chunks(backend, blob_id, 0, meta.size))


async def chunks(backend: BlobStore, blob_id: str, start: int, stop: int) -> list[bytes]:
    return [c async for c in backend.read(blob_id, start, stop)]


async def test_a_blob_streams_back_in_bounded_chunks(backend: BlobStore) -> None:
    meta, data = blob(3 * CHUNK_BYTES + 1234)
    await backend.put(meta, data)
    assert await backend.stat(meta.id) == meta
    got = await chunks(backend, meta.id, 0, meta.size)
    assert b"".join(got) == data
    assert len(got) >= 4 and max(len(c) for c in got) <= CHUNK_BYTES
    for start, stop in ((0, 1), (10, 110), (CHUNK_BYTES - 5, CHUNK_BYTES + 5), (100, meta.size)):
        part = await chunks(backend, meta.id, start, stop)
        assert b"".join(part) == data[start:stop]
        assert max(len(c) for c in part) <= CHUNK_BYTES


async def test_missing_bytes_are_gone_and_delete_forgets(backend: BlobStore) -> None:
    meta, data = blob(100)
    unknown = secrets.token_urlsafe(24)
    assert await backend.stat(unknown) is None
    assert await backend.stat("../../etc/passwd") is None
    with pytest.raises(BlobGone):
        await chunks(backend, unknown, 0, 10)
    await backend.put(meta, data)
    await backend.delete(meta.id)
    assert await backend.stat(meta.id) is None
    with pytest.raises(BlobGone):
        await chunks(backend, meta.id, 0, 10)
    await backend.delete(meta.id)  # absent is fine
    await backend.delete("not an id")
