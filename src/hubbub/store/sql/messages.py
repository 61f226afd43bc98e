"""Message appends and receipts (`core.ports.MessageStore`)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hubbub.core.model import (
    MessageRecord,
    NewEvent,
    StoredEvent,
)
from hubbub.store.sql import tables as t
from hubbub.store.sql.appends import MessageAppends, message_record
from hubbub.store.sql.area import SqlArea
from hubbub.store.sql.events import insert_event
from hubbub.store.sql.writer import GroupCommitWriter

__all__ = ["GET_MESSAGE", "SqlMessages"]

GET_MESSAGE = select(t.messages).where(t.messages.c.id == bindparam("id"))


class SqlMessages(SqlArea):
    """The messages area: `messages` (appended by `appends.py`) and `receipts`."""

    def __init__(
        self, engine: AsyncEngine, writer: GroupCommitWriter, clock_ms: Callable[[], int]
    ) -> None:
        super().__init__(engine, writer, clock_ms)
        self._appends = MessageAppends()

    async def append_message(
        self, record: MessageRecord, fields: dict[str, object], event: NewEvent
    ) -> tuple[MessageRecord, StoredEvent | None]:
        return await self.writer.submit_item(self._appends, (record, fields, event))

    async def get_message(self, message_id: str) -> MessageRecord | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(GET_MESSAGE, {"id": message_id})).first()
        return message_record(row) if row else None

    async def get_body(self, message_id: str) -> tuple[str, str | None] | None:
        m = t.messages
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(m.c.content_type, m.c.content).where(m.c.id == message_id)
                )
            ).first()
        return (row.content_type, row.content) if row else None

    async def record_receipt(
        self, message_id: str, user_id: str, status: str, now: int, event: NewEvent | None
    ) -> StoredEvent | None:
        def unit(conn: Connection) -> StoredEvent | None:
            r = t.receipts
            exists = (
                conn.execute(
                    select(r.c.at).where(
                        r.c.message_id == message_id, r.c.user_id == user_id, r.c.status == status
                    )
                )
            ).first()
            if exists is not None:
                return None  # a repeated receipt changes nothing and notifies no one
            conn.execute(
                insert(r).values(message_id=message_id, user_id=user_id, status=status, at=now)
            )
            return insert_event(conn, event, now) if event is not None else None

        return await self.writer.submit(unit)
