"""Organisations and their members (`core.ports.TenantStore`)."""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert, select

from hubbub.core.ports.tenants import Org
from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea

__all__ = ["SqlTenants"]

_o, _m = t.orgs, t.org_members


class SqlTenants(SqlArea):
    """The tenants area: `orgs`, `org_members`."""

    async def create_org(self, org: Org) -> bool:
        def unit(conn: Connection) -> bool:
            if conn.execute(select(_o.c.id).where(_o.c.id == org.id)).first() is not None:
                return False
            conn.execute(insert(_o).values(id=org.id, name=org.name, created_at=org.created_at))
            return True

        return await self.writer.submit(unit)

    async def get_org(self, org_id: str) -> Org | None:
        async with self.engine.connect() as conn:
            r = (await conn.execute(select(_o).where(_o.c.id == org_id))).first()
        return Org(r.id, r.name, r.created_at) if r is not None else None

    async def list_orgs(self) -> list[Org]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(_o).order_by(_o.c.created_at, _o.c.id).limit(10_000))
            return [Org(r.id, r.name, r.created_at) for r in rows]

    async def put_member(self, org_id: str, user_id: str, role: str, now: int) -> None:
        def unit(conn: Connection) -> None:
            conn.execute(delete(_m).where(_m.c.org_id == org_id, _m.c.user_id == user_id))
            conn.execute(insert(_m).values(org_id=org_id, user_id=user_id, role=role, added_at=now))

        await self.writer.submit(unit)

    async def remove_member(self, org_id: str, user_id: str) -> bool:
        def unit(conn: Connection) -> bool:
            res = conn.execute(delete(_m).where(_m.c.org_id == org_id, _m.c.user_id == user_id))
            return bool(res.rowcount)

        return await self.writer.submit(unit)

    async def members(self, org_id: str) -> list[tuple[str, str, int]]:
        q = select(_m).where(_m.c.org_id == org_id).order_by(_m.c.added_at, _m.c.user_id)
        async with self.engine.connect() as conn:
            return [(r.user_id, r.role, r.added_at) for r in await conn.execute(q.limit(10_000))]

    async def orgs_of(self, user_id: str) -> dict[str, str]:
        q = select(_m.c.org_id, _m.c.role).where(_m.c.user_id == user_id)
        async with self.engine.connect() as conn:
            return {r.org_id: r.role for r in await conn.execute(q)}
