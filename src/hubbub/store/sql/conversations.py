"""Conversations, members and contacts (`core.ports.ConversationStore`)."""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, insert, select, text

from hubbub.core.model import (
    Conversation,
    Member,
)
from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea
from hubbub.store.sql.events import stream_head

__all__ = ["SqlConversations", "load_conversation"]

_CONTACTS_SQL = text(
    """
    SELECT DISTINCT m2.user_id FROM members m1 JOIN members m2
      ON m1.conversation_id = m2.conversation_id
    WHERE m1.user_id = :me AND m1.left_pos IS NULL AND m2.left_pos IS NULL
      AND m2.user_id <> :me
      AND NOT EXISTS (
        SELECT 1 FROM conversations c WHERE c.id = m1.conversation_id AND c.kind = 'room')
      AND NOT EXISTS (
        SELECT 1 FROM blocks b WHERE b.blocker_id = :me AND b.blocked_id = m2.user_id)
      AND NOT EXISTS (
        SELECT 1 FROM blocks b WHERE b.blocker_id = m2.user_id AND b.blocked_id = :me)
    """
)

# Hot reads built once (see accounts.py).
_m, _c, _b = t.members, t.conversations, t.blocks
_ACTIVE_MEMBERS = select(_m.c.user_id, _m.c.role).where(
    _m.c.conversation_id == bindparam("c"), _m.c.left_pos.is_(None)
)
_DIRECT_KEY = select(_c.c.direct_key).where(_c.c.id == bindparam("c"), _c.c.kind == "direct")
_PAIR_BLOCKERS = select(_b.c.blocker_id).where(
    ((_b.c.blocker_id == bindparam("x")) & (_b.c.blocked_id == bindparam("y")))
    | ((_b.c.blocker_id == bindparam("y")) & (_b.c.blocked_id == bindparam("x")))
)


def load_conversation(conn: Connection, conversation_id: str) -> Conversation | None:
    """A conversation with its active members, on an open connection (groups use it too)."""
    row = conn.execute(
        select(t.conversations).where(t.conversations.c.id == conversation_id)
    ).first()
    if row is None:
        return None
    mrows = conn.execute(
        select(t.members.c.user_id, t.members.c.role)
        .where(t.members.c.conversation_id == conversation_id, t.members.c.left_pos.is_(None))
        .order_by(t.members.c.joined_at, t.members.c.user_id)
    )
    members = [Member(r.user_id, r.role) for r in mrows]
    return Conversation(row.id, row.kind, row.name, row.creator_id, row.created_at, members)


class SqlConversations(SqlArea):
    """The conversations area: `conversations` and `members`."""

    async def open_direct(self, conversation_id: str, a: str, b: str, now: int) -> tuple[str, bool]:
        key = "|".join(sorted((a, b)))

        def unit(conn: Connection) -> tuple[str, bool]:
            found = (
                conn.execute(
                    select(t.conversations.c.id).where(t.conversations.c.direct_key == key)
                )
            ).scalar_one_or_none()
            if found is not None:
                return str(found), False
            joined = stream_head(conn)
            conn.execute(
                insert(t.conversations).values(
                    id=conversation_id, kind="direct", direct_key=key, created_at=now
                )
            )
            conn.execute(
                insert(t.members),
                [
                    dict(
                        conversation_id=conversation_id,
                        user_id=u,
                        role="member",
                        joined_pos=joined,
                        joined_at=now,
                    )
                    for u in sorted({a, b})
                ],
            )
            return conversation_id, True

        return await self.writer.submit(unit)

    async def direct_between(self, a: str, b: str) -> str | None:
        c = t.conversations
        key = "|".join(sorted((a, b)))
        async with self.engine.connect() as conn:
            found = (
                await conn.execute(select(c.c.id).where(c.c.direct_key == key))
            ).scalar_one_or_none()
        return str(found) if found is not None else None

    async def direct_blockers(self, conversation_id: str) -> set[str] | None:
        async with self.engine.connect() as conn:
            key = (await conn.execute(_DIRECT_KEY, {"c": conversation_id})).scalar_one_or_none()
            if key is None:
                return None
            x, y = str(key).split("|", 1)
            rows = await conn.execute(_PAIR_BLOCKERS, {"x": x, "y": y})
            return {r[0] for r in rows}

    async def get_conversation(self, conversation_id: str) -> Conversation | None:
        async with self.engine.connect() as conn:
            return await conn.run_sync(load_conversation, conversation_id)

    async def active_members(self, conversation_id: str) -> list[Member]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(_ACTIVE_MEMBERS, {"c": conversation_id})
            return [Member(r.user_id, r.role) for r in rows]

    async def list_conversations(self, user_id: str) -> list[Conversation]:
        async with self.engine.connect() as conn:
            ids = (
                await conn.execute(
                    select(t.members.c.conversation_id).where(
                        t.members.c.user_id == user_id, t.members.c.left_pos.is_(None)
                    )
                )
            ).scalars()
            out = []
            for cid in list(ids):
                conv = await conn.run_sync(load_conversation, cid)
                if conv is not None:
                    out.append(conv)
        out.sort(key=lambda c: (c.created_at, c.id))
        return out

    async def contacts_of(self, user_id: str) -> set[str]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(_CONTACTS_SQL, {"me": user_id})
            return {r[0] for r in rows}
