"""Blobs in the database (`core.ports.BlobStore`), blob metadata for the
filesystem and S3 stores (`core.ports.BlobMetaStore`, see `blobs/`), and
what a blob belongs to plus the secrets signing its URLs (`BlobRefStore`).

A download from the database reads `QUERY_BYTES` per query (`substr` of the
`data` column, on SQLite and PostgreSQL alike), one short read each, handed
on in `CHUNK_BYTES` slices: neither the whole blob nor a long-held
connection is needed. A query reads more than a chunk because SQLite loads
the whole value for every `substr`: 1 MiB slices keep a 20 MiB download to
20 such loads instead of 320."""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy import Connection, delete, exists, func, insert, select
from sqlalchemy.exc import IntegrityError

from hubbub.core.ports.blobs import CHUNK_BYTES, BlobGone, BlobMeta
from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea

__all__ = ["SqlBlobs"]

_b = t.blobs
_r = t.blob_refs
_s = t.server_secrets
QUERY_BYTES = 16 * CHUNK_BYTES
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

    async def stat(self, blob_id: str) -> BlobMeta | None:
        query = select(*_META).where(_b.c.id == blob_id, _b.c.data.is_not(None))
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return BlobMeta(*row) if row is not None else None

    async def read(self, blob_id: str, start: int, stop: int) -> AsyncIterator[bytes]:
        at = start
        while at < stop:
            n = min(QUERY_BYTES, stop - at)
            part = func.substr(_b.c.data, at + 1, n)  # 1-based, on bytes in both dialects
            async with self.engine.connect() as conn:
                row = (await conn.execute(select(part).where(_b.c.id == blob_id))).first()
            if row is None or not row[0]:
                raise BlobGone(blob_id)
            got = memoryview(bytes(row[0]))
            at += len(got)
            for i in range(0, len(got), CHUNK_BYTES):
                yield bytes(got[i : i + CHUNK_BYTES])

    async def get_meta(self, blob_id: str) -> BlobMeta | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(*_META).where(_b.c.id == blob_id))).first()
        return BlobMeta(*row) if row is not None else None

    async def delete(self, blob_id: str) -> None:
        await self.delete_meta(blob_id)

    async def delete_meta(self, blob_id: str) -> None:
        def unit(conn: Connection) -> None:
            conn.execute(delete(_b).where(_b.c.id == blob_id))

        await self.writer.submit(unit)

    async def put_ref(self, blob_id: str, conversation_id: str, message_id: str, now: int) -> None:
        def unit(conn: Connection) -> None:
            here = (_r.c.blob_id == blob_id) & (_r.c.conversation_id == conversation_id)
            if conn.execute(select(_r.c.blob_id).where(here)).first() is not None:
                return  # a retried forward: the first one's reference stands
            conn.execute(
                insert(_r).values(
                    blob_id=blob_id,
                    conversation_id=conversation_id,
                    message_id=message_id,
                    created_at=now,
                )
            )

        await self.writer.submit(unit)

    async def ref_conversations(self, blob_id: str) -> list[str]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(_r.c.conversation_id).where(_r.c.blob_id == blob_id))
            return [str(r[0]) for r in rows]

    async def delete_ref(self, blob_id: str, conversation_id: str) -> None:
        def unit(conn: Connection) -> None:
            here = (_r.c.blob_id == blob_id) & (_r.c.conversation_id == conversation_id)
            conn.execute(delete(_r).where(here))

        await self.writer.submit(unit)

    async def unreferenced(self, purpose: str, before: int, limit: int) -> list[str]:
        m = t.messages
        live = (
            select(_r.c.blob_id)
            .join(m, m.c.id == _r.c.message_id)
            .where(_r.c.blob_id == _b.c.id, m.c.deleted_at.is_(None))
        )
        query = (
            select(_b.c.id)
            .where(_b.c.purpose == purpose, _b.c.created_at < before, ~exists(live))
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            return [str(r[0]) for r in await conn.execute(query)]

    async def created_before(
        self, purpose: str, before: int, after_id: str, limit: int
    ) -> list[str]:
        query = (
            select(_b.c.id)
            .where(_b.c.purpose == purpose, _b.c.created_at < before, _b.c.id > after_id)
            .order_by(_b.c.id)
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            return [str(r[0]) for r in await conn.execute(query)]

    async def delete_refs(self, blob_id: str) -> None:
        def unit(conn: Connection) -> None:
            conn.execute(delete(_r).where(_r.c.blob_id == blob_id))

        await self.writer.submit(unit)

    async def _read_secret(self, name: str) -> str | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(_s.c.value).where(_s.c.name == name))).first()
        return str(row[0]) if row is not None else None

    async def secret(self, name: str, candidate: str, now: int) -> str:
        found = await self._read_secret(name)
        if found is not None:
            return found

        def unit(conn: Connection) -> str:
            row = conn.execute(select(_s.c.value).where(_s.c.name == name)).first()
            if row is not None:
                return str(row[0])
            conn.execute(insert(_s).values(name=name, value=candidate, created_at=now))
            return candidate

        try:
            return await self.writer.submit(unit)
        except IntegrityError:  # another node created it first: theirs is the secret
            found = await self._read_secret(name)
            if found is None:
                raise
            return found
