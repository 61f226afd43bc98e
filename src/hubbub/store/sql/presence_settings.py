"""Presence visibility settings (`core.ports.PresenceSettingStore`)."""

from __future__ import annotations

from collections.abc import Iterable

import msgspec
from sqlalchemy import Connection, insert, select, text, update

from hubbub.core.model import NewEvent, StoredEvent
from hubbub.core.ports.presence_settings import PresenceVisibility
from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea
from hubbub.store.sql.events import insert_event

__all__ = ["SqlPresenceSettings"]

_ps = t.presence_settings
_ids = msgspec.json.Decoder(list[str])

_DIRECT_PEERS = text(
    """
    SELECT DISTINCT m2.user_id FROM members m1
      JOIN conversations c ON c.id = m1.conversation_id AND c.kind = 'direct'
      JOIN members m2 ON m2.conversation_id = m1.conversation_id
    WHERE m1.user_id = :me AND m1.left_pos IS NULL AND m2.left_pos IS NULL
      AND m2.user_id <> :me
    """
)


def _setting(row: object) -> PresenceVisibility:
    return PresenceVisibility(
        visibility=row.visibility,  # type: ignore[attr-defined]
        allowed=tuple(_ids.decode(row.allowed_user_ids)),  # type: ignore[attr-defined]
        blocked=tuple(_ids.decode(row.blocked_user_ids)),  # type: ignore[attr-defined]
        updated_at=row.updated_at,  # type: ignore[attr-defined]
    )


class SqlPresenceSettings(SqlArea):
    """The presence_settings area: one `presence_settings` row per user who set one."""

    async def visibility_of(self, user_ids: Iterable[str]) -> dict[str, PresenceVisibility]:
        ids = list(set(user_ids))
        if not ids:
            return {}
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(_ps).where(_ps.c.user_id.in_(ids)))
            return {r.user_id: _setting(r) for r in rows}

    async def set_visibility(
        self, user_id: str, setting: PresenceVisibility, event: NewEvent
    ) -> StoredEvent | None:
        now = setting.updated_at
        assert now is not None
        values = {
            "visibility": setting.visibility,
            "allowed_user_ids": msgspec.json.encode(list(setting.allowed)).decode(),
            "blocked_user_ids": msgspec.json.encode(list(setting.blocked)).decode(),
            "updated_at": now,
        }

        def unit(conn: Connection) -> StoredEvent | None:
            row = conn.execute(select(_ps).where(_ps.c.user_id == user_id)).first()
            old = _setting(row) if row is not None else PresenceVisibility("everyone")
            if (old.visibility, old.allowed, old.blocked) == (
                setting.visibility,
                setting.allowed,
                setting.blocked,
            ):
                return None  # the default counts as stored: no row, no event
            if row is None:
                conn.execute(insert(_ps).values(user_id=user_id, **values))
            else:
                conn.execute(update(_ps).where(_ps.c.user_id == user_id).values(**values))
            return insert_event(conn, event, now)

        return await self.writer.submit(unit)

    async def direct_peers_of(self, user_id: str) -> set[str]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(_DIRECT_PEERS, {"me": user_id})
            return {r[0] for r in rows}
