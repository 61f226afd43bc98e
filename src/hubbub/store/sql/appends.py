"""Message appends, many per statement: the store's hottest write.

A message is three rows (its stream event, the message, and for a
self-destructing one its timer) plus an idempotency lookup. Run one message
at a time through SQLAlchemy and the driver, that was about a millisecond of
CPU per message (each statement built, compiled, and for SQLite handed to
aiosqlite's thread and back), so group commit saved fsyncs but not CPU. Here
a run of consecutive appends in a commit batch costs one lookup and one
`executemany` per table, whatever its length.

Stream positions are allocated up front so that the event rows can go in
one `executemany`: on SQLite the next rowids after the current maximum (the
group-commit writer is the only writer of the stream, and SQLite would pick
the same numbers), on PostgreSQL `nextval` of the column's sequence, under
the writer's advisory lock like every other append.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from hubbub.core.model import MessageRecord, NewEvent, StoredEvent
from hubbub.ids import new_id
from hubbub.store.sql import tables as t

__all__ = ["Append", "MessageAppends", "allocate_positions", "event_row", "message_record"]

Append = tuple[MessageRecord, dict[str, object], NewEvent]
Appended = tuple[MessageRecord, StoredEvent | None]

# Every optional message column a row may set; the rest of a row is fixed.
_OPTIONAL = ("content", "ciphertext", "nonce", "algorithm", "key_id", "signature")
_NEXTVAL = text(
    "SELECT nextval(pg_get_serial_sequence('events', 'pos')) FROM generate_series(1, :n)"
)
_NEXTVAL = text(
    "SELECT nextval(pg_get_serial_sequence('events', 'pos')) FROM generate_series(1, :n)"
)


async def allocate_positions(conn: AsyncConnection, n: int) -> list[int]:
    """`n` stream positions, ascending, for rows this transaction will insert."""
    if conn.dialect.name == "postgresql":
        rows = await conn.execute(_NEXTVAL, {"n": n})
        return sorted(int(r[0]) for r in rows)
    top = (await conn.execute(select(func.coalesce(func.max(t.events.c.pos), 0)))).scalar_one()
    return list(range(int(top) + 1, int(top) + 1 + n))


class MessageAppends:
    """Appends a message: its event, its row, its timer; or finds it by client id.

    The result is `(record, stored event)` for a new message and `(the earlier
    record, None)` when the sender already used that `client_message_id`,
    also earlier in the same batch.
    """

    async def run(self, conn: AsyncConnection, items: Sequence[Append]) -> list[Appended]:
        m = t.messages
        keyed = [rec for rec, _, _ in items if rec.client_message_id is not None]
        known: dict[tuple[str, str], MessageRecord] = {}
        if keyed:
            senders = {rec.sender_id for rec in keyed}
            cids = {rec.client_message_id for rec in keyed}
            rows = await conn.execute(
                select(m).where(m.c.sender_id.in_(senders), m.c.client_message_id.in_(cids))
            )
            for row in rows:
                known[(row.sender_id, row.client_message_id)] = message_record(row)
        results: list[Appended | None] = [None] * len(items)
        new: list[tuple[int, Append]] = []
        for i, (rec, fields, ev) in enumerate(items):
            if rec.client_message_id is not None:
                key = (rec.sender_id, rec.client_message_id)
                earlier = known.get(key)
                if earlier is not None:
                    results[i] = (earlier, None)
                    continue
                known[key] = rec
            new.append((i, (rec, fields, ev)))
        if new:
            await self._insert(conn, new, results)
        return [r for r in results if r is not None]

    @staticmethod
    async def _insert(
        conn: AsyncConnection, new: list[tuple[int, Append]], results: list[Appended | None]
    ) -> None:
        positions = await allocate_positions(conn, len(new))
        events: list[dict[str, Any]] = []
        messages: list[dict[str, Any]] = []
        timers: list[dict[str, Any]] = []
        for pos, (i, (rec, fields, ev)) in zip(positions, new, strict=True):
            events.append({"pos": pos, **event_row(ev, rec.created_at)})
            row: dict[str, Any] = dict.fromkeys(_OPTIONAL)
            row.update(fields)
            row.update(
                id=rec.id,
                conversation_id=rec.conversation_id,
                sender_id=rec.sender_id,
                kind=rec.kind,
                client_message_id=rec.client_message_id,
                self_destruct=rec.self_destruct,
                created_at=rec.created_at,
                expires_at=rec.expires_at,
                event_pos=pos,
            )
            messages.append(row)
            if rec.expires_at is not None:
                timers.append(
                    {"id": new_id(), "kind": "expire", "ref": rec.id, "due_at": rec.expires_at}
                )
            rec.event_pos = pos
            stored = StoredEvent(pos, ev.scope, ev.target, ev.channel, ev.type, ev.data)
            results[i] = (rec, stored)
        await conn.execute(insert(t.events), events)
        await conn.execute(insert(t.messages), messages)
        if timers:
            await conn.execute(insert(t.timers), timers)


def event_row(ev: NewEvent, created_at: int) -> dict[str, Any]:
    """The columns of a stream event, its position aside."""
    return {
        "scope": ev.scope,
        "target": ev.target,
        "channel": ev.channel,
        "type": ev.type,
        "data": ev.data,
        "message_id": ev.message_id,
        "created_at": created_at,
    }


def message_record(row: Any) -> MessageRecord:
    return MessageRecord(
        id=row.id,
        conversation_id=row.conversation_id,
        sender_id=row.sender_id,
        kind=row.kind,
        created_at=row.created_at,
        expires_at=row.expires_at,
        deleted_at=row.deleted_at,
        client_message_id=row.client_message_id,
        self_destruct=bool(row.self_destruct),
        event_pos=row.event_pos,
    )
