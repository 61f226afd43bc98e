"""Per-user archive (`core.ports.ArchiveStore`)."""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert, select, text

from hubbub.core.model import NewEvent, StoredEvent
from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea
from hubbub.store.sql.events import insert_event

__all__ = ["SqlArchive"]

_a = t.archives

# Members of dialogs with no message since `cutoff` (or none since they were
# created) who have not archived them: MTChat's auto-archive.
_INACTIVE = text(
    """
    SELECT m.conversation_id, m.user_id FROM members m
    JOIN dialogs d ON d.conversation_id = m.conversation_id
    WHERE m.left_pos IS NULL
      AND NOT EXISTS (SELECT 1 FROM archives a
                      WHERE a.conversation_id = m.conversation_id AND a.user_id = m.user_id)
      AND COALESCE((SELECT MAX(x.created_at) FROM messages x
                    WHERE x.conversation_id = m.conversation_id), d.created_at) < :cutoff
    ORDER BY m.conversation_id, m.user_id
    LIMIT :limit
    """
)


class SqlArchive(SqlArea):
    """The archive area: one `archives` row per (conversation, user) archived."""

    async def set_archived(
        self, conversation_id: str, user_id: str, archived: bool, now: int, event: NewEvent
    ) -> StoredEvent | None:
        def unit(conn: Connection) -> StoredEvent | None:
            where = (_a.c.conversation_id == conversation_id) & (_a.c.user_id == user_id)
            there = conn.execute(select(_a.c.user_id).where(where)).first() is not None
            if there == archived:
                return None
            if archived:
                conn.execute(
                    insert(_a).values(
                        conversation_id=conversation_id, user_id=user_id, archived_at=now
                    )
                )
            else:
                conn.execute(delete(_a).where(where))
            return insert_event(conn, event, now)

        return await self.writer.submit(unit)

    async def archived_by(self, conversation_id: str) -> list[str]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(_a.c.user_id).where(_a.c.conversation_id == conversation_id)
            )
            return [r[0] for r in rows]

    async def archived_of(self, user_id: str) -> set[str]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(_a.c.conversation_id).where(_a.c.user_id == user_id))
            return {r[0] for r in rows}

    async def inactive_dialog_members(self, cutoff: int, limit: int) -> list[tuple[str, str]]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(_INACTIVE, {"cutoff": cutoff, "limit": limit})
            return [(r[0], r[1]) for r in rows]
