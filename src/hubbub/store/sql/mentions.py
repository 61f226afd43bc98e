"""Mentions (`core.ports.MentionStore`).

A message that mentions someone (or that has other events of its own, as a
forward's `MessageForwarded`) is appended with them in one writer unit, so a
commit never holds the message without them. Messages
without mentions keep the batched path (`appends.py`): mentions cost nothing
on the hot path.
"""

from __future__ import annotations

from sqlalchemy import Connection, insert, update

from hubbub.core.model import MessageRecord, NewEvent, StoredEvent
from hubbub.core.ports.mentions import MentionRow
from hubbub.store.sql import tables as t
from hubbub.store.sql.appends import MessageAppends
from hubbub.store.sql.area import SqlArea
from hubbub.store.sql.events import insert_event

__all__ = ["SqlMentions"]

_APPENDS = MessageAppends()


class SqlMentions(SqlArea):
    """The mentions area: `mentions`."""

    async def append_with_mentions(
        self,
        record: MessageRecord,
        fields: dict[str, object],
        event: NewEvent,
        mentions: list[MentionRow],
        extra: list[NewEvent] | None = None,
    ) -> tuple[MessageRecord, list[StoredEvent]]:
        def unit(conn: Connection) -> tuple[MessageRecord, list[StoredEvent]]:
            [(rec, stored)] = _APPENDS.run(conn, [(record, fields, event)])
            if stored is None:
                return rec, []
            out = [stored]
            for notification_id, user_id, ev in mentions:
                conn.execute(
                    insert(t.mentions).values(
                        id=notification_id,
                        user_id=user_id,
                        message_id=rec.id,
                        conversation_id=rec.conversation_id,
                        created_at=rec.created_at,
                    )
                )
                out.append(insert_event(conn, ev, rec.created_at))
            out += [insert_event(conn, ev, rec.created_at) for ev in extra or ()]
            return rec, out

        return await self.writer.submit(unit)

    async def ack_mention(self, notification_id: str, user_id: str, now: int) -> bool | None:
        m = t.mentions
        mine = (m.c.id == notification_id, m.c.user_id == user_id)
        async with self.engine.begin() as conn:
            res = await conn.execute(
                update(m).where(*mine, m.c.acked_at.is_(None)).values(acked_at=now)
            )
            if res.rowcount:
                return True
            found = (await conn.execute(m.select().where(*mine))).first()
            return False if found is not None else None
