"""Dialogs, their scopes and participant profiles (`core.ports.DialogStore`).

A dialog is a conversation of kind `dialog`: its participants are the
conversation's members (so `/ws`, the feed and every core rule see them),
and `dialog_profiles` holds what spec 003 shows about each.
"""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import Connection, and_, delete, insert, or_, select, update

from hubbub.core.model import NewEvent, StoredEvent
from hubbub.core.ports.dialogs import DialogRecord, Participant, ScopeRule
from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea
from hubbub.store.sql.events import insert_event, stream_head

__all__ = ["SqlDialogs"]

_d, _p, _m = t.dialogs, t.dialog_profiles, t.members
_scopes = msgspec.json.Decoder(list[ScopeRule])
_enc = msgspec.json.Encoder()
_PREFERENCES = ("notifications_enabled",)  # the pin is `pins.py`'s


def _record(row: Any) -> DialogRecord:
    return DialogRecord(
        row.conversation_id,
        row.object_type,
        row.object_id,
        row.title,
        row.object_url,
        row.created_by,
        row.meta,
        _scopes.decode(row.access_scopes),
        row.created_at,
    )


def _profile_row(conversation_id: str, p: Participant) -> dict[str, Any]:
    return dict(
        conversation_id=conversation_id,
        user_id=p.user_id,
        display_name=p.display_name,
        company=p.company,
        email=p.email,
        phone=p.phone,
        joined_as=p.joined_as,
    )


def _put_profile(conn: Connection, conversation_id: str, p: Participant) -> None:
    conn.execute(
        delete(_p).where(_p.c.conversation_id == conversation_id, _p.c.user_id == p.user_id)
    )
    conn.execute(insert(_p).values(**_profile_row(conversation_id, p)))


