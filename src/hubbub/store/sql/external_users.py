"""Accounts of another system's users (`core.ports.ExternalUserStore`)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, insert, select

from hubbub.core.model import User
from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea

__all__ = ["SqlExternalUsers"]

_x = t.external_users


class SqlExternalUsers(SqlArea):
    """The external users area: `external_users` (and the `users` rows it creates)."""

    async def ensure_external(self, namespace: str, external_id: str, user: User) -> str:
        def unit(conn: Connection) -> str:
            found = conn.execute(
                select(_x.c.user_id).where(
                    _x.c.namespace == namespace, _x.c.external_id == external_id
                )
            ).scalar_one_or_none()
            if found is not None:
                return str(found)
            # A race with another node fails this batch on the primary key; the
            # writer replays the unit alone and the select finds the winner.
            conn.execute(
                insert(t.users).values(
                    id=user.id,
                    username=user.username,
                    password_hash=user.password_hash,
                    display_name=user.display_name,
                    created_at=user.created_at,
                )
            )
            conn.execute(
                insert(_x).values(
                    namespace=namespace,
                    external_id=external_id,
                    user_id=user.id,
                    created_at=user.created_at,
                )
            )
            return user.id

        return await self.writer.submit(unit)

    async def external_ids(self, namespace: str, user_ids: Iterable[str]) -> dict[str, str]:
        ids = list(set(user_ids))
        if not ids:
            return {}
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(_x.c.user_id, _x.c.external_id).where(
                    _x.c.namespace == namespace, _x.c.user_id.in_(ids)
                )
            )
            return {r.user_id: r.external_id for r in rows}
