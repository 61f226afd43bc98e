"""Away messages and greetings (`core.ports.AwayStore`).

The send path never reads here for a user without automatic replies
(`core/away.py` keeps that set in memory); these reads and writes run only
for a message to someone who has one.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, insert, or_, select, update

from hubbub.core.model import NewEvent, StoredEvent
from hubbub.core.ports.away import AwaySettings, DirectChat
from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea
from hubbub.store.sql.events import insert_event

__all__ = ["SqlAway"]

_s, _r, _g, _c = t.away_settings, t.away_replies, t.greetings, t.conversations


def _settings(row: object) -> AwaySettings:
    return AwaySettings(
        enabled=bool(row.enabled),  # type: ignore[attr-defined]
        message=str(row.message),  # type: ignore[attr-defined]
        greeting=str(row.greeting),  # type: ignore[attr-defined]
        greeting_at=row.greeting_at,  # type: ignore[attr-defined]
        updated_at=int(row.updated_at),  # type: ignore[attr-defined]
    )


class SqlAway(SqlArea):
    """The away area: `away_settings`, `away_replies` and `greetings`."""

    async def settings_of(self, user_id: str) -> AwaySettings | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(_s).where(_s.c.user_id == user_id))).first()
            return _settings(row) if row is not None else None

    async def set_settings(
        self,
        user_id: str,
        new: AwaySettings,
        event_of: Callable[[AwaySettings], NewEvent],
    ) -> tuple[AwaySettings, StoredEvent | None]:
        def unit(conn: Connection) -> tuple[AwaySettings, StoredEvent | None]:
            row = conn.execute(select(_s).where(_s.c.user_id == user_id)).first()
            old = _settings(row) if row is not None else None
            if old is not None and (old.enabled, old.message, old.greeting) == (
                new.enabled,
                new.message,
                new.greeting,
            ):
                return old, None
            values = {
                "enabled": new.enabled,
                "message": new.message,
                "greeting": new.greeting,
                "greeting_at": new.greeting_at,
                "updated_at": new.updated_at,
            }
            if old is None:
                conn.execute(insert(_s).values(user_id=user_id, **values))
            else:
                conn.execute(update(_s).where(_s.c.user_id == user_id).values(**values))
            return new, insert_event(conn, event_of(new), new.updated_at)

        return await self.writer.submit(unit)

    async def automatic_users(self, limit: int) -> list[str]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(_s.c.user_id)
                .where(or_(_s.c.enabled.is_(True), _s.c.greeting != ""))
                .limit(limit)
            )
            return [r[0] for r in rows]

    async def direct_chat(self, conversation_id: str) -> DirectChat | None:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(_c.c.created_at).where(_c.c.id == conversation_id, _c.c.kind == "direct")
                )
            ).first()
            return DirectChat(int(row.created_at)) if row is not None else None

    async def claim_reply(self, user_id: str, conversation_id: str, now: int, since: int) -> bool:
        def unit(conn: Connection) -> bool:
            mine = (_r.c.user_id == user_id) & (_r.c.conversation_id == conversation_id)
            # A conditional update: on PostgreSQL a second node's update waits
            # for this row and then finds it recent, so one reply per window.
            done = conn.execute(
                update(_r).where(mine, _r.c.replied_at < since).values(replied_at=now)
            )
            if done.rowcount:
                return True
            if conn.execute(select(_r.c.replied_at).where(mine)).first() is not None:
                return False
            conn.execute(
                insert(_r).values(user_id=user_id, conversation_id=conversation_id, replied_at=now)
            )
            return True

        return await self.writer.submit(unit)

    async def send_greeting(
        self,
        greeting_id: str,
        conversation_id: str,
        owner_id: str,
        recipient_id: str,
        now: int,
        event: NewEvent,
    ) -> StoredEvent | None:
        def unit(conn: Connection) -> StoredEvent | None:
            found = conn.execute(
                select(_g.c.id).where(
                    _g.c.conversation_id == conversation_id, _g.c.owner_id == owner_id
                )
            ).first()
            if found is not None:
                return None
            conn.execute(
                insert(_g).values(
                    id=greeting_id,
                    conversation_id=conversation_id,
                    owner_id=owner_id,
                    recipient_id=recipient_id,
                    sent_at=now,
                )
            )
            return insert_event(conn, event, now)

        return await self.writer.submit(unit)

    async def ack_greeting(
        self,
        greeting_id: str,
        conversation_id: str,
        recipient_id: str,
        received_at: str | None,
        now: int,
    ) -> bool | None:
        def unit(conn: Connection) -> bool | None:
            mine = (
                (_g.c.id == greeting_id)
                & (_g.c.conversation_id == conversation_id)
                & (_g.c.recipient_id == recipient_id)
            )
            row = conn.execute(select(_g.c.acked_at).where(mine)).first()
            if row is None:
                return None
            if row.acked_at is not None:
                return False
            conn.execute(update(_g).where(mine).values(acked_at=now, received_at=received_at))
            return True

        return await self.writer.submit(unit)
