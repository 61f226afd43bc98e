"""Read positions (`core.ports.ReadStore`)."""

from __future__ import annotations

from sqlalchemy import Connection, insert, select, update

from hubbub.core.model import NewEvent, StoredEvent
from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea
from hubbub.store.sql.events import insert_event

__all__ = ["SqlReads"]

_r = t.read_positions


class SqlReads(SqlArea):
    """The reads area: `read_positions`, only ever moved forward."""

    async def advance_read(
        self,
        conversation_id: str,
        user_id: str,
        message_id: str,
        message_pos: int,
        now: int,
        event: NewEvent,
    ) -> StoredEvent | None:
        def unit(conn: Connection) -> StoredEvent | None:
            where = (_r.c.conversation_id == conversation_id) & (_r.c.user_id == user_id)
            row = conn.execute(select(_r.c.message_pos).where(where)).first()
            if row is None:
                conn.execute(
                    insert(_r).values(
                        conversation_id=conversation_id,
                        user_id=user_id,
                        message_id=message_id,
                        message_pos=message_pos,
                        updated_at=now,
                    )
                )
            elif row.message_pos >= message_pos:
                return None
            else:
                conn.execute(
                    update(_r)
                    .where(where)
                    .values(message_id=message_id, message_pos=message_pos, updated_at=now)
                )
            return insert_event(conn, event, now)

        return await self.writer.submit(unit)

    async def read_position(self, conversation_id: str, user_id: str) -> tuple[str, int] | None:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(_r.c.message_id, _r.c.message_pos).where(
                        _r.c.conversation_id == conversation_id, _r.c.user_id == user_id
                    )
                )
            ).first()
        return (row.message_id, int(row.message_pos)) if row is not None else None
