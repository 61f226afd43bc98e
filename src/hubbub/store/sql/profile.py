"""Profile fields (`core.ports.ProfileStore`)."""

from __future__ import annotations

from sqlalchemy import Connection, update

from hubbub.core.model import (
    NewEvent,
    StoredEvent,
)
from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea
from hubbub.store.sql.events import insert_event

__all__ = ["SqlProfiles"]


class SqlProfiles(SqlArea):
    """The profile area: profile columns of `users`."""

    async def update_info_text(
        self, user_id: str, info_text: str, now: int, event: NewEvent
    ) -> StoredEvent:
        def unit(conn: Connection) -> StoredEvent:
            conn.execute(
                update(t.users)
                .where(t.users.c.id == user_id)
                .values(info_text=info_text, info_text_updated_at=now)
            )
            return insert_event(conn, event, now)

        return await self.writer.submit(unit)
