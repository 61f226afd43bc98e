"""Self-destruct timers (`core.ports.ExpiryStore`)."""

from __future__ import annotations

from collections.abc import Callable

import msgspec
from sqlalchemy import Connection, delete, func, select, update

from hubbub.core.model import (
    MessageRecord,
    NewEvent,
    StoredEvent,
)
from hubbub.store.sql import tables as t
from hubbub.store.sql.appends import message_record
from hubbub.store.sql.area import SqlArea
from hubbub.store.sql.events import insert_event
from hubbub.store.sql.messages import GET_MESSAGE

__all__ = ["SqlExpiries"]

_TOMBSTONE = msgspec.json.Encoder()


class SqlExpiries(SqlArea):
    """The timers area: which timers of any kind are due; `expire` ones claimed here."""

    async def expire_message(
        self, message_id: str, now: int, make_event: Callable[[MessageRecord], NewEvent]
    ) -> tuple[MessageRecord, StoredEvent] | None:
        def unit(conn: Connection) -> tuple[MessageRecord, StoredEvent] | None:
            # Deleting the timer row is the claim: on PostgreSQL the row lock
            # makes a second node's DELETE wait, then find nothing.
            claimed = conn.execute(
                delete(t.timers).where(t.timers.c.kind == "expire", t.timers.c.ref == message_id)
            )
            if not claimed.rowcount:
                return None
            row = conn.execute(GET_MESSAGE, {"id": message_id}).first()
            if row is None or row.deleted_at is not None:
                return None
            rec = message_record(row)
            conn.execute(
                update(t.messages)
                .where(t.messages.c.id == message_id)
                .values(content=None, ciphertext=None, nonce=None, signature=None, deleted_at=now)
            )
            tomb = _TOMBSTONE.encode(
                {"message_id": rec.id, "conversation_id": rec.conversation_id, "deleted": True}
            )
            conn.execute(
                update(t.events).where(t.events.c.message_id == message_id).values(data=tomb)
            )
            stored = insert_event(conn, make_event(rec), now)
            rec.deleted_at = now
            return rec, stored

        return await self.writer.submit(unit)

    async def due_expiries(self, now: int, limit: int) -> list[str]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(t.timers.c.ref)
                .where(t.timers.c.kind == "expire", t.timers.c.due_at <= now)
                .order_by(t.timers.c.due_at)
                .limit(limit)
            )
            return [r[0] for r in rows]

    async def next_expiry(self) -> int | None:
        async with self.engine.connect() as conn:
            v = (
                await conn.execute(
                    select(func.min(t.timers.c.due_at)).where(t.timers.c.kind == "expire")
                )
            ).scalar_one_or_none()
        return int(v) if v is not None else None

    async def due_timers(self, now: int, limit: int) -> list[tuple[str, str]]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(t.timers.c.kind, t.timers.c.ref)
                .where(t.timers.c.due_at <= now)
                .order_by(t.timers.c.due_at)
                .limit(limit)
            )
            return [(r[0], r[1]) for r in rows]

    async def next_timer(self) -> int | None:
        async with self.engine.connect() as conn:
            v = (await conn.execute(select(func.min(t.timers.c.due_at)))).scalar_one_or_none()
        return int(v) if v is not None else None
