"""Per-user pins (`core.ports.PinStore`), in MTChat's own column.

A pin is `dialog_profiles.is_pinned` of the (conversation, user) row, the
one MTChat's `/dialogs/{id}/pin` always used, so the two protocols read and
write one flag. Members of conversations that are not dialogs (direct chats
and groups made over `/ws` or `/v1`) get a row when they first pin; MTChat's
participant lists read only dialogs' rows, so such rows show nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from hubbub.core.model import NewEvent
from hubbub.core.ports.archive import Acked
from hubbub.store.sql import tables as t
from hubbub.store.sql.archive import remember, remembered
from hubbub.store.sql.area import SqlArea
from hubbub.store.sql.events import insert_event

__all__ = ["SqlPins"]

_p, _m = t.dialog_profiles, t.members


def _pinned_rows(user_id: str) -> Any:
    return (
        select(_p.c.conversation_id)
        .join(
            _m,
            (_m.c.conversation_id == _p.c.conversation_id) & (_m.c.user_id == _p.c.user_id),
        )
        .where(_p.c.user_id == user_id, _p.c.is_pinned.is_(True), _m.c.left_pos.is_(None))
    )


class SqlPins(SqlArea):
    """The pins area: `dialog_profiles.is_pinned`."""

    async def set_pinned(
        self,
        conversation_id: str,
        user_id: str,
        pinned: bool,
        limit: int,
        now: int,
        event: NewEvent,
        request_key: str | None,
        ack: Callable[[str], dict[str, Any]],
    ) -> Acked:
        def unit(conn: Connection) -> Acked:
            if (done := remembered(conn, user_id, request_key)) is not None:
                return done, None
            where = (_p.c.conversation_id == conversation_id) & (_p.c.user_id == user_id)
            current = conn.execute(select(_p.c.is_pinned).where(where)).scalar_one_or_none()
            if bool(current) == pinned:
                status = "unchanged"
            elif (
                pinned
                and conn.execute(
                    select(func.count()).select_from(_pinned_rows(user_id).subquery())
                ).scalar_one()
                >= limit
            ):
                return ack("limit"), None  # not remembered: a retry after an unpin may pass
            else:
                status = "pinned" if pinned else "unpinned"
            stored = None
            if status != "unchanged":
                if current is None:
                    conn.execute(
                        insert(_p).values(
                            conversation_id=conversation_id, user_id=user_id, is_pinned=pinned
                        )
                    )
                else:
                    conn.execute(update(_p).where(where).values(is_pinned=pinned))
                stored = insert_event(conn, event, now)
            result = ack(status)
            remember(conn, user_id, request_key, result, now)
            return result, stored

        return await self.writer.submit(unit)

    async def pinned_of(self, user_id: str) -> set[str]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(_pinned_rows(user_id))
            return {r[0] for r in rows}
