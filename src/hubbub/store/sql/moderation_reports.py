"""Moderation reports (`core.ports.ReportStore`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from hubbub.core.model import NewEvent, StoredEvent
from hubbub.core.ports.moderation_reports import Report
from hubbub.errors import Conflict
from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea
from hubbub.store.sql.events import insert_event

__all__ = ["SqlReports"]

_r = t.moderation_reports
_FIELDS = tuple(Report.__dataclass_fields__)
_PENDING = ("open", "reviewing")


def _report(row: Any) -> Report:
    return Report(**{f: getattr(row, f) for f in _FIELDS})


class SqlReports(SqlArea):
    """The moderation_reports area: one `moderation_reports` row per report."""

    async def add_report(self, report: Report, max_open: int) -> Report | None:
        values = {f: getattr(report, f) for f in _FIELDS}

        def unit(conn: Connection) -> Report | None:
            if report.client_request_id is not None:
                row = conn.execute(
                    select(_r).where(
                        _r.c.reporter_id == report.reporter_id,
                        _r.c.client_request_id == report.client_request_id,
                    )
                ).first()
                if row is not None:
                    return _report(row)  # a retry: the first report, nothing written
            pending = conn.execute(
                select(func.count())
                .select_from(_r)
                .where(_r.c.reporter_id == report.reporter_id, _r.c.status.in_(_PENDING))
            ).scalar_one()
            if pending >= max_open:
                return None
            conn.execute(insert(_r).values(**values))
            return report

        try:
            return await self.writer.submit(unit)
        except IntegrityError:
            # Another node stored the same key between our check and insert.
            key = report.client_request_id
            first = await self.report_by_request(report.reporter_id, key) if key else None
            if first is None:
                raise
            return first

    async def report_by_request(self, reporter_id: str, client_request_id: str) -> Report | None:
        q = select(_r).where(
            _r.c.reporter_id == reporter_id, _r.c.client_request_id == client_request_id
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(q)).first()
        return _report(row) if row is not None else None

    async def get_report(self, report_id: str) -> Report | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(_r).where(_r.c.id == report_id))).first()
        return _report(row) if row is not None else None

    async def list_reports(self, status: str | None, after: str | None, limit: int) -> list[Report]:
        q = select(_r).order_by(_r.c.id).limit(limit)
        if status is not None:
            q = q.where(_r.c.status == status)
        if after is not None:
            q = q.where(_r.c.id > after)
        async with self.engine.connect() as conn:
            return [_report(r) for r in await conn.execute(q)]

    async def set_status(
        self,
        report_id: str,
        status: str,
        allowed_from: frozenset[str],
        note: str | None,
        by: str,
        now: int,
        event: NewEvent,
    ) -> tuple[Report, StoredEvent | None] | None:
        def unit(conn: Connection) -> tuple[Report, StoredEvent | None] | None:
            row = conn.execute(select(_r).where(_r.c.id == report_id)).first()
            if row is None:
                return None
            if row.status == status:
                return _report(row), None  # a retry: nothing written, nobody told
            if row.status not in allowed_from:
                raise Conflict(f"the report is {row.status}: it cannot become {status}")
            values: dict[str, Any] = {"status": status, "updated_at": now, "handled_by": by}
            if note is not None:
                values["note"] = note
            conn.execute(update(_r).where(_r.c.id == report_id).values(**values))
            stored = insert_event(conn, event, now)
            after = conn.execute(select(_r).where(_r.c.id == report_id)).one()
            return _report(after), stored

        return await self.writer.submit(unit)
