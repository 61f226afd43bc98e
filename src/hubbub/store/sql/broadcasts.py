"""Broadcasts (`core.ports.BroadcastStore`).

A broadcast is one `events` row (scope `b`, target = its audience) plus one
`broadcasts` row keyed by the same `pos`, committed in one writer unit; the
feed query (`store/sql/events.py`) reads the expiry from it. Writer units run
one batch at a time cluster-wide (the advisory lock on PostgreSQL), so the
look-ups before an insert here (idempotency key, first acknowledgement) do
not race.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert, select, true, update

from hubbub.core.model import StoredEvent
from hubbub.core.ports.broadcasts import BroadcastChannel, BroadcastRecord, MakeBroadcastEvent
from hubbub.ids import new_id
from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea
from hubbub.store.sql.events import insert_event, stream_head

__all__ = ["SqlBroadcasts"]

_b = t.broadcasts
_ch = t.broadcast_channels
_pub = t.broadcast_publishers
_sub = t.broadcast_subscriptions


def _record(row: Any) -> BroadcastRecord:
    return BroadcastRecord(
        row.id, row.pos, row.audience, row.sender_id, row.expires_at, row.created_at,
        bytes(row.reply),
    )  # fmt: skip


class SqlBroadcasts(SqlArea):
    """The broadcasts area: `broadcast_*` tables and `broadcasts`."""

    async def put_channel(self, channel_id: str, title: str, by: str, now: int) -> bool:
        def unit(conn: Connection) -> bool:
            res = conn.execute(update(_ch).where(_ch.c.id == channel_id).values(title=title))
            if res.rowcount:
                return False
            conn.execute(
                insert(_ch).values(id=channel_id, title=title, created_by=by, created_at=now)
            )
            return True

        return await self.writer.submit(unit)

    async def get_channel(self, channel_id: str) -> BroadcastChannel | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(_ch).where(_ch.c.id == channel_id))).first()
        return BroadcastChannel(*row) if row is not None else None

    async def list_channels(self) -> list[BroadcastChannel]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(_ch).order_by(_ch.c.id))
            return [BroadcastChannel(*r) for r in rows]

    async def set_publisher(
        self, channel_id: str, user_id: str, by: str, now: int, allowed: bool
    ) -> None:
        key = (_pub.c.channel_id == channel_id, _pub.c.user_id == user_id)

        def unit(conn: Connection) -> None:
            found = conn.execute(select(_pub.c.user_id).where(*key)).first()
            if allowed and found is None:
                conn.execute(
                    insert(_pub).values(
                        channel_id=channel_id, user_id=user_id, granted_by=by, granted_at=now
                    )
                )
            elif not allowed and found is not None:
                conn.execute(delete(_pub).where(*key))

        await self.writer.submit(unit)

    async def is_publisher(self, channel_id: str, user_id: str) -> bool:
        q = select(_pub.c.user_id).where(_pub.c.channel_id == channel_id, _pub.c.user_id == user_id)
        async with self.engine.connect() as conn:
            return (await conn.execute(q)).first() is not None

    async def publish(
        self,
        sender_id: str,
        client_request_id: str | None,
        audience: str,
        expires_at: int | None,
        now: int,
        make_event: MakeBroadcastEvent,
    ) -> tuple[BroadcastRecord, StoredEvent | None]:
        def unit(conn: Connection) -> tuple[BroadcastRecord, StoredEvent | None]:
            if client_request_id is not None:
                row = conn.execute(
                    select(_b).where(
                        _b.c.sender_id == sender_id, _b.c.client_request_id == client_request_id
                    )
                ).first()
                if row is not None:
                    return _record(row), None
            bid = new_id()
            ev = make_event(bid)
            stored = insert_event(conn, ev, now)
            rec = BroadcastRecord(bid, stored.pos, audience, sender_id, expires_at, now, ev.data)
            conn.execute(
                insert(_b).values(
                    id=bid,
                    pos=stored.pos,
                    audience=audience,
                    sender_id=sender_id,
                    client_request_id=client_request_id,
                    reply=ev.data,
                    expires_at=expires_at,
                    created_at=now,
                )
            )
            return rec, stored

        return await self.writer.submit(unit)

    async def get_broadcast(self, message_id: str) -> BroadcastRecord | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(_b).where(_b.c.id == message_id))).first()
        return _record(row) if row is not None else None

    async def broadcast_at(self, pos: int) -> BroadcastRecord | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(_b).where(_b.c.pos == pos))).first()
        return _record(row) if row is not None else None

    async def subscribe(self, channel_id: str, user_id: str, now: int) -> int:
        key = (_sub.c.channel_id == channel_id, _sub.c.user_id == user_id)

        def unit(conn: Connection) -> int:
            found = conn.execute(select(_sub.c.since_pos).where(*key)).scalar()
            if found is not None:
                return int(found)
            head = stream_head(conn)
            conn.execute(
                insert(_sub).values(
                    channel_id=channel_id, user_id=user_id, since_pos=head, created_at=now
                )
            )
            return head

        return await self.writer.submit(unit)

    async def unsubscribe(self, channel_id: str, user_id: str) -> bool:
        def unit(conn: Connection) -> bool:
            res = conn.execute(
                delete(_sub).where(_sub.c.channel_id == channel_id, _sub.c.user_id == user_id)
            )
            return bool(res.rowcount)

        return await self.writer.submit(unit)

    async def subscription(self, channel_id: str, user_id: str) -> int | None:
        q = select(_sub.c.since_pos).where(
            _sub.c.channel_id == channel_id, _sub.c.user_id == user_id
        )
        async with self.engine.connect() as conn:
            found = (await conn.execute(q)).scalar()
        return int(found) if found is not None else None

    async def subscriptions_of(self, user_id: str) -> list[str]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(_sub.c.channel_id).where(_sub.c.user_id == user_id))
            return [r[0] for r in rows]

    async def subscribers(self, channel_id: str) -> list[str]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(_sub.c.user_id).where(_sub.c.channel_id == channel_id))
            return [r[0] for r in rows]

    async def active_admins(self) -> list[str]:
        u = t.users
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(u.c.id).where(u.c.is_admin == true(), u.c.deactivated_at.is_(None))
            )
            return [r[0] for r in rows]

    async def set_segment_member(
        self, segment: str, user_id: str, by: str, now: int, member: bool
    ) -> None:
        m = t.broadcast_segment_members
        key = (m.c.segment == segment, m.c.user_id == user_id)

        def unit(conn: Connection) -> None:
            found = conn.execute(select(m.c.user_id).where(*key)).first()
            if member and found is None:
                conn.execute(
                    insert(m).values(segment=segment, user_id=user_id, added_by=by, added_at=now)
                )
            elif not member and found is not None:
                conn.execute(delete(m).where(*key))

        await self.writer.submit(unit)

    async def segment_members(self, segment: str) -> list[str]:
        m = t.broadcast_segment_members
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(m.c.user_id).where(m.c.segment == segment).order_by(m.c.user_id)
            )
            return [r[0] for r in rows]

    async def in_segment(self, segment: str, user_id: str) -> bool:
        m = t.broadcast_segment_members
        q = select(m.c.user_id).where(m.c.segment == segment, m.c.user_id == user_id)
        async with self.engine.connect() as conn:
            return (await conn.execute(q)).first() is not None

    async def acknowledge(
        self, message_id: str, user_id: str, status: str | None, received_at: int | None, now: int
    ) -> bool:
        a = t.broadcast_acks
        key = (a.c.message_id == message_id, a.c.user_id == user_id)

        def unit(conn: Connection) -> bool:
            if conn.execute(select(a.c.user_id).where(*key)).first() is not None:
                return False
            conn.execute(
                insert(a).values(
                    message_id=message_id,
                    user_id=user_id,
                    status=status,
                    received_at=received_at,
                    acked_at=now,
                )
            )
            return True

        return await self.writer.submit(unit)
