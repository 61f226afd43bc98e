"""A conversation's messages read back in stream order (`core.ports.HistoryStore`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select

from hubbub.core.ports.history import StoredMessage
from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea

__all__ = ["SqlHistory"]

_msg = t.messages
_COLS = (
    _msg.c.id,
    _msg.c.conversation_id,
    _msg.c.sender_id,
    _msg.c.kind,
    _msg.c.content_type,
    _msg.c.content,
    _msg.c.created_at,
    _msg.c.edited_at,
    _msg.c.deleted_at,
    _msg.c.reply_to_id,
    _msg.c.event_pos,
)


def _stored(r: Any) -> StoredMessage:
    return StoredMessage(*r)


def _live(conversation_id: str) -> Select[Any]:
    return select(*_COLS).where(
        _msg.c.conversation_id == conversation_id,
        _msg.c.deleted_at.is_(None),
        _msg.c.kind != "e2e",
    )


class SqlHistory(SqlArea):
    """Reads of `messages` by position (its `event_pos`, the conversation's order)."""

    async def message(self, message_id: str) -> StoredMessage | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(*_COLS).where(_msg.c.id == message_id))).first()
        return _stored(row) if row is not None else None

    async def page(
        self,
        conversation_id: str,
        limit: int,
        *,
        before_pos: int | None = None,
        after_pos: int | None = None,
        from_pos: int | None = None,
    ) -> list[StoredMessage]:
        q = _live(conversation_id)
        if after_pos is not None or from_pos is not None:
            if after_pos is not None:
                q = q.where(_msg.c.event_pos > after_pos)
            if from_pos is not None:
                q = q.where(_msg.c.event_pos >= from_pos)
            q = q.order_by(_msg.c.event_pos).limit(limit)
            async with self.engine.connect() as conn:
                return [_stored(r) for r in await conn.execute(q)]
        if before_pos is not None:
            q = q.where(_msg.c.event_pos < before_pos)
        q = q.order_by(_msg.c.event_pos.desc()).limit(limit)
        async with self.engine.connect() as conn:
            rows = [_stored(r) for r in await conn.execute(q)]
        rows.reverse()
        return rows

    async def last_message(self, conversation_id: str) -> StoredMessage | None:
        q = _live(conversation_id).order_by(_msg.c.event_pos.desc()).limit(1)
        async with self.engine.connect() as conn:
            row = (await conn.execute(q)).first()
        return _stored(row) if row is not None else None

    async def count_after(self, conversation_id: str, pos: int, not_from: str) -> int:
        q = select(func.count()).where(
            _msg.c.conversation_id == conversation_id,
            _msg.c.deleted_at.is_(None),
            _msg.c.event_pos > pos,
            _msg.c.sender_id != not_from,
            _msg.c.content_type != "system",
        )
        async with self.engine.connect() as conn:
            return int((await conn.execute(q)).scalar_one())

    async def first_after(self, conversation_id: str, pos: int, not_from: str) -> str | None:
        q = (
            select(_msg.c.id)
            .where(
                _msg.c.conversation_id == conversation_id,
                _msg.c.deleted_at.is_(None),
                _msg.c.event_pos > pos,
                _msg.c.sender_id != not_from,
            )
            .order_by(_msg.c.event_pos)
            .limit(1)
        )
        async with self.engine.connect() as conn:
            found = (await conn.execute(q)).scalar_one_or_none()
        return str(found) if found is not None else None
