"""Shared chat backgrounds (`core.ports.ChatBackgroundStore`): one row per conversation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, insert, select, update

from hubbub.core.model import NewEvent
from hubbub.core.ports.archive import Acked
from hubbub.core.ports.chat_backgrounds import Background
from hubbub.store.sql import tables as t
from hubbub.store.sql.archive import remember, remembered
from hubbub.store.sql.area import SqlArea
from hubbub.store.sql.events import insert_event

__all__ = ["SqlChatBackgrounds"]

_b = t.chat_backgrounds


def _of(row: Any) -> Background:
    return Background(row.background_id, row.background_type, row.value)


class SqlChatBackgrounds(SqlArea):
    """The chat_backgrounds area: `chat_backgrounds`."""

    async def set_background(
        self,
        conversation_id: str,
        user_id: str,
        background: Background,
        now: int,
        event: NewEvent,
        request_key: str | None,
        ack: Callable[[str], dict[str, Any]],
    ) -> Acked:
        values = {
            "background_id": background.background_id,
            "background_type": background.background_type,
            "value": background.value,
            "updated_by": user_id,
            "updated_at": now,
        }

        def unit(conn: Connection) -> Acked:
            if (done := remembered(conn, user_id, request_key)) is not None:
                return done, None
            where = _b.c.conversation_id == conversation_id
            row = conn.execute(select(_b).where(where)).first()
            stored = None
            if row is not None and _of(row) == background:
                status = "unchanged"
            else:
                status = "applied"
                if row is None:
                    conn.execute(insert(_b).values(conversation_id=conversation_id, **values))
                else:
                    conn.execute(update(_b).where(where).values(**values))
                stored = insert_event(conn, event, now)
            result = ack(status)
            remember(conn, user_id, request_key, result, now)
            return result, stored

        return await self.writer.submit(unit)

    async def background_of(self, conversation_id: str) -> Background | None:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(select(_b).where(_b.c.conversation_id == conversation_id))
            ).first()
            return _of(row) if row is not None else None
