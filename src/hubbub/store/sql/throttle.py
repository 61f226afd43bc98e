"""Auth throttle counters (`core.ports.ThrottleStore`).

Each update is a writer unit: on SQLite the one writer (BEGIN IMMEDIATE)
serialises it, on PostgreSQL the batch's advisory lock serialises it with
every other node's units, so a read-modify-write of a counter never loses a
concurrent failure.
"""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import Connection, delete, insert, select, update

from hubbub.core.ports.throttle import Counter, Step
from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea

__all__ = ["SqlThrottle"]

R = TypeVar("R")
_th = t.auth_throttle


class SqlThrottle(SqlArea):
    """The throttle area: `auth_throttle`."""

    async def update_counters(self, keys: list[str], step: Step[R]) -> R:
        def unit(conn: Connection) -> R:
            cols = (_th.c.key, _th.c.count, _th.c.next_at, _th.c.locked_until, _th.c.updated_at)
            rows = conn.execute(select(*cols).where(_th.c.key.in_(keys)).with_for_update())
            # (a Row's `.count` is tuple.count: unpack instead)
            current = {key: Counter(n, nxt, lock, upd) for key, n, nxt, lock, upd in rows}
            changes, result = step(current)
            for key, c in changes.items():
                if c is None:
                    conn.execute(delete(_th).where(_th.c.key == key))
                    continue
                values = {
                    "count": c.count,
                    "next_at": c.next_at,
                    "locked_until": c.locked_until,
                    "updated_at": c.updated_at,
                }
                if key in current:
                    conn.execute(update(_th).where(_th.c.key == key).values(**values))
                else:
                    conn.execute(insert(_th).values(key=key, **values))
            return result

        return await self.writer.submit(unit)

    async def forget_counters(self, idle_before: int, now: int) -> int:
        def unit(conn: Connection) -> int:
            res = conn.execute(
                delete(_th).where(_th.c.updated_at < idle_before, _th.c.locked_until < now)
            )
            return int(res.rowcount or 0)

        return await self.writer.submit(unit)
