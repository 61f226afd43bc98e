"""Info-text visibility settings (`core.ports.InfoVisibilityStore`).

The same row shape as `presence_settings` (JSON arrays of the bounded lists)
and the same "who shares a direct conversation" read."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import msgspec
from sqlalchemy import Connection, insert, select, update

from hubbub.core.model import NewEvent
from hubbub.core.ports.archive import Acked
from hubbub.core.ports.presence_settings import PresenceVisibility
from hubbub.store.sql import tables as t
from hubbub.store.sql.archive import remember, remembered
from hubbub.store.sql.area import SqlArea
from hubbub.store.sql.events import insert_event
from hubbub.store.sql.presence_settings import _DIRECT_PEERS

__all__ = ["SqlInfoVisibility"]

_v = t.info_visibility
_ids = msgspec.json.Decoder(list[str])


def _setting(row: Any) -> PresenceVisibility:
    return PresenceVisibility(
        visibility=row.rule,
        allowed=tuple(_ids.decode(row.allowed_user_ids)),
        blocked=tuple(_ids.decode(row.blocked_user_ids)),
        updated_at=row.updated_at,
    )


class SqlInfoVisibility(SqlArea):
    """The info_visibility area: one `info_visibility` row per user who set one."""

    async def info_visibility_of(self, user_ids: Iterable[str]) -> dict[str, PresenceVisibility]:
        ids = list(set(user_ids))
        if not ids:
            return {}
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(_v).where(_v.c.user_id.in_(ids)))
            return {r.user_id: _setting(r) for r in rows}

    async def set_info_visibility(
        self,
        user_id: str,
        setting: PresenceVisibility,
        event: NewEvent,
        request_key: str | None,
        ack: Callable[[str], dict[str, Any]],
    ) -> Acked:
        now = setting.updated_at
        assert now is not None
        values = {
            "rule": setting.visibility,
            "allowed_user_ids": msgspec.json.encode(list(setting.allowed)).decode(),
            "blocked_user_ids": msgspec.json.encode(list(setting.blocked)).decode(),
            "updated_at": now,
        }

        def unit(conn: Connection) -> Acked:
            if (done := remembered(conn, user_id, request_key)) is not None:
                return done, None
            row = conn.execute(select(_v).where(_v.c.user_id == user_id)).first()
            old = _setting(row) if row is not None else PresenceVisibility("everyone")
            stored = None
            if (old.visibility, old.allowed, old.blocked) == (
                setting.visibility,
                setting.allowed,
                setting.blocked,
            ):
                status = "unchanged"  # the default counts as stored: no row, no event
            else:
                status = "updated"
                if row is None:
                    conn.execute(insert(_v).values(user_id=user_id, **values))
                else:
                    conn.execute(update(_v).where(_v.c.user_id == user_id).values(**values))
                stored = insert_event(conn, event, now)
            result = ack(status)
            remember(conn, user_id, request_key, result, now)
            return result, stored

        return await self.writer.submit(unit)

    async def direct_peers_of(self, user_id: str) -> set[str]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(_DIRECT_PEERS, {"me": user_id})
            return {r[0] for r in rows}
