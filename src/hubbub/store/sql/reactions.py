"""One reaction per user per message (`core.ports.ReactionStore`)."""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert, select, update

from hubbub.core.model import NewEvent, StoredEvent
from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea
from hubbub.store.sql.events import insert_event

__all__ = ["SqlReactions"]


class SqlReactions(SqlArea):
    """The reactions area: `reactions`."""

    async def set_reaction(
        self,
        message_id: str,
        user_id: str,
        reaction: str | None,
        now: int,
        events: list[NewEvent],
    ) -> list[StoredEvent] | None:
        r = t.reactions
        key = (r.c.message_id == message_id, r.c.user_id == user_id)

        def unit(conn: Connection) -> list[StoredEvent] | None:
            current = conn.execute(select(r.c.reaction).where(*key)).scalar_one_or_none()
            if current == reaction:
                return None
            if reaction is None:
                conn.execute(delete(r).where(*key))
            elif current is None:
                conn.execute(
                    insert(r).values(
                        message_id=message_id, user_id=user_id, reaction=reaction, updated_at=now
                    )
                )
            else:
                conn.execute(update(r).where(*key).values(reaction=reaction, updated_at=now))
            return [insert_event(conn, ev, now) for ev in events]

        return await self.writer.submit(unit)

    async def reactions_of(self, message_id: str) -> dict[str, str]:
        r = t.reactions
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(r.c.user_id, r.c.reaction).where(r.c.message_id == message_id)
            )
            return {row.user_id: row.reaction for row in rows}
