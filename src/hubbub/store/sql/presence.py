"""Last seen, the durable half of presence (`core.ports.LastSeenStore`)."""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea

__all__ = ["SqlLastSeen"]


class SqlLastSeen(SqlArea):
    """The presence area: `users.last_seen_at`."""

    async def touch_last_seen(self, user_id: str, now: int) -> None:
        def unit(conn: Connection) -> None:
            conn.execute(update(t.users).where(t.users.c.id == user_id).values(last_seen_at=now))

        await self.writer.submit(unit)

    async def last_seen_of(self, user_ids: list[str]) -> dict[str, int | None]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(t.users.c.id, t.users.c.last_seen_at).where(t.users.c.id.in_(user_ids))
            )
            return {r.id: r.last_seen_at for r in rows}
