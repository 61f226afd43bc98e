"""Symbia conversations over the core ones (`core.ports.ConversationDetailStore`).

A Symbia conversation is a core conversation of kind `group` (so `/ws`
members, the change feed and every core rule see it) plus its row of
`conversation_details`. Core conversations made elsewhere (a `/ws` group,
a direct conversation) have no details row: they read as `group` /
`private` with no tenant.
"""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import Connection, delete, func, insert, or_, select, update

from hubbub.core.model import NewEvent, StoredEvent, account_kind
from hubbub.core.ports.conversation_details import ConversationRow, ParticipantRow, Scoping
from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea
from hubbub.store.sql.events import insert_event, stream_head

__all__ = ["SqlConversationDetails"]

_c, _d, _m, _u, _r = (
    t.conversations,
    t.conversation_details,
    t.members,
    t.users,
    t.read_positions,
)
_tomb = msgspec.json.Encoder()
_COLS = (
    _c.c.id,
    _c.c.kind,
    _c.c.name,
    _c.c.creator_id,
    _c.c.created_at,
    _d.c.type,
    _d.c.description,
    _d.c.org_id,
    _d.c.metadata,
    _d.c.updated_at,
    _d.c.service_id,
    _d.c.env,
    _d.c.data_class,
    _d.c.policy_ref,
)
_JOIN = _c.outerjoin(_d, _d.c.conversation_id == _c.c.id)
_VISIBLE = _c.c.kind.in_(("group", "direct"))


def _row(r: Any) -> ConversationRow:
    return ConversationRow(
        r.id,
        r.type or ("private" if r.kind == "direct" else "group"),
        r.name,
        r.description,
        r.creator_id or "",
        r.created_at,
        r.updated_at if r.updated_at is not None else r.created_at,
        r.metadata or "{}",
        Scoping(r.org_id, r.service_id, r.env, r.data_class or "none", r.policy_ref),
    )


def _details(row: ConversationRow) -> dict[str, Any]:
    s = row.scoping
    return dict(
        conversation_id=row.id,
        type=row.type,
        description=row.description,
        org_id=s.org_id,
        metadata=row.metadata,
        updated_at=row.updated_at,
        service_id=s.service_id,
        env=s.env,
        data_class=s.data_class,
        policy_ref=s.policy_ref,
    )


