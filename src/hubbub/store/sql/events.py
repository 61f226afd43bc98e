"""The event stream and the change feed (`core.ports.EventStream`).

Every area that appends events does it inside its own writer unit with
`insert_event`, so an event and the state it announces commit together."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, func, insert, select, text

from hubbub.core.model import (
    NewEvent,
    StoredEvent,
)
from hubbub.store.sql import tables as t
from hubbub.store.sql.appends import event_row
from hubbub.store.sql.area import SqlArea

__all__ = ["SqlEvents", "insert_event", "stream_head"]

_FEED_SQL = text(
    """
    SELECT e.pos, e.scope, e.target, e.channel, e.type, e.data FROM events e
    WHERE e.pos > :since AND (
        (e.scope = 'u' AND e.target = :me AND (e.channel <> 'status/updates' OR EXISTS (
            SELECT 1 FROM statuses s
            WHERE s.id = e.message_id AND s.expires_at > :now
              AND NOT EXISTS (SELECT 1 FROM blocks b
                WHERE (b.blocker_id = :me AND b.blocked_id = s.author_id)
                   OR (b.blocker_id = s.author_id AND b.blocked_id = :me)))))
        OR (e.scope = 'c' AND EXISTS (
            SELECT 1 FROM members m
            WHERE m.conversation_id = e.target AND m.user_id = :me
              AND e.pos > m.joined_pos
              AND (m.left_pos IS NULL OR e.pos <= m.left_pos)))
        OR (e.scope = 'a' AND (e.target = :me OR (EXISTS (
            SELECT 1 FROM members m1 JOIN members m2
              ON m1.conversation_id = m2.conversation_id
            WHERE m1.user_id = :me AND m2.user_id = e.target
              AND m1.left_pos IS NULL AND m2.left_pos IS NULL
              AND NOT EXISTS (SELECT 1 FROM conversations c
                WHERE c.id = m1.conversation_id AND c.kind = 'room'))
          AND NOT EXISTS (
            SELECT 1 FROM blocks b WHERE b.blocker_id = :me AND b.blocked_id = e.target)
          AND NOT EXISTS (
            SELECT 1 FROM blocks b WHERE b.blocker_id = e.target AND b.blocked_id = :me))))
        OR (e.scope = 'b' AND (e.target = 'all'
            OR (e.target = 'seg:admins' AND EXISTS (
                SELECT 1 FROM users u
                WHERE u.id = :me AND u.is_admin = :yes AND u.deactivated_at IS NULL))
            OR EXISTS (
                SELECT 1 FROM broadcast_segment_members sm
                WHERE sm.user_id = :me AND 'seg:' || sm.segment = e.target)
            OR EXISTS (
                SELECT 1 FROM broadcast_subscriptions s
                WHERE s.user_id = :me AND 'ch:' || s.channel_id = e.target
                  AND e.pos > s.since_pos))
          AND NOT EXISTS (
            SELECT 1 FROM broadcasts x
            WHERE x.pos = e.pos AND x.expires_at IS NOT NULL AND x.expires_at <= :now))
    )
    ORDER BY e.pos
    LIMIT :limit
    """
)

_MAX_POS = select(func.coalesce(func.max(t.events.c.pos), 0))


def stream_head(conn: Connection) -> int:
    """The stream's last position, inside a writer unit."""
    return int(conn.execute(_MAX_POS).scalar_one())


def insert_event(conn: Connection, ev: NewEvent, now: int) -> StoredEvent:
    """Append one event inside the caller's writer unit (same transaction as its state)."""
    res = conn.execute(insert(t.events).values(**event_row(ev, now)).returning(t.events.c.pos))
    pos = int(res.scalar_one())
    return StoredEvent(pos, ev.scope, ev.target, ev.channel, ev.type, ev.data)


class SqlEvents(SqlArea):
    """The shared stream: `events`."""

    async def append(self, events: Iterable[NewEvent]) -> list[StoredEvent]:
        evs = list(events)
        now = self._now()

        def unit(conn: Connection) -> list[StoredEvent]:
            return [insert_event(conn, ev, now) for ev in evs]

        return await self.writer.submit(unit)

    async def feed(self, user_id: str, since: int, limit: int) -> list[StoredEvent]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                _FEED_SQL,
                {"me": user_id, "since": since, "limit": limit, "now": self._now(), "yes": True},
            )
            return [
                StoredEvent(r.pos, r.scope, r.target, r.channel, r.type, bytes(r.data))
                for r in rows
            ]

    async def events_between(self, after: int, before: int) -> list[StoredEvent]:
        e = t.events
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(e.c.pos, e.c.scope, e.c.target, e.c.channel, e.c.type, e.c.data)
                .where(e.c.pos > after, e.c.pos < before)
                .order_by(e.c.pos)
            )
            return [
                StoredEvent(r.pos, r.scope, r.target, r.channel, r.type, bytes(r.data))
                for r in rows
            ]

    async def max_pos(self) -> int:
        async with self.engine.connect() as conn:
            return int((await conn.execute(_MAX_POS)).scalar_one())

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
