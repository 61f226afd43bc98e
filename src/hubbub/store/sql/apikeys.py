"""API keys (`core.ports.ApiKeyStore`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from hubbub.core.ports.apikeys import ApiKey
from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea

__all__ = ["SqlApiKeys"]

_k = t.api_keys


def _key(row: Any) -> ApiKey:
    return ApiKey(
        row.id,
        row.user_id,
        row.name,
        bool(row.read_only),
        row.created_at,
        row.last_used_at,
        row.revoked_at,
    )


class SqlApiKeys(SqlArea):
    """The API keys area: `api_keys`."""

    async def create_key(self, key: ApiKey, key_hash: str, max_live: int) -> bool:
        def unit(conn: Connection) -> bool:
            live = conn.execute(
                select(func.count())
                .select_from(_k)
                .where(_k.c.user_id == key.user_id, _k.c.revoked_at.is_(None))
            ).scalar_one()
            if live >= max_live:
                return False
            conn.execute(
                insert(_k).values(
                    id=key.id,
                    key_hash=key_hash,
                    user_id=key.user_id,
                    name=key.name,
                    read_only=key.read_only,
                    created_at=key.created_at,
                )
            )
            return True

        return await self.writer.submit(unit)

    async def list_keys(self, user_id: str) -> list[ApiKey]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(_k)
                .where(_k.c.user_id == user_id, _k.c.revoked_at.is_(None))
                .order_by(_k.c.created_at, _k.c.id)
            )
            return [_key(r) for r in rows]

    async def revoke_key(self, user_id: str, key_id: str, now: int) -> str | None:
        def unit(conn: Connection) -> str | None:
            mine = (_k.c.id == key_id, _k.c.user_id == user_id, _k.c.revoked_at.is_(None))
            found = conn.execute(select(_k.c.key_hash).where(*mine)).first()
            if found is None:
                return None
            conn.execute(update(_k).where(*mine).values(revoked_at=now))
            return str(found.key_hash)

        return await self.writer.submit(unit)

    async def lookup_key(self, key_hash: str) -> ApiKey | None:
        u = t.users
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(_k)
                    .join(u, u.c.id == _k.c.user_id)
                    .where(
                        _k.c.key_hash == key_hash,
                        _k.c.revoked_at.is_(None),
                        u.c.deactivated_at.is_(None),
                    )
                )
            ).first()
        return _key(row) if row else None

    async def touch_key(self, key_hash: str, now: int) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(update(_k).where(_k.c.key_hash == key_hash).values(last_used_at=now))
