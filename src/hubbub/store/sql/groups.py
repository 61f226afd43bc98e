"""Group creation and leaving (`core.ports.GroupStore`)."""

from __future__ import annotations

from sqlalchemy import Connection, insert, select, update

from hubbub.core.model import (
    Conversation,
    Member,
    NewEvent,
    StoredEvent,
)
from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea
from hubbub.store.sql.conversations import load_conversation
from hubbub.store.sql.events import insert_event, stream_head

__all__ = ["SqlGroups"]


class SqlGroups(SqlArea):
    """The groups area: group rows of `conversations` and `members`."""

    async def create_group(
        self,
        conversation_id: str,
        name: str,
        creator_id: str,
        member_ids: list[str],
        client_request_id: str | None,
        now: int,
        event: NewEvent,
    ) -> tuple[Conversation, StoredEvent | None]:
        def unit(conn: Connection) -> tuple[Conversation, StoredEvent | None]:
            if client_request_id is not None:  # "" is a key too, as for messages
                found = (
                    conn.execute(
                        select(t.conversations.c.id).where(
                            t.conversations.c.creator_id == creator_id,
                            t.conversations.c.client_request_id == client_request_id,
                        )
                    )
                ).scalar_one_or_none()
                if found is not None:
                    conv = load_conversation(conn, str(found))
                    assert conv is not None
                    return conv, None
            joined = stream_head(conn)
            conn.execute(
                insert(t.conversations).values(
                    id=conversation_id,
                    kind="group",
                    name=name,
                    creator_id=creator_id,
                    client_request_id=client_request_id,
                    created_at=now,
                )
            )
            rows = [
                dict(
                    conversation_id=conversation_id,
                    user_id=u,
                    role="owner" if u == creator_id else "member",
                    joined_pos=joined,
                    joined_at=now,
                )
                for u in [creator_id, *[m for m in member_ids if m != creator_id]]
            ]
            conn.execute(insert(t.members), rows)
            stored = insert_event(conn, event, now)
            members = [Member(r["user_id"], r["role"]) for r in rows]  # type: ignore[arg-type]
            conv = Conversation(conversation_id, "group", name, creator_id, now, members)
            return conv, stored

        return await self.writer.submit(unit)

    async def find_group_by_request(self, creator_id: str, client_request_id: str) -> str | None:
        c = t.conversations
        async with self.engine.connect() as conn:
            found = (
                await conn.execute(
                    select(c.c.id).where(
                        c.c.creator_id == creator_id, c.c.client_request_id == client_request_id
                    )
                )
            ).scalar_one_or_none()
        return str(found) if found is not None else None

    async def leave_group(
        self, conversation_id: str, user_id: str, event: NewEvent
    ) -> StoredEvent | None:
        now = self._now()

        def unit(conn: Connection) -> StoredEvent | None:
            m = t.members
            row = (
                conn.execute(
                    select(m.c.role).where(
                        m.c.conversation_id == conversation_id,
                        m.c.user_id == user_id,
                        m.c.left_pos.is_(None),
                    )
                )
            ).first()
            if row is None:
                return None
            stored = insert_event(conn, event, now)
            conn.execute(
                update(m)
                .where(m.c.conversation_id == conversation_id, m.c.user_id == user_id)
                .values(left_pos=stored.pos)
            )
            if row.role == "owner":
                # Ownership passes to the longest-standing admin, else member.
                heir = (
                    conn.execute(
                        select(m.c.user_id)
                        .where(m.c.conversation_id == conversation_id, m.c.left_pos.is_(None))
                        .order_by((m.c.role == "admin").desc(), m.c.joined_at, m.c.user_id)
                        .limit(1)
                    )
                ).scalar_one_or_none()
                if heir is not None:
                    conn.execute(
                        update(m)
                        .where(m.c.conversation_id == conversation_id, m.c.user_id == heir)
                        .values(role="owner")
                    )
            return stored

        return await self.writer.submit(unit)
