"""Contact sync (`core.ports.ContactSyncStore`): lookups in `users`, records in `contact_syncs`.

The lookup reads the unique `users.phone` / `users.email` indexes with the
caller's normalised values; the block check is a NOT EXISTS on the blocks
primary key, so a blocker never comes back at all rather than being
filtered after the fact.
"""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import Connection, and_, delete, exists, insert, or_, select, update

from hubbub.core.ports.contact_sync import Candidate, SyncRecord
from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea

__all__ = ["SqlContactSync"]

_u, _b, _s, _d = t.users, t.blocks, t.contact_syncs, t.contact_discovery
_json_enc = msgspec.json.Encoder()
_json_dec = msgspec.json.Decoder(list[dict[str, Any]])


def _record(row: Any) -> SyncRecord:
    return SyncRecord(
        sync_id=row.sync_id,
        device_id=row.device_id,
        created_at=row.created_at,
        processed=row.processed,
        matched=row.matched,
        failed=row.failed,
        matches=_json_dec.decode(row.matches.encode()),
        received_count=row.received_count,
    )


def _find(conn: Connection, user_id: str, sync_id: str) -> SyncRecord | None:
    row = conn.execute(
        select(_s).where(_s.c.user_id == user_id, _s.c.sync_id == sync_id)
    ).one_or_none()
    return _record(row) if row is not None else None


class SqlContactSync(SqlArea):
    """The contact sync area."""

    async def discoverable(
        self, caller_id: str, phones: list[str], emails: list[str]
    ) -> list[Candidate]:
        wanted = []
        if phones:
            wanted.append(_u.c.phone.in_(phones))
        if emails:
            wanted.append(_u.c.email.in_(emails))
        if not wanted:
            return []
        blocks_caller = exists().where(_b.c.blocker_id == _u.c.id, _b.c.blocked_id == caller_id)
        opted_out = exists().where(_d.c.user_id == _u.c.id, _d.c.discoverable.is_(False))
        q = select(_u.c.id, _u.c.username, _u.c.display_name, _u.c.phone, _u.c.email).where(
            or_(*wanted),
            and_(_u.c.deactivated_at.is_(None), _u.c.deletion_requested_at.is_(None)),
            _u.c.id != caller_id,
            ~blocks_caller,
            ~opted_out,
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(q)).all()
        return [Candidate(r[0], r[1], r[2] or "", r[3], r[4]) for r in rows]

    async def find_sync(self, user_id: str, sync_id: str) -> SyncRecord | None:
        async with self.engine.connect() as conn:
            return await conn.run_sync(lambda c: _find(c, user_id, sync_id))

    async def save_sync(self, user_id: str, record: SyncRecord, keep: int) -> SyncRecord:
        def unit(conn: Connection) -> SyncRecord:
            if (first := _find(conn, user_id, record.sync_id)) is not None:
                return first
            conn.execute(
                insert(_s).values(
                    user_id=user_id,
                    sync_id=record.sync_id,
                    device_id=record.device_id,
                    created_at=record.created_at,
                    processed=record.processed,
                    matched=record.matched,
                    failed=record.failed,
                    matches=_json_enc.encode(record.matches).decode(),
                )
            )
            old = (
                select(_s.c.sync_id)
                .where(_s.c.user_id == user_id)
                .order_by(_s.c.created_at.desc(), _s.c.sync_id.desc())
                .offset(keep)
            )
            stale = [r[0] for r in conn.execute(old)]
            if stale:
                conn.execute(delete(_s).where(_s.c.user_id == user_id, _s.c.sync_id.in_(stale)))
            return record

        return await self.writer.submit(unit)

    async def set_received(self, user_id: str, sync_id: str, count: int) -> bool:
        def unit(conn: Connection) -> bool:
            res = conn.execute(
                update(_s)
                .where(_s.c.user_id == user_id, _s.c.sync_id == sync_id)
                .values(received_count=count)
            )
            return bool(res.rowcount)

        return await self.writer.submit(unit)

    async def discoverability(self, user_id: str) -> tuple[bool, int | None]:
        q = select(_d.c.discoverable, _d.c.updated_at).where(_d.c.user_id == user_id)
        async with self.engine.connect() as conn:
            row = (await conn.execute(q)).one_or_none()
        return (True, None) if row is None else (bool(row[0]), int(row[1]))

    async def set_discoverable(self, user_id: str, discoverable: bool, now: int) -> None:
        def unit(conn: Connection) -> None:
            where = _d.c.user_id == user_id
            values = {"discoverable": discoverable, "updated_at": now}
            if conn.execute(update(_d).where(where).values(**values)).rowcount == 0:
                conn.execute(insert(_d).values(user_id=user_id, **values))

        await self.writer.submit(unit)
