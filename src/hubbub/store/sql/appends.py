"""Message appends, many per statement: the store's hottest write.

A message is three rows (its stream event, the message, and for a
self-destructing one its timer) plus an idempotency lookup. Run one message
at a time through SQLAlchemy and the driver, that was about a millisecond of
CPU per message (each statement built, compiled, and for SQLite handed to
aiosqlite's thread and back), so group commit saved fsyncs but not CPU. Here
a run of consecutive appends in a commit batch costs one lookup and one
`executemany` per table, whatever its length. On SQLite the whole append
(stream head, lookup, inserts) goes to the DB-API connection as plain SQL and
tuples: for a one-message batch (a DM at a steady rate) building, caching and
compiling SQLAlchemy statements was most of the commit's ~1 ms of CPU, and
for a 256-message batch its per-row parameter processing cost more than
SQLite's own work. Only SQLite and PostgreSQL are served (`engine.py`).

Stream positions are allocated up front so that the event rows can go in
one `executemany`: on SQLite the next rowids after the current maximum (the
group-commit writer is the only writer of the stream, and SQLite would pick
the same numbers), on PostgreSQL `nextval` of the column's sequence, under
the writer's advisory lock like every other append.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields as record_fields
from typing import Any

from sqlalchemy import Connection, insert, text

from hubbub.core.model import MessageRecord, NewEvent, StoredEvent
from hubbub.ids import new_id
from hubbub.store.sql import tables as t

__all__ = ["Append", "MessageAppends", "allocate_positions", "event_row", "message_record"]

Append = tuple[MessageRecord, dict[str, object], NewEvent]
Appended = tuple[MessageRecord, StoredEvent | None]

# Every optional message column a row may set; the rest of a row is fixed.
_OPTIONAL = (
    "content_type",
    "content",
    "ciphertext",
    "nonce",
    "algorithm",
    "key_id",
    "signature",
    "trace_parent",
    "session_id",
    "client_id",
    "reply_to_id",
)
_FIXED = (
    "id",
    "conversation_id",
    "sender_id",
    "kind",
    "client_message_id",
    "self_destruct",
    "created_at",
    "expires_at",
    "event_pos",
)
_EVENT_COLS = ("pos", "scope", "target", "channel", "type", "data", "message_id", "created_at")
_TIMER_COLS = ("id", "kind", "ref", "due_at")


def _insert_sql(table: str, cols: Sequence[str]) -> str:
    return f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"


_SQLITE_EVENTS = _insert_sql("events", _EVENT_COLS)
_SQLITE_MESSAGES = _insert_sql("messages", (*_OPTIONAL, *_FIXED))
_SQLITE_TIMERS = _insert_sql("timers", _TIMER_COLS)
_PG_KNOWN = text(
    "SELECT m.* FROM messages m"
    " JOIN unnest(CAST(:s AS text[]), CAST(:c AS text[])) AS k(s, c)"
    " ON m.sender_id = k.s AND m.client_message_id = k.c"
)
_NEXTVAL = text(
    "SELECT nextval(pg_get_serial_sequence('events', 'pos')) FROM generate_series(1, :n)"
)


# A message row as `MessageRecord`'s fields, in their order.
_RECORD_COLS = tuple(f.name for f in record_fields(MessageRecord))
_PAIRS_PER_QUERY = 400
_SQLITE_MAX_POS = "SELECT coalesce(max(pos), 0) FROM events"
_SQLITE_KNOWN = (
    f"SELECT {', '.join(_RECORD_COLS)} FROM messages"
    " WHERE sender_id IN ({senders}) AND client_message_id IN ({cids})"
)


def _driver(conn: Connection) -> Any:
    """The DB-API connection under `conn` (the writer's own)."""
    return conn.connection.dbapi_connection


def _known(conn: Connection, keyed: Sequence[MessageRecord]) -> list[MessageRecord]:
    """The stored messages whose (sender, client id) one of `keyed` repeats."""
    if conn.dialect.name == "sqlite":
        return _sqlite_known(conn, keyed)
    # Exact pairs, one prepared statement whatever the batch size: two
    # expanding IN lists cost PostgreSQL a new plan per list length.
    rows = conn.execute(
        _PG_KNOWN,
        {"s": [rec.sender_id for rec in keyed], "c": [rec.client_message_id for rec in keyed]},
    )
    return [message_record(row) for row in rows]


def _sqlite_known(conn: Connection, keyed: Sequence[MessageRecord]) -> list[MessageRecord]:
    """The stored messages whose (sender, client id) one of `keyed` repeats.

    Two `IN` lists, which SQLite answers from the unique index (a row-value
    `IN` would scan the table); the cross product's stray pairs are dropped
    here. At most `_PAIRS_PER_QUERY` pairs a query: SQLite before 3.32 takes
    999 parameters, whatever `--writer-max-batch` is.
    """
    pairs = list({(rec.sender_id, rec.client_message_id) for rec in keyed})
    wanted = set(pairs)
    driver, found = _driver(conn), {}
    for at in range(0, len(pairs), _PAIRS_PER_QUERY):
        chunk = pairs[at : at + _PAIRS_PER_QUERY]
        senders = list({sender for sender, _ in chunk})
        cids = list({cid for _, cid in chunk})
        sql = _SQLITE_KNOWN.format(
            senders=", ".join("?" * len(senders)), cids=", ".join("?" * len(cids))
        )
        for r in driver.execute(sql, [*senders, *cids]):
            if (r[2], r[7]) in wanted:
                found[(r[2], r[7])] = r
    return [_sqlite_record(r) for r in found.values()]


def _sqlite_record(row: tuple[Any, ...]) -> MessageRecord:
    rec = MessageRecord(*row)
    rec.self_destruct = bool(rec.self_destruct)  # SQLite hands back 0 or 1
    return rec


def allocate_positions(conn: Connection, n: int) -> list[int]:
    """`n` stream positions, ascending, for rows this transaction will insert."""
    if conn.dialect.name == "postgresql":
        rows = conn.execute(_NEXTVAL, {"n": n})
        return sorted(int(r[0]) for r in rows)
    (top,) = _driver(conn).execute(_SQLITE_MAX_POS).fetchone()
    return list(range(int(top) + 1, int(top) + 1 + n))


class MessageAppends:
    """Appends a message: its event, its row, its timer; or finds it by client id.

    The result is `(record, stored event)` for a new message and `(the earlier
    record, None)` when the sender already used that `client_message_id`,
    also earlier in the same batch.
    """

    def run(self, conn: Connection, items: Sequence[Append]) -> list[Appended]:
        keyed = [rec for rec, _, _ in items if rec.client_message_id is not None]
        known: dict[tuple[str, str | None], MessageRecord] = {}
        if keyed:
            for found in _known(conn, keyed):
                known[(found.sender_id, found.client_message_id)] = found
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
            self._insert(conn, new, results)
        return [r for r in results if r is not None]

    @staticmethod
    def _insert(
        conn: Connection, new: list[tuple[int, Append]], results: list[Appended | None]
    ) -> None:
        positions = allocate_positions(conn, len(new))
        events: list[tuple[Any, ...]] = []
        messages: list[tuple[Any, ...]] = []
        timers: list[tuple[Any, ...]] = []
        for pos, (i, (rec, fields, ev)) in zip(positions, new, strict=True):
            at = rec.created_at
            events.append(
                (pos, ev.scope, ev.target, ev.channel, ev.type, ev.data, ev.message_id, at)
            )
            get = fields.get
            messages.append(
                (
                    get("content_type", "text"),
                    get("content"),
                    get("ciphertext"),
                    get("nonce"),
                    get("algorithm"),
                    get("key_id"),
                    get("signature"),
                    get("trace_parent"),
                    get("session_id"),
                    get("client_id"),
                    get("reply_to_id"),
                    rec.id,
                    rec.conversation_id,
                    rec.sender_id,
                    rec.kind,
                    rec.client_message_id,
                    rec.self_destruct,
                    at,
                    rec.expires_at,
                    pos,
                )
            )
            if rec.expires_at is not None:
                timers.append((new_id(), "expire", rec.id, rec.expires_at))
            rec.event_pos = pos
            results[i] = (rec, StoredEvent(pos, ev.scope, ev.target, ev.channel, ev.type, ev.data))
        if conn.dialect.name == "sqlite":
            driver = _driver(conn)
            driver.executemany(_SQLITE_EVENTS, events)
            driver.executemany(_SQLITE_MESSAGES, messages)
            if timers:
                driver.executemany(_SQLITE_TIMERS, timers)
            return
        conn.execute(insert(t.events), [dict(zip(_EVENT_COLS, r, strict=True)) for r in events])
        cols = (*_OPTIONAL, *_FIXED)
        conn.execute(insert(t.messages), [dict(zip(cols, r, strict=True)) for r in messages])
        if timers:
            conn.execute(insert(t.timers), [dict(zip(_TIMER_COLS, r, strict=True)) for r in timers])


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
