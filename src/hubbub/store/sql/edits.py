"""Editing and deleting messages (`core.ports.EditStore`).

An edit keeps the text it replaces in `message_edits` (same unit), so a
message's full history is readable; deleting the message drops it.
"""

from __future__ import annotations

import msgspec
from sqlalchemy import Connection, delete, insert, select, update

from hubbub.core.model import NewEvent, StoredEvent
from hubbub.core.ports.edits import Version
from hubbub.ids import new_id
from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea
from hubbub.store.sql.events import insert_event

__all__ = ["SqlEdits"]

_msg, _ev, _ed = t.messages, t.events, t.message_edits
_TOMBSTONE = msgspec.json.Encoder()


class SqlEdits(SqlArea):
    """Updates of `messages` rows, each with its event in the same transaction."""

    async def edit_message(
        self, message_id: str, content: str, now: int, event: NewEvent
    ) -> StoredEvent | None:
        def unit(conn: Connection) -> StoredEvent | None:
            old = conn.execute(
                select(_msg.c.content, _msg.c.created_at, _msg.c.edited_at).where(
                    _msg.c.id == message_id, _msg.c.deleted_at.is_(None)
                )
            ).first()
            if old is None:
                return None
            conn.execute(
                insert(_ed).values(
                    id=new_id(),
                    message_id=message_id,
                    content=old.content or "",
                    valid_from=old.edited_at if old.edited_at is not None else old.created_at,
                    replaced_at=now,
                )
            )
            res = conn.execute(
                update(_msg)
                .where(_msg.c.id == message_id, _msg.c.deleted_at.is_(None))
                .values(content=content, edited_at=now)
            )
            if not res.rowcount:
                return None
            return insert_event(conn, event, now)

        return await self.writer.submit(unit)

    async def delete_message(
        self, message_id: str, now: int, event: NewEvent
    ) -> StoredEvent | None:
        def unit(conn: Connection) -> StoredEvent | None:
            row = conn.execute(
                select(_msg.c.conversation_id).where(
                    _msg.c.id == message_id, _msg.c.deleted_at.is_(None)
                )
            ).first()
            if row is None:
                return None
            conn.execute(
                update(_msg)
                .where(_msg.c.id == message_id)
                .values(content=None, ciphertext=None, nonce=None, signature=None, deleted_at=now)
            )
            # A resume must not hand the deleted content out again: the
            # message's earlier events (its send, its edits) become tombstones.
            tomb = _TOMBSTONE.encode(
                {"message_id": message_id, "conversation_id": row.conversation_id, "deleted": True}
            )
            conn.execute(update(_ev).where(_ev.c.message_id == message_id).values(data=tomb))
            conn.execute(delete(_ed).where(_ed.c.message_id == message_id))
            return insert_event(conn, event, now)

        return await self.writer.submit(unit)

    async def versions(self, message_id: str) -> list[Version]:
        q = (
            select(_ed.c.content, _ed.c.valid_from, _ed.c.replaced_at)
            .where(_ed.c.message_id == message_id)
            .order_by(_ed.c.replaced_at, _ed.c.id)
        )
        async with self.engine.connect() as conn:
            return [Version(r[0], r[1], r[2]) for r in await conn.execute(q.limit(10_000))]
