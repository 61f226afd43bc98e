"""Published public keys (`core.ports.KeyStore`)."""

from __future__ import annotations

from sqlalchemy import Connection, insert, select

from hubbub.core.model import (
    NewEvent,
    StoredEvent,
)
from hubbub.errors import Conflict
from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea
from hubbub.store.sql.events import insert_event

__all__ = ["SqlKeys"]


class SqlKeys(SqlArea):
    """The keys area: `public_keys`."""

    async def publish_key(
        self, user_id: str, key_id: str, public_key: str, algorithm: str, now: int, event: NewEvent
    ) -> StoredEvent:
        def unit(conn: Connection) -> StoredEvent:
            k = t.public_keys
            row = (
                conn.execute(
                    select(k.c.public_key, k.c.algorithm).where(
                        k.c.user_id == user_id, k.c.key_id == key_id
                    )
                )
            ).first()
            if row is not None:
                if row.public_key != public_key or row.algorithm != algorithm:
                    raise Conflict("key_id already published with different key material")
            else:
                conn.execute(
                    insert(k).values(
                        user_id=user_id,
                        key_id=key_id,
                        public_key=public_key,
                        algorithm=algorithm,
                        created_at=now,
                    )
                )
            return insert_event(conn, event, now)

        return await self.writer.submit(unit)

    async def list_keys(self, user_id: str) -> list[dict[str, object]]:
        k = t.public_keys
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(k.c.key_id, k.c.public_key, k.c.algorithm, k.c.created_at)
                .where(k.c.user_id == user_id)
                .order_by(k.c.created_at.desc(), k.c.key_id)
            )
            return [dict(r._mapping) for r in rows]