class SqlConversationDetails(SqlArea):
    """The conversation_details area: `conversation_details` over `conversations`/`members`."""

    async def create(
        self, row: ConversationRow, members: list[tuple[str, str]], event: NewEvent
    ) -> StoredEvent:
        def unit(conn: Connection) -> StoredEvent:
            joined = stream_head(conn)
            conn.execute(
                insert(_c).values(
                    id=row.id,
                    kind="group",
                    name=row.name,
                    creator_id=row.created_by,
                    created_at=row.created_at,
                )
            )
            conn.execute(insert(_d).values(**_details(row)))
            conn.execute(
                insert(_m),
                [
                    dict(
                        conversation_id=row.id,
                        user_id=uid,
                        role=role,
                        joined_pos=joined,
                        joined_at=row.created_at,
                    )
                    for uid, role in members
                ],
            )
            return insert_event(conn, event, row.created_at)

        return await self.writer.submit(unit)

    async def get(self, conversation_id: str) -> ConversationRow | None:
        q = select(*_COLS).select_from(_JOIN).where(_c.c.id == conversation_id, _VISIBLE)
        async with self.engine.connect() as conn:
            r = (await conn.execute(q)).first()
        return _row(r) if r is not None else None

    async def list_for(self, user_id: str, org_id: str | None) -> list[ConversationRow]:
        mine = select(_m.c.conversation_id).where(_m.c.user_id == user_id, _m.c.left_pos.is_(None))
        q = select(*_COLS).select_from(_JOIN).where(_c.c.id.in_(mine), _VISIBLE)
        if org_id is not None:
            q = q.where(_d.c.org_id == org_id)
        q = q.order_by(func.coalesce(_d.c.updated_at, _c.c.created_at).desc(), _c.c.id.desc())
        async with self.engine.connect() as conn:
            return [_row(r) for r in await conn.execute(q.limit(1000))]

    async def participants(self, conversation_id: str) -> list[ParticipantRow]:
        q = (
            select(_m.c.user_id, _m.c.role, _m.c.joined_at, _u.c.kind, _r.c.updated_at)
            .select_from(
                _m.outerjoin(_u, _u.c.id == _m.c.user_id).outerjoin(
                    _r,
                    (_r.c.conversation_id == _m.c.conversation_id) & (_r.c.user_id == _m.c.user_id),
                )
            )
            .where(_m.c.conversation_id == conversation_id, _m.c.left_pos.is_(None))
            .order_by(_m.c.joined_at, _m.c.user_id)
        )
        async with self.engine.connect() as conn:
            return [
                ParticipantRow(conversation_id, r[0], r[1], r[2], account_kind(r[3]), r[4])
                for r in await conn.execute(q.limit(10_000))
            ]

    async def update(
        self,
        conversation_id: str,
        name: str | None,
        description: str | None,
        metadata: str | None,
        now: int,
    ) -> bool:
        def unit(conn: Connection) -> bool:
            if name is not None:
                res = conn.execute(update(_c).where(_c.c.id == conversation_id).values(name=name))
                if not res.rowcount:
                    return False
            values: dict[str, Any] = {"updated_at": now}
            if description is not None:
                values["description"] = description
            if metadata is not None:
                values["metadata"] = metadata
            res = conn.execute(
                update(_d).where(_d.c.conversation_id == conversation_id).values(**values)
            )
            if not res.rowcount:
                found = conn.execute(select(_c.c.kind).where(_c.c.id == conversation_id)).first()
                if found is None:
                    return False
                conn.execute(
                    insert(_d).values(
                        conversation_id=conversation_id,
                        type="private" if found.kind == "direct" else "group",
                        **{"metadata": "{}", **values},
                    )
                )
            return True

        return await self.writer.submit(unit)

    async def add_member(
        self, conversation_id: str, user_id: str, role: str, event: NewEvent
    ) -> StoredEvent | None:
        now = self._now()

        def unit(conn: Connection) -> StoredEvent | None:
            row = conn.execute(
                select(_m.c.left_pos).where(
                    _m.c.conversation_id == conversation_id, _m.c.user_id == user_id
                )
            ).first()
            if row is not None and row.left_pos is None:
                return None
            joined = stream_head(conn)
            if row is None:
                conn.execute(
                    insert(_m).values(
                        conversation_id=conversation_id,
                        user_id=user_id,
                        role=role,
                        joined_pos=joined,
                        joined_at=now,
                    )
                )
            else:  # back after leaving: a new window
                conn.execute(
                    update(_m)
                    .where(_m.c.conversation_id == conversation_id, _m.c.user_id == user_id)
                    .values(joined_pos=joined, left_pos=None, joined_at=now, role=role)
                )
            return insert_event(conn, event, now)

        return await self.writer.submit(unit)

    async def remove_member(
        self, conversation_id: str, user_id: str, event: NewEvent
    ) -> StoredEvent | None:
        now = self._now()

        def unit(conn: Connection) -> StoredEvent | None:
            mine = (_m.c.conversation_id == conversation_id, _m.c.user_id == user_id)
            row = conn.execute(select(_m.c.user_id).where(*mine, _m.c.left_pos.is_(None))).first()
            if row is None:
                return None
            stored = insert_event(conn, event, now)
            conn.execute(update(_m).where(*mine).values(left_pos=stored.pos))
            return stored

        return await self.writer.submit(unit)

    async def set_role(
        self, conversation_id: str, user_id: str, role: str, event: NewEvent
    ) -> tuple[str | None, StoredEvent | None]:
        now = self._now()

        def unit(conn: Connection) -> tuple[str | None, StoredEvent | None]:
            mine = (_m.c.conversation_id == conversation_id, _m.c.user_id == user_id)
            row = conn.execute(select(_m.c.role).where(*mine, _m.c.left_pos.is_(None))).first()
            if row is None or row.role in (role, "owner"):
                return (None if row is None else str(row.role)), None
            conn.execute(update(_m).where(*mine).values(role=role))
            return str(row.role), insert_event(conn, event, now)

        return await self.writer.submit(unit)

    async def delete(self, conversation_id: str, event: NewEvent) -> StoredEvent | None:
        now = self._now()
        cid = conversation_id
        tomb = _tomb.encode({"conversation_id": cid, "deleted": True})

        def unit(conn: Connection) -> StoredEvent | None:
            found = conn.execute(select(_c.c.kind).where(_c.c.id == cid, _VISIBLE)).first()
            if found is None:
                return None
            live = select(_m.c.user_id).where(_m.c.conversation_id == cid, _m.c.left_pos.is_(None))
            if conn.execute(live).first() is None:
                return None  # already deleted (everyone out)
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
            conn.execute(delete(_d).where(_d.c.conversation_id == cid))
            conn.execute(update(_c).where(_c.c.id == cid).values(kind="deleted", direct_key=None))
            ids = select(t.messages.c.id).where(t.messages.c.conversation_id == cid)
            conn.execute(delete(t.message_edits).where(t.message_edits.c.message_id.in_(ids)))
            conn.execute(delete(t.stream_runs).where(t.stream_runs.c.conversation_id == cid))
            conn.execute(delete(_r).where(_r.c.conversation_id == cid))
            return stored

        return await self.writer.submit(unit)

    def _scoped(self, q: Any, org_ids: list[str] | None) -> Any:
        q = q.where(_VISIBLE)
        if org_ids is not None:
            q = q.where(_d.c.org_id.in_(org_ids))
        return q

    async def admin_list(
        self, org_ids: list[str] | None, type_: str | None, limit: int, offset: int
    ) -> tuple[list[ConversationRow], int]:
        q = self._scoped(select(*_COLS).select_from(_JOIN), org_ids)
        n = self._scoped(select(func.count()).select_from(_JOIN), org_ids)
        if type_ is not None:
            direct = _c.c.kind == "direct" if type_ == "private" else _c.c.kind != "direct"
            cond = or_(_d.c.type == type_, _d.c.type.is_(None) & direct)
            q, n = q.where(cond), n.where(cond)
        q = q.order_by(func.coalesce(_d.c.updated_at, _c.c.created_at).desc(), _c.c.id.desc())
        async with self.engine.connect() as conn:
            rows = [_row(r) for r in await conn.execute(q.limit(limit).offset(offset))]
            total = int((await conn.execute(n)).scalar_one())
        return rows, total

    async def stats(self, org_ids: list[str] | None, since: int) -> dict[str, int]:
        convs = self._scoped(select(_c.c.id).select_from(_JOIN), org_ids)
        msg = t.messages
        async with self.engine.connect() as conn:
            total = (
                await conn.execute(select(func.count()).select_from(convs.subquery()))
            ).scalar_one()
            messages = (
                await conn.execute(
                    select(func.count())
                    .select_from(msg)
                    .where(msg.c.conversation_id.in_(convs), msg.c.deleted_at.is_(None))
                )
            ).scalar_one()
            people = (
                await conn.execute(
                    select(func.count(func.distinct(_m.c.user_id))).where(
                        _m.c.conversation_id.in_(convs), _m.c.left_pos.is_(None)
                    )
                )
            ).scalar_one()
            active = (
                await conn.execute(
                    select(func.count(func.distinct(msg.c.conversation_id))).where(
                        msg.c.conversation_id.in_(convs), msg.c.created_at >= since
                    )
                )
            ).scalar_one()
        return {
            "totalConversations": int(total),
            "totalMessages": int(messages),
            "uniqueParticipants": int(people),
            "activeConversations24h": int(active),
        }
