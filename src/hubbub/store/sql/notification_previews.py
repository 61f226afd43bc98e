"""Notification preview configs and acknowledgements (`core.ports.NotificationPreviewStore`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import msgspec
from sqlalchemy import Connection, delete, insert, select, text, update

from hubbub.core.model import NewEvent, StoredEvent
from hubbub.core.ports.notification_previews import PreviewConfig
from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea
from hubbub.store.sql.events import insert_event

__all__ = ["MAX_ACKS", "SqlNotificationPreviews"]

# Acknowledgements kept per user (the most recent): a retry of a recent ack is
# still answered "not first", and a user's rows stay bounded.
MAX_ACKS = 1000

_cfg = t.notification_preview_configs
_ack = t.notification_preview_acks
_list = msgspec.json.Decoder(list[str])

_CAN_PREVIEW = text(
    """
    SELECT 1 FROM messages m
      JOIN members mb ON mb.conversation_id = m.conversation_id
    WHERE m.id = :mid AND mb.user_id = :me AND mb.left_pos IS NULL
      AND m.sender_id <> :me AND m.deleted_at IS NULL
    """
)


def _config(row: object) -> PreviewConfig:
    return PreviewConfig(
        show_sender=bool(row.show_sender),  # type: ignore[attr-defined]
        show_body=bool(row.show_body),  # type: ignore[attr-defined]
        max_body_length=int(row.max_body_length),  # type: ignore[attr-defined]
        allowed_categories=tuple(_list.decode(row.allowed_categories)),  # type: ignore[attr-defined]
        version=int(row.version),  # type: ignore[attr-defined]
        updated_at=row.updated_at,  # type: ignore[attr-defined]
    )


class SqlNotificationPreviews(SqlArea):
    """The notification_previews area: `notification_preview_configs` (a row
    per user who changed the default) and `notification_preview_acks`."""

    async def configs_of(self, user_ids: Iterable[str]) -> dict[str, PreviewConfig]:
        ids = list(set(user_ids))
        if not ids:
            return {}
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(_cfg).where(_cfg.c.user_id.in_(ids)))
            return {r.user_id: _config(r) for r in rows}

    async def set_config(
        self,
        user_id: str,
        config: PreviewConfig,
        default: PreviewConfig,
        event_of: Callable[[PreviewConfig], NewEvent],
    ) -> tuple[PreviewConfig, StoredEvent | None]:
        now = config.updated_at
        assert now is not None

        def unit(conn: Connection) -> tuple[PreviewConfig, StoredEvent | None]:
            row = conn.execute(select(_cfg).where(_cfg.c.user_id == user_id)).first()
            old = _config(row) if row is not None else default
            if old.same_as(config):
                return old, None  # the default counts as stored: no row, no event
            new = PreviewConfig(
                config.show_sender,
                config.show_body,
                config.max_body_length,
                config.allowed_categories,
                old.version + 1,
                now,
            )
            values = {
                "version": new.version,
                "show_sender": new.show_sender,
                "show_body": new.show_body,
                "max_body_length": new.max_body_length,
                "allowed_categories": msgspec.json.encode(list(new.allowed_categories)).decode(),
                "updated_at": now,
            }
            if row is None:
                conn.execute(insert(_cfg).values(user_id=user_id, **values))
            else:
                conn.execute(update(_cfg).where(_cfg.c.user_id == user_id).values(**values))
            return new, insert_event(conn, event_of(new), now)

        return await self.writer.submit(unit)

    async def can_preview(self, user_id: str, message_id: str) -> bool:
        async with self.engine.connect() as conn:
            row = (await conn.execute(_CAN_PREVIEW, {"mid": message_id, "me": user_id})).first()
            return row is not None

    async def record_ack(
        self, user_id: str, preview_id: str, received_at: str | None, now: int
    ) -> bool:
        def unit(conn: Connection) -> bool:
            mine = _ack.c.user_id == user_id
            found = conn.execute(
                select(_ack.c.acked_at).where(mine, _ack.c.preview_id == preview_id)
            )
            if found.first() is not None:
                return False
            conn.execute(
                insert(_ack).values(
                    user_id=user_id, preview_id=preview_id, received_at=received_at, acked_at=now
                )
            )
            keep = (
                select(_ack.c.preview_id)
                .where(mine)
                .order_by(_ack.c.acked_at.desc(), _ack.c.preview_id.desc())
                .limit(MAX_ACKS)
            )
            conn.execute(delete(_ack).where(mine, _ack.c.preview_id.not_in(keep)))
            return True

        return await self.writer.submit(unit)
