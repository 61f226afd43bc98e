"""Editing and deleting messages (`core.ports.EditStore`)."""

from __future__ import annotations

import msgspec
from sqlalchemy import Connection, select, update

from hubbub.core.model import NewEvent, StoredEvent
from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea
from hubbub.store.sql.events import insert_event

__all__ = ["SqlEdits"]

_msg, _ev = t.messages, t.events
_TOMBSTONE = msgspec.json.Encoder()


class SqlEdits(SqlArea):
    """Updates of `messages` rows, each with its event in the same transaction."""

    async def edit_message(
        self, message_id: str, content: str, now: int, event: NewEvent
    ) -> StoredEvent | None:
        def unit(conn: Connection) -> StoredEvent | None:
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
            return insert_event(conn, event, now)

        return await self.writer.submit(unit)
