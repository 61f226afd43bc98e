"""Blobs in the database (`core.ports.BlobStore`), blob metadata for the
filesystem store (`core.ports.BlobMetaStore`, see `blobs/filesystem.py`), and
what a blob belongs to plus the secrets signing its URLs (`BlobRefStore`)."""

from __future__ import annotations

from sqlalchemy import Connection, delete, exists, insert, select
from sqlalchemy.exc import IntegrityError

from hubbub.core.ports.blobs import BlobMeta
from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea

__all__ = ["SqlBlobs"]

_b = t.blobs
_r = t.blob_refs
_s = t.server_secrets
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
