"""Per-user archive (`core.ports.ArchiveStore`).

A row says "archived at stream position P"; the conversation counts as
archived while its last message is at or before P. So a new message brings
it back for everyone without the send path doing anything (no read or write
per message): every query below compares with the last message's position.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from sqlalchemy import Connection, delete, func, insert, select, text, update

from hubbub.core.model import NewEvent, StoredEvent
from hubbub.core.ports.archive import Acked
from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea
from hubbub.store.sql.events import insert_event, stream_head

__all__ = ["SqlArchive", "remember", "remembered"]

_json = msgspec.json

_a, _msg = t.archives, t.messages

_LAST = "(SELECT MAX(x.event_pos) FROM messages x WHERE x.conversation_id = {cid})"
_ARCHIVED_OF = text(
    f"""
    SELECT a.conversation_id FROM archives a
    WHERE a.user_id = :me AND a.archived_pos >= COALESCE({_LAST.format(cid="a.conversation_id")}, 0)
    """
)
# Members of dialogs with no message since `cutoff` (or none since they were
# created) who have not archived them since: MTChat's auto-archive.
_INACTIVE = text(
    f"""
    SELECT m.conversation_id, m.user_id FROM members m
    JOIN dialogs d ON d.conversation_id = m.conversation_id
    WHERE m.left_pos IS NULL
      AND NOT EXISTS (
        SELECT 1 FROM archives a
        WHERE a.conversation_id = m.conversation_id AND a.user_id = m.user_id
          AND a.archived_pos >= COALESCE({_LAST.format(cid="m.conversation_id")}, 0))
      AND COALESCE((SELECT MAX(x.created_at) FROM messages x
                    WHERE x.conversation_id = m.conversation_id), d.created_at) < :cutoff
    ORDER BY m.conversation_id, m.user_id
    LIMIT :limit
    """
)


def _archived(conn: Connection, conversation_id: str, user_id: str) -> tuple[bool, bool]:
    """(a row exists, it is in effect: no message since)."""
    row = conn.execute(
        select(_a.c.archived_pos).where(
            _a.c.conversation_id == conversation_id, _a.c.user_id == user_id
        )
    ).first()
    if row is None:
        return False, False
    last = conn.execute(
        select(func.max(_msg.c.event_pos)).where(_msg.c.conversation_id == conversation_id)
    ).scalar_one_or_none()
    return True, row.archived_pos >= (last or 0)


def remembered(conn: Connection, user_id: str, key: str | None) -> dict[str, Any] | None:
    """The reply a request with this key already got (shared with `pins.py`)."""
    if key is None:
        return None
    k = t.request_keys
    done = conn.execute(
        select(k.c.result).where(k.c.user_id == user_id, k.c.key == key)
    ).scalar_one_or_none()
    return _json.decode(bytes(done)) if done is not None else None


def remember(
    conn: Connection, user_id: str, key: str | None, result: dict[str, Any], now: int
) -> None:
    if key is not None:
        conn.execute(
            insert(t.request_keys).values(
                user_id=user_id, key=key, result=_json.encode(result), created_at=now
            )
        )


class SqlArchive(SqlArea):
    """The archive area: one `archives` row per (conversation, user)."""

    async def set_archived(
        self,
        conversation_id: str,
        user_id: str,
        archived: bool,
        now: int,
        event: NewEvent,
        request_key: str | None,
        ack: Callable[[bool], dict[str, Any]],
    ) -> Acked:
        def unit(conn: Connection) -> Acked:
            if (done := remembered(conn, user_id, request_key)) is not None:
                return done, None
            where = (_a.c.conversation_id == conversation_id) & (_a.c.user_id == user_id)
            row, effective = _archived(conn, conversation_id, user_id)
            stored = None
            if effective != archived:
                if archived:
                    head = stream_head(conn)
                    if row:
                        conn.execute(
                            update(_a).where(where).values(archived_at=now, archived_pos=head)
                        )
                    else:
                        conn.execute(
                            insert(_a).values(
                                conversation_id=conversation_id,
                                user_id=user_id,
                                archived_at=now,
                                archived_pos=head,
                            )
                        )
                else:
                    conn.execute(delete(_a).where(where))
                stored = insert_event(conn, event, now)
            result = ack(stored is not None)
            remember(conn, user_id, request_key, result, now)
            return result, stored

        return await self.writer.submit(unit)

    async def archived_of(self, user_id: str) -> set[str]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(_ARCHIVED_OF, {"me": user_id})
            return {r[0] for r in rows}

    async def conversations_with_archives(self, limit: int) -> list[str]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(_a.c.conversation_id).distinct().limit(limit))
            return [r[0] for r in rows]

    async def has_archives(self, conversation_id: str) -> bool:
        async with self.engine.connect() as conn:
            found = await conn.execute(
                select(_a.c.user_id).where(_a.c.conversation_id == conversation_id).limit(1)
            )
            return found.first() is not None

    async def revive(
        self, conversation_id: str, now: int, make: Callable[[str], NewEvent]
    ) -> list[StoredEvent]:
        def unit(conn: Connection) -> list[StoredEvent]:
            last = conn.execute(
                select(func.max(_msg.c.event_pos)).where(_msg.c.conversation_id == conversation_id)
            ).scalar_one_or_none()
            ended = list(
                conn.execute(
                    select(_a.c.user_id).where(
                        _a.c.conversation_id == conversation_id, _a.c.archived_pos < (last or 0)
                    )
                ).scalars()
            )
            if not ended:
                return []
            conn.execute(
                delete(_a).where(_a.c.conversation_id == conversation_id, _a.c.user_id.in_(ended))
            )
            return [insert_event(conn, make(user_id), now) for user_id in sorted(ended)]

        return await self.writer.submit(unit)

    async def inactive_dialog_members(self, cutoff: int, limit: int) -> list[tuple[str, str]]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(_INACTIVE, {"cutoff": cutoff, "limit": limit})
            return [(r[0], r[1]) for r in rows]