class SqlDialogs(SqlArea):
    """The dialogs area: `dialogs` and `dialog_profiles` over `conversations`/`members`."""

    async def create_dialog(
        self, dialog: DialogRecord, participants: list[Participant], creator: str | None
    ) -> None:
        now = dialog.created_at

        def unit(conn: Connection) -> None:
            joined = stream_head(conn)
            conn.execute(
                insert(t.conversations).values(
                    id=dialog.conversation_id,
                    kind="dialog",
                    name=dialog.title,
                    creator_id=creator,
                    created_at=now,
                )
            )
            conn.execute(
                insert(_d).values(
                    conversation_id=dialog.conversation_id,
                    object_type=dialog.object_type,
                    object_id=dialog.object_id,
                    title=dialog.title,
                    object_url=dialog.object_url,
                    created_by=dialog.created_by,
                    meta=dialog.meta,
                    access_scopes=_enc.encode(dialog.access_scopes).decode(),
                    created_at=now,
                )
            )
            if participants:
                conn.execute(
                    insert(_m),
                    [
                        dict(
                            conversation_id=dialog.conversation_id,
                            user_id=p.user_id,
                            role="member",
                            joined_pos=joined,
                            joined_at=now,
                        )
                        for p in participants
                    ],
                )
                conn.execute(
                    insert(_p), [_profile_row(dialog.conversation_id, p) for p in participants]
                )

        await self.writer.submit(unit)

    async def get_dialog(self, conversation_id: str) -> DialogRecord | None:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(select(_d).where(_d.c.conversation_id == conversation_id))
            ).first()
        return _record(row) if row is not None else None

    async def dialogs_of(self, user_id: str) -> list[DialogRecord]:
        q = (
            select(_d)
            .join(_m, _m.c.conversation_id == _d.c.conversation_id)
            .where(_m.c.user_id == user_id, _m.c.left_pos.is_(None))
            .order_by(_d.c.created_at.desc(), _d.c.conversation_id.desc())
        )
        async with self.engine.connect() as conn:
            return [_record(r) for r in await conn.execute(q)]

    async def dialogs_without(
        self, user_id: str, limit: int, before: tuple[int, str] | None = None
    ) -> list[DialogRecord]:
        mine = select(_m.c.conversation_id).where(_m.c.user_id == user_id, _m.c.left_pos.is_(None))
        q = select(_d).where(_d.c.conversation_id.not_in(mine))
        if before is not None:  # keyset: strictly older than the last row of the page before
            at, cid = before
            q = q.where(
                or_(
                    _d.c.created_at < at,
                    and_(_d.c.created_at == at, _d.c.conversation_id < cid),
                )
            )
        q = q.order_by(_d.c.created_at.desc(), _d.c.conversation_id.desc()).limit(limit)
        async with self.engine.connect() as conn:
            return [_record(r) for r in await conn.execute(q)]

    async def dialogs_by_object(self, object_type: str, object_id: str) -> list[DialogRecord]:
        q = (
            select(_d)
            .where(_d.c.object_type == object_type, _d.c.object_id == object_id)
            .order_by(_d.c.created_at.desc(), _d.c.conversation_id.desc())
        )
        async with self.engine.connect() as conn:
            return [_record(r) for r in await conn.execute(q)]

    async def participants(self, conversation_id: str) -> list[Participant]:
        q = (
            select(_m.c.user_id, _m.c.joined_at, _p)
            .join(
                _p,
                (_p.c.conversation_id == _m.c.conversation_id) & (_p.c.user_id == _m.c.user_id),
                isouter=True,
            )
            .where(_m.c.conversation_id == conversation_id, _m.c.left_pos.is_(None))
            .order_by(_m.c.joined_at, _m.c.user_id)
        )
        async with self.engine.connect() as conn:
            rows = await conn.execute(q)
            return [
                Participant(
                    r[0],
                    r.display_name or "",
                    r.company,
                    r.email,
                    r.phone,
                    r.joined_as or "participant",
                    r.joined_at,
                    bool(r.is_pinned),
                    r.notifications_enabled is None or bool(r.notifications_enabled),
                )
                for r in rows
            ]

    async def add_participant(
        self, conversation_id: str, participant: Participant, event: NewEvent
    ) -> StoredEvent | None:
        now = participant.joined_at

        def unit(conn: Connection) -> StoredEvent | None:
            row = conn.execute(
                select(_m.c.left_pos).where(
                    _m.c.conversation_id == conversation_id, _m.c.user_id == participant.user_id
                )
            ).first()
            if row is not None and row.left_pos is None:
                return None
            joined = stream_head(conn)
            if row is None:
                conn.execute(
                    insert(_m).values(
                        conversation_id=conversation_id,
                        user_id=participant.user_id,
                        role="member",
                        joined_pos=joined,
                        joined_at=now,
                    )
                )
            else:  # back after leaving: a new window
                conn.execute(
                    update(_m)
                    .where(
                        _m.c.conversation_id == conversation_id,
                        _m.c.user_id == participant.user_id,
                    )
                    .values(joined_pos=joined, left_pos=None, joined_at=now)
                )
            _put_profile(conn, conversation_id, participant)
            return insert_event(conn, event, now)

        return await self.writer.submit(unit)

    async def remove_participant(
        self, conversation_id: str, user_id: str, event: NewEvent
    ) -> StoredEvent | None:
        now = self._now()

        def unit(conn: Connection) -> StoredEvent | None:
            row = conn.execute(
                select(_m.c.user_id).where(
                    _m.c.conversation_id == conversation_id,
                    _m.c.user_id == user_id,
                    _m.c.left_pos.is_(None),
                )
            ).first()
            if row is None:
                return None
            stored = insert_event(conn, event, now)
            conn.execute(
                update(_m)
                .where(_m.c.conversation_id == conversation_id, _m.c.user_id == user_id)
                .values(left_pos=stored.pos)
            )
            return stored

        return await self.writer.submit(unit)

    async def set_preference(
        self, conversation_id: str, user_id: str, name: str, value: bool
    ) -> None:
        assert name in _PREFERENCES

        def unit(conn: Connection) -> None:
            res = conn.execute(
                update(_p)
                .where(_p.c.conversation_id == conversation_id, _p.c.user_id == user_id)
                .values({name: value})
            )
            if not res.rowcount:  # a member who came in another way (`/ws`, a group)
                conn.execute(
                    insert(_p).values(
                        conversation_id=conversation_id, user_id=user_id, **{name: value}
                    )
                )

        await self.writer.submit(unit)

    async def set_access_scopes(self, conversation_id: str, scopes: list[ScopeRule]) -> bool:
        raw = _enc.encode(scopes).decode()

        def unit(conn: Connection) -> bool:
            res = conn.execute(
                update(_d).where(_d.c.conversation_id == conversation_id).values(access_scopes=raw)
            )
            return bool(res.rowcount)

        return await self.writer.submit(unit)

    async def delete_dialog(self, conversation_id: str, event: NewEvent) -> StoredEvent | None:
        now = self._now()
        cid = conversation_id
        tomb = _enc.encode({"conversation_id": cid, "deleted": True})

        def unit(conn: Connection) -> StoredEvent | None:
            gone = conn.execute(delete(_d).where(_d.c.conversation_id == cid))
            if not gone.rowcount:
                return None
            # Content first, so the tombstones do not cover the deletion's own event.
            conn.execute(
                update(t.messages)
                .where(t.messages.c.conversation_id == cid, t.messages.c.deleted_at.is_(None))
                .values(content=None, ciphertext=None, nonce=None, signature=None, deleted_at=now)
            )
            e = t.events
            conn.execute(
                update(e)
                .where(e.c.scope == "c", e.c.target == cid, e.c.message_id.is_not(None))
                .values(data=tomb)
            )
            stored = insert_event(conn, event, now)
            conn.execute(
                update(_m)
                .where(_m.c.conversation_id == cid, _m.c.left_pos.is_(None))
                .values(left_pos=stored.pos)
            )
            # The files' blobs go with them (the bytes too on the database store;
            # the filesystem store keeps an unreferenced file).
            files = select(t.attachments.c.blob_id).where(
                t.attachments.c.conversation_id == cid, t.attachments.c.blob_id.is_not(None)
            )
            conn.execute(delete(t.blobs).where(t.blobs.c.id.in_(files)))
            for table in (_p, t.read_positions, t.archives, t.attachments):
                conn.execute(delete(table).where(table.c.conversation_id == cid))
            return stored

        return await self.writer.submit(unit)
