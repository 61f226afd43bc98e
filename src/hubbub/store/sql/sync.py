"""Per-device sync cursors (`core.ports.CursorStore`)."""

from __future__ import annotations

from sqlalchemy import Connection, and_, insert, select, update

from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea

__all__ = ["SqlCursors"]


class SqlCursors(SqlArea):
    """The sync area: `device_cursors`."""

    async def set_cursor(self, user_id: str, device_id: str, seq: int, now: int) -> None:
        c = t.device_cursors

        def unit(conn: Connection) -> None:
            res = conn.execute(
                update(c)
                .where(and_(c.c.user_id == user_id, c.c.device_id == device_id), c.c.seq < seq)
                .values(seq=seq, updated_at=now)
            )
            if not res.rowcount:
                exists = (
                    conn.execute(
                        select(c.c.seq).where(c.c.user_id == user_id, c.c.device_id == device_id)
                    )
                ).first()
                if exists is None:
                    conn.execute(
                        insert(c).values(
                            user_id=user_id, device_id=device_id, seq=seq, updated_at=now
                        )
                    )

        await self.writer.submit(unit)
