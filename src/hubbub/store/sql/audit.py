"""The audit log (`core.ports.AuditStore`): appended through the group-commit
writer, read newest first by (at, id) pages."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import Connection, and_, insert, or_, select

from hubbub.core.ports.audit import AuditEntry, AuditQuery
from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea

__all__ = ["SqlAudit"]

_a = t.audit_log


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(
        row.id,
        row.at,
        row.action,
        row.actor_id,
        row.target_id,
        row.address,
        msgspec.json.decode(row.detail),
    )


class SqlAudit(SqlArea):
    """The audit area: `audit_log`."""

    async def append_audit(self, entries: list[AuditEntry]) -> None:
        rows = [
            {
                "id": e.id,
                "at": e.at,
                "action": e.action,
                "actor_id": e.actor_id,
                "target_id": e.target_id,
                "address": e.address,
                "detail": msgspec.json.encode(e.detail).decode(),
            }
            for e in entries
        ]

        def unit(conn: Connection) -> None:
            conn.execute(insert(_a), rows)

        if rows:
            await self.writer.submit(unit)

    async def read_audit(self, query: AuditQuery) -> list[AuditEntry]:
        conds: list[Any] = []
        if query.action is not None:
            conds.append(_a.c.action == query.action)
        if query.actor_id is not None:
            conds.append(_a.c.actor_id == query.actor_id)
        if query.target_id is not None:
            conds.append(_a.c.target_id == query.target_id)
        if query.since is not None:
            conds.append(_a.c.at >= query.since)
        if query.until is not None:
            conds.append(_a.c.at < query.until)
        if query.before is not None:
            at, eid = query.before
            conds.append(or_(_a.c.at < at, and_(_a.c.at == at, _a.c.id < eid)))
        stmt = select(_a).where(*conds).order_by(_a.c.at.desc(), _a.c.id.desc())
        async with self.engine.connect() as conn:
            rows = await conn.execute(stmt.limit(query.limit))
            return [_entry(r) for r in rows]
