"""Attachment records (`core.ports.AttachmentStore`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, exists, insert, or_, select, update

from hubbub.core.ports.attachments import AttachmentRecord
from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea

__all__ = ["SqlAttachments"]

_a = t.attachments
# Bound to no live message: none, one whose commit never came (a crash between
# the two), or one deleted since (its files go with it).
_unsent = or_(
    _a.c.message_id.is_(None),
    ~exists().where(t.messages.c.id == _a.c.message_id, t.messages.c.deleted_at.is_(None)),
)


def _record(r: Any) -> AttachmentRecord:
    return AttachmentRecord(
        r.id,
        r.conversation_id,
        r.uploader_id,
        r.filename,
        r.content_type,
        int(r.size),
        r.created_at,
        r.uploaded_at,
        r.message_id,
        r.blob_id,
    )


class SqlAttachments(SqlArea):
    """The attachments area: `attachments` (no events: messages announce them)."""

    async def create_attachment(self, rec: AttachmentRecord) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(_a).values(
                    id=rec.id,
                    conversation_id=rec.conversation_id,
                    uploader_id=rec.uploader_id,
                    filename=rec.filename,
                    content_type=rec.content_type,
                    size=rec.size,
                    created_at=rec.created_at,
                )
            )

    async def get_attachment(self, attachment_id: str) -> AttachmentRecord | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(_a).where(_a.c.id == attachment_id))).first()
        return _record(row) if row is not None else None

    async def sent_with_live_message(self, attachment_id: str) -> bool:
        q = select(_a.c.id).where(_a.c.id == attachment_id, ~_unsent)
        async with self.engine.connect() as conn:
            return (await conn.execute(q)).first() is not None

    async def mark_uploaded(self, attachment_id: str, now: int, blob_id: str) -> bool:
        async with self.engine.begin() as conn:
            res = await conn.execute(
                update(_a)
                .where(_a.c.id == attachment_id, _a.c.uploaded_at.is_(None))
                .values(uploaded_at=now, blob_id=blob_id)
            )
            return bool(res.rowcount)

    async def bind_attachments(self, attachment_ids: list[str], message_id: str) -> bool:
        if not attachment_ids:
            return True
        async with self.engine.begin() as conn:
            res = await conn.execute(
                update(_a)
                .where(
                    _a.c.id.in_(attachment_ids),
                    _a.c.message_id.is_(None),
                    _a.c.uploaded_at.is_not(None),
                )
                .values(message_id=message_id)
            )
            if res.rowcount != len(set(attachment_ids)):
                await conn.rollback()  # one was taken meanwhile: none is bound
                return False
            return True

    async def unbind_attachments(self, attachment_ids: list[str], message_id: str) -> None:
        if not attachment_ids:
            return
        async with self.engine.begin() as conn:
            await conn.execute(
                update(_a)
                .where(_a.c.id.in_(attachment_ids), _a.c.message_id == message_id)
                .values(message_id=None)
            )

    async def attachments_of(self, message_ids: list[str]) -> dict[str, list[AttachmentRecord]]:
        if not message_ids:
            return {}
        out: dict[str, list[AttachmentRecord]] = {}
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(_a).where(_a.c.message_id.in_(list(set(message_ids)))).order_by(_a.c.id)
            )
            for r in rows:
                out.setdefault(r.message_id, []).append(_record(r))
        return out

    async def unsent_before(self, before: int, limit: int) -> list[AttachmentRecord]:
        q = (
            select(_a)
            .where(_a.c.created_at < before, _unsent)
            .order_by(_a.c.created_at, _a.c.id)
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            return [_record(r) for r in await conn.execute(q)]

    async def delete_unsent(self, attachment_id: str) -> bool:
        async with self.engine.begin() as conn:
            res = await conn.execute(delete(_a).where(_a.c.id == attachment_id, _unsent))
            return bool(res.rowcount)
