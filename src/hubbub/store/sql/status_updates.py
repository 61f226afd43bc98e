"""Statuses, their visibility and viewers' mutes (`core.ports.StatusStore`,
`core.ports.StatusVisibilityStore`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import msgspec
from sqlalchemy import Connection, delete, func, insert, select, text, update

from hubbub.core.model import NewEvent, StoredEvent
from hubbub.core.ports.presence_settings import PresenceVisibility
from hubbub.core.ports.status_updates import StatusRecord
from hubbub.ids import new_id
from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea
from hubbub.store.sql.events import insert_event

__all__ = ["MAX_REQUESTS", "SqlStatusUpdates"]

# Request ids (and mute receipts) kept per user and kind: a retry of a recent
# request is still recognised, and a user's rows stay bounded.
MAX_REQUESTS = 200

_s = t.statuses
_v = t.status_visibility
_m = t.status_mutes
_r = t.status_requests
_a = t.status_mute_acks
_ids = msgspec.json.Decoder(list[str])

_CONTACTS = text(
    """
    SELECT DISTINCT m2.user_id FROM members m1
      JOIN conversations c ON c.id = m1.conversation_id AND c.kind = 'direct'
      JOIN members m2 ON m2.conversation_id = m1.conversation_id
    WHERE m1.user_id = :me AND m1.left_pos IS NULL AND m2.left_pos IS NULL
      AND m2.user_id <> :me
      AND NOT EXISTS (SELECT 1 FROM blocks b
        WHERE (b.blocker_id = :me AND b.blocked_id = m2.user_id)
           OR (b.blocker_id = m2.user_id AND b.blocked_id = :me))
    """
)


def _status(row: Any) -> StatusRecord:
    return StatusRecord(
        row.id, row.author_id, row.content_type, row.content_url, row.text,
        row.created_at, row.expires_at, row.client_request_id,
    )  # fmt: skip


def _setting(row: Any) -> PresenceVisibility:
    return PresenceVisibility(
        row.visibility,
        tuple(_ids.decode(row.allowed_user_ids)),
        tuple(_ids.decode(row.blocked_user_ids)),
        row.updated_at,
    )


def _seen_request(conn: Connection, user_id: str, kind: str, request_id: str | None) -> int | None:
    if request_id is None:
        return None
    found = conn.execute(
        select(_r.c.done_at).where(
            _r.c.user_id == user_id, _r.c.kind == kind, _r.c.request_id == request_id
        )
    ).first()
    return int(found[0]) if found is not None else None


def _record_request(
    conn: Connection, user_id: str, kind: str, request_id: str | None, now: int, **extra: Any
) -> None:
    if request_id is None:
        return
    conn.execute(
        insert(_r).values(user_id=user_id, kind=kind, request_id=request_id, done_at=now, **extra)
    )
    mine = (_r.c.user_id == user_id, _r.c.kind == kind)
    keep = (
        select(_r.c.request_id)
        .where(*mine)
        .order_by(_r.c.done_at.desc(), _r.c.request_id.desc())
        .limit(MAX_REQUESTS)
    )
    conn.execute(delete(_r).where(*mine, _r.c.request_id.not_in(keep)))


class SqlStatusUpdates(SqlArea):
    """The status_updates area: `statuses` (with `timers` rows of their kind),
    `status_visibility`, `status_mutes`, `status_requests`, `status_mute_acks`."""

    async def create_status(
        self,
        status: StatusRecord,
        max_live: int,
        timer_kind: str,
        events_of: Callable[[StatusRecord], list[NewEvent]],
    ) -> tuple[StatusRecord, list[StoredEvent]] | None:
        def unit(conn: Connection) -> tuple[StatusRecord, list[StoredEvent]] | None:
            if status.client_request_id is not None:
                found = conn.execute(
                    select(_s).where(
                        _s.c.author_id == status.author_id,
                        _s.c.client_request_id == status.client_request_id,
                    )
                ).first()
                if found is not None:
                    return _status(found), []
            live = conn.execute(
                select(func.count())
                .select_from(_s)
                .where(_s.c.author_id == status.author_id, _s.c.expires_at > status.created_at)
            ).scalar_one()
            if live >= max_live:
                return None
            conn.execute(
                insert(_s).values(
                    id=status.id,
                    author_id=status.author_id,
                    client_request_id=status.client_request_id,
                    content_type=status.content_type,
                    content_url=status.content_url,
                    text=status.text,
                    created_at=status.created_at,
                    expires_at=status.expires_at,
                )
            )
            conn.execute(
                insert(t.timers).values(
                    id=new_id(), kind=timer_kind, ref=status.id, due_at=status.expires_at
                )
            )
            return status, [insert_event(conn, ev, status.created_at) for ev in events_of(status)]

        return await self.writer.submit(unit)

    async def expire_status(self, status_id: str, timer_kind: str) -> bool:
        def unit(conn: Connection) -> bool:
            conn.execute(
                delete(t.timers).where(t.timers.c.kind == timer_kind, t.timers.c.ref == status_id)
            )
            return bool(conn.execute(delete(_s).where(_s.c.id == status_id)).rowcount)

        return await self.writer.submit(unit)

    async def live_statuses(self, author_ids: Iterable[str], now: int) -> list[StatusRecord]:
        ids = list(set(author_ids))
        if not ids:
            return []
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(_s)
                .where(_s.c.author_id.in_(ids), _s.c.expires_at > now)
                .order_by(_s.c.created_at, _s.c.id)
            )
            return [_status(r) for r in rows]

    async def live_with_url(self, content_url: str, now: int) -> list[StatusRecord]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(_s)
                .where(_s.c.content_url == content_url, _s.c.expires_at > now)
                .order_by(_s.c.created_at)
                .limit(100)
            )
            return [_status(r) for r in rows]

    async def contacts_of(self, user_id: str) -> set[str]:
        async with self.engine.connect() as conn:
            return {r[0] for r in await conn.execute(_CONTACTS, {"me": user_id})}

    async def muters_of(self, contact_id: str, viewers: Iterable[str]) -> set[str]:
        ids = list(set(viewers))
        if not ids:
            return set()
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(_m.c.viewer_id).where(_m.c.contact_id == contact_id, _m.c.viewer_id.in_(ids))
            )
            return {r[0] for r in rows}

    async def status_visibility_of(self, user_id: str) -> PresenceVisibility | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(_v).where(_v.c.user_id == user_id))).first()
            return _setting(row) if row is not None else None

    async def set_status_visibility(
        self, user_id: str, setting: PresenceVisibility, request_id: str | None, ev: NewEvent
    ) -> tuple[int, StoredEvent | None]:
        now = setting.updated_at
        assert now is not None

        def unit(conn: Connection) -> tuple[int, StoredEvent | None]:
            done = _seen_request(conn, user_id, "visibility", request_id)
            if done is not None:
                return done, None
            _record_request(conn, user_id, "visibility", request_id, now)
            row = conn.execute(select(_v).where(_v.c.user_id == user_id)).first()
            old = _setting(row) if row is not None else PresenceVisibility("contacts")
            new = (setting.visibility, setting.allowed, setting.blocked)
            if (old.visibility, old.allowed, old.blocked) == new:
                return now, None
            values = {
                "visibility": setting.visibility,
                "allowed_user_ids": msgspec.json.encode(list(setting.allowed)).decode(),
                "blocked_user_ids": msgspec.json.encode(list(setting.blocked)).decode(),
                "updated_at": now,
            }
            if row is None:
                conn.execute(insert(_v).values(user_id=user_id, **values))
            else:
                conn.execute(update(_v).where(_v.c.user_id == user_id).values(**values))
            return now, insert_event(conn, ev, now)

        return await self.writer.submit(unit)

    async def request_done_at(self, user_id: str, kind: str, request_id: str) -> int | None:
        async with self.engine.connect() as conn:
            return await conn.run_sync(_seen_request, user_id, kind, request_id)

    async def user_exists(self, user_id: str) -> bool:
        u = t.users
        async with self.engine.connect() as conn:
            found = await conn.execute(
                select(u.c.id).where(u.c.id == user_id, u.c.deactivated_at.is_(None))
            )
            return found.first() is not None

    async def set_mute(
        self,
        viewer_id: str,
        contact_id: str,
        muted: bool,
        request_id: str | None,
        now: int,
        ev: NewEvent,
        max_mutes: int,
    ) -> tuple[int, StoredEvent | None] | None:
        def unit(conn: Connection) -> tuple[int, StoredEvent | None] | None:
            done = _seen_request(conn, viewer_id, "mute", request_id)
            if done is not None:
                return done, None
            pair = (_m.c.viewer_id == viewer_id, _m.c.contact_id == contact_id)
            was = conn.execute(select(_m.c.muted_at).where(*pair)).first() is not None
            if muted and not was:
                count = select(func.count()).select_from(_m).where(_m.c.viewer_id == viewer_id)
                if conn.execute(count).scalar_one() >= max_mutes:
                    return None
            _record_request(
                conn, viewer_id, "mute", request_id, now, contact_id=contact_id, muted=muted
            )
            if was == muted:
                return now, None
            if muted:
                conn.execute(
                    insert(_m).values(viewer_id=viewer_id, contact_id=contact_id, muted_at=now)
                )
            else:
                conn.execute(delete(_m).where(*pair))
            return now, insert_event(conn, ev, now)

        return await self.writer.submit(unit)

    async def is_mute_event(self, user_id: str, pos: int) -> bool:
        e = t.events
        async with self.engine.connect() as conn:
            found = await conn.execute(
                select(e.c.pos).where(
                    e.c.pos == pos,
                    e.c.scope == "u",
                    e.c.target == user_id,
                    e.c.type == "ContactStatusMuteChanged",
                )
            )
            return found.first() is not None

    async def record_mute_ack(
        self, user_id: str, event_id: str, received_at: str | None, now: int
    ) -> bool:
        def unit(conn: Connection) -> bool:
            mine = _a.c.user_id == user_id
            found = conn.execute(select(_a.c.acked_at).where(mine, _a.c.event_id == event_id))
            if found.first() is not None:
                return False
            conn.execute(
                insert(_a).values(
                    user_id=user_id, event_id=event_id, received_at=received_at, acked_at=now
                )
            )
            keep = (
                select(_a.c.event_id)
                .where(mine)
                .order_by(_a.c.acked_at.desc(), _a.c.event_id.desc())
                .limit(MAX_REQUESTS)
            )
            conn.execute(delete(_a).where(mine, _a.c.event_id.not_in(keep)))
            return True

        return await self.writer.submit(unit)
