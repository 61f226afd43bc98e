"""Capabilities granted to accounts (`core.ports.CapabilityStore`)."""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert, select

from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea

__all__ = ["SqlCapabilities"]

_c = t.capabilities


class SqlCapabilities(SqlArea):
    """The capabilities area: `capabilities`."""

    async def grant(self, user_id: str, capability: str, by: str | None, now: int) -> None:
        def unit(conn: Connection) -> None:
            mine = (_c.c.user_id == user_id, _c.c.capability == capability)
            if conn.execute(select(_c.c.user_id).where(*mine)).first() is None:
                conn.execute(
                    insert(_c).values(
                        user_id=user_id, capability=capability, granted_by=by, granted_at=now
                    )
                )

        await self.writer.submit(unit)

    async def revoke(self, user_id: str, capability: str) -> bool:
        def unit(conn: Connection) -> bool:
            res = conn.execute(
                delete(_c).where(_c.c.user_id == user_id, _c.c.capability == capability)
            )
            return bool(res.rowcount)

        return await self.writer.submit(unit)

    async def of(self, user_id: str) -> list[str]:
        q = select(_c.c.capability).where(_c.c.user_id == user_id).order_by(_c.c.capability)
        async with self.engine.connect() as conn:
            return [r[0] for r in await conn.execute(q)]
