"""Group events, RSVPs and reminders (`core.ports.GroupEventStore`).

Updates are compare-and-set on `version` inside the writer unit, so two
editors racing from the same version get one success and one conflict.
Reminder timers are `timers` rows of kind `event_reminder` whose ref is the
reminder's id; firing deletes the row (the claim) in the unit that appends
the reminder's event. Request ids of creates, updates and deletes are kept in
`request_keys` with the reply they got.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from sqlalchemy import Connection, delete, insert, select, update

from hubbub.core.model import NewEvent, StoredEvent
from hubbub.core.ports.group_events import EventWrite, GroupEventRecord, ReminderDue
from hubbub.ids import new_id
from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea
from hubbub.store.sql.events import insert_event

__all__ = ["REMINDER_TIMER", "SqlGroupEvents"]

REMINDER_TIMER = "event_reminder"
_json = msgspec.json
_ge = t.group_events


def _record(row: Any) -> GroupEventRecord:
    return GroupEventRecord(
        id=row.id,
        group_id=row.group_id,
        organizer_id=row.organizer_id,
        title=row.title,
        description=row.description,
        start_time=row.start_time,
        end_time=row.end_time,
        location=row.location,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        deleted_at=row.deleted_at,
    )


def _load(conn: Connection, event_id: str) -> GroupEventRecord | None:
    row = conn.execute(select(_ge).where(_ge.c.id == event_id)).first()
    return _record(row) if row is not None else None


def _cancel_reminders(conn: Connection, event_id: str) -> None:
    r = t.group_event_reminders
    ids = list(conn.execute(select(r.c.id).where(r.c.event_id == event_id)).scalars())
    if ids:
        conn.execute(
            delete(t.timers).where(t.timers.c.kind == REMINDER_TIMER, t.timers.c.ref.in_(ids))
        )
        conn.execute(delete(r).where(r.c.event_id == event_id))


class SqlGroupEvents(SqlArea):
    """The group events area: `group_events`, `group_event_rsvps`, `group_event_reminders`."""

    async def get_event(self, event_id: str) -> GroupEventRecord | None:
        async with self.engine.connect() as conn:
            return await conn.run_sync(_load, event_id)

    async def request_result(self, user_id: str, key: str) -> dict[str, Any] | None:
        k = t.request_keys
        async with self.engine.connect() as conn:
            done = (
                await conn.execute(select(k.c.result).where(k.c.user_id == user_id, k.c.key == key))
            ).scalar_one_or_none()
        return _json.decode(bytes(done)) if done is not None else None

    async def write_event(
        self,
        user_id: str,
        request_key: str | None,
        record: GroupEventRecord,
        expected_version: int | None,
        delete_it: bool,
        make: Callable[[GroupEventRecord], tuple[dict[str, Any], NewEvent]],
    ) -> EventWrite:
        k = t.request_keys

        def unit(conn: Connection) -> EventWrite:
            if request_key is not None:
                done = conn.execute(
                    select(k.c.result).where(k.c.user_id == user_id, k.c.key == request_key)
                ).scalar_one_or_none()
                if done is not None:
                    return EventWrite(_json.decode(bytes(done)), None)
            if expected_version is None:
                conn.execute(
                    insert(_ge).values(
                        id=record.id,
                        group_id=record.group_id,
                        organizer_id=record.organizer_id,
                        title=record.title,
                        description=record.description,
                        start_time=record.start_time,
                        end_time=record.end_time,
                        location=record.location,
                        version=1,
                        created_at=record.created_at,
                        updated_at=record.updated_at,
                    )
                )
                written = _load(conn, record.id)
            else:
                live = (_ge.c.id == record.id, _ge.c.deleted_at.is_(None))
                values: dict[str, Any] = {"version": _ge.c.version + 1}
                if delete_it:
                    values["deleted_at"] = record.updated_at
                else:
                    values.update(
                        title=record.title,
                        description=record.description,
                        start_time=record.start_time,
                        end_time=record.end_time,
                        location=record.location,
                        updated_at=record.updated_at,
                    )
                res = conn.execute(
                    update(_ge).where(*live, _ge.c.version == expected_version).values(**values)
                )
                if not res.rowcount:
                    current = _load(conn, record.id)
                    reply, _ = make(current or record)
                    reply.update(status="conflict", reason="expected_version is not current")
                    reply["current_version"] = current.version if current else None
                    return EventWrite(reply, None)  # a conflict is not remembered: retry it
                written = _load(conn, record.id)
                if delete_it:
                    _cancel_reminders(conn, record.id)
            assert written is not None
            reply, ev = make(written)
            stored = insert_event(conn, ev, record.updated_at)
            if request_key is not None:
                conn.execute(
                    insert(k).values(
                        user_id=user_id,
                        key=request_key,
                        result=_json.encode(reply),
                        created_at=record.updated_at,
                    )
                )
            return EventWrite(reply, stored)

        return await self.writer.submit(unit)

    async def set_rsvp(
        self, event_id: str, user_id: str, status: str, now: int, event: NewEvent
    ) -> StoredEvent | None:
        r = t.group_event_rsvps
        mine = (r.c.event_id == event_id, r.c.user_id == user_id)

        def unit(conn: Connection) -> StoredEvent | None:
            ge = _load(conn, event_id)
            if ge is None or ge.deleted_at is not None:
                return None
            current = conn.execute(select(r.c.status).where(*mine)).scalar_one_or_none()
            if current == status:
                return None
            if current is None:
                conn.execute(
                    insert(r).values(
                        event_id=event_id, user_id=user_id, status=status, updated_at=now
                    )
                )
            else:
                conn.execute(update(r).where(*mine).values(status=status, updated_at=now))
            return insert_event(conn, event, now)

        return await self.writer.submit(unit)

    async def set_reminder(self, event_id: str, user_id: str, remind_at: int, now: int) -> bool:
        r = t.group_event_reminders

        def unit(conn: Connection) -> bool:
            ge = _load(conn, event_id)
            if ge is None or ge.deleted_at is not None:
                return False
            old = conn.execute(
                select(r.c.id).where(r.c.event_id == event_id, r.c.user_id == user_id)
            ).scalar_one_or_none()
            if old is not None:
                conn.execute(
                    delete(t.timers).where(t.timers.c.kind == REMINDER_TIMER, t.timers.c.ref == old)
                )
                conn.execute(delete(r).where(r.c.id == old))
            rid = new_id()
            conn.execute(
                insert(r).values(id=rid, event_id=event_id, user_id=user_id, remind_at=remind_at)
            )
            conn.execute(
                insert(t.timers).values(id=new_id(), kind=REMINDER_TIMER, ref=rid, due_at=remind_at)
            )
            return True

        return await self.writer.submit(unit)

    async def fire_reminder(
        self, reminder_id: str, now: int, make: Callable[[str, GroupEventRecord, int], NewEvent]
    ) -> ReminderDue | None:
        r = t.group_event_reminders

        def unit(conn: Connection) -> ReminderDue | None:
            claimed = conn.execute(
                delete(t.timers).where(
                    t.timers.c.kind == REMINDER_TIMER, t.timers.c.ref == reminder_id
                )
            )
            if not claimed.rowcount:
                return None
            row = conn.execute(select(r).where(r.c.id == reminder_id)).first()
            if row is None:
                return None
            ge = _load(conn, row.event_id)
            if ge is None or ge.deleted_at is not None:
                return None
            m = t.members
            still_member = conn.execute(
                select(m.c.user_id).where(
                    m.c.conversation_id == ge.group_id,
                    m.c.user_id == row.user_id,
                    m.c.left_pos.is_(None),
                )
            ).first()
            if still_member is None:  # left the group since: nothing to remind of
                return None
            conn.execute(update(r).where(r.c.id == reminder_id).values(fired_at=now))
            stored = insert_event(conn, make(row.user_id, ge, row.remind_at), now)
            return ReminderDue(row.user_id, ge, row.remind_at, stored)

        return await self.writer.submit(unit)
