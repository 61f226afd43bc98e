"""Blobs in the database (`core.ports.BlobStore`), and blob metadata for the
filesystem store (`core.ports.BlobMetaStore`, see `blobs/filesystem.py`)."""

from __future__ import annotations

from sqlalchemy import Connection, insert, select

from hubbub.core.ports.blobs import BlobMeta
from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea

__all__ = ["SqlBlobs"]

_b = t.blobs
_META = (_b.c.id, _b.c.owner_id, _b.c.purpose, _b.c.name, _b.c.mime, _b.c.size, _b.c.created_at)


def _row(meta: BlobMeta, data: bytes | None) -> dict[str, object]:
    return {
        "id": meta.id,
        "owner_id": meta.owner_id,
        "purpose": meta.purpose,
        "name": meta.name,
        "mime": meta.mime,
        "size": meta.size,
        "created_at": meta.created_at,
        "data": data,
    }


class SqlBlobs(SqlArea):
    """The blobs area: `blobs` (bytes included when blobs live in the database)."""

    async def _insert(self, meta: BlobMeta, data: bytes | None) -> None:
        def unit(conn: Connection) -> None:
            conn.execute(insert(_b).values(**_row(meta, data)))

        await self.writer.submit(unit)

    async def put(self, meta: BlobMeta, data: bytes) -> None:
        await self._insert(meta, data)

    async def put_meta(self, meta: BlobMeta) -> None:
        await self._insert(meta, None)

    async def get(self, blob_id: str) -> tuple[BlobMeta, bytes] | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(*_META, _b.c.data).where(_b.c.id == blob_id))).first()
        if row is None or row.data is None:
            return None
        return BlobMeta(*row[:7]), bytes(row.data)

    async def get_meta(self, blob_id: str) -> BlobMeta | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(*_META).where(_b.c.id == blob_id))).first()
        return BlobMeta(*row) if row is not None else None
