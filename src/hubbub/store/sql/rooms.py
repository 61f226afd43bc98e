"""The public room (`core.ports.RoomStore`): `room_users`, and the room's
conversation in `conversations` / `members`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from hubbub.core.ports.rooms import JoinOutcome, RoomUser
from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea
from hubbub.store.sql.events import stream_head

__all__ = ["SqlRooms"]

_r, _e, _m, _mem = t.room_users, t.events, t.messages, t.members
_COLS = (_r.c.handle, _r.c.user_id, _r.c.username, _r.c.account_bound, _r.c.last_active)
_RECENT = (
    select(_e.c.data)
    .join(_m, _m.c.id == _e.c.message_id)
    .where(
        _e.c.scope == "c",
        _e.c.target == bindparam("room"),
        _e.c.type == "ChatMessageReceived",
        _m.c.deleted_at.is_(None),
    )
    .order_by(_e.c.pos.desc())
    .limit(bindparam("n"))
)


def _user(row: Any) -> RoomUser:
    return RoomUser(row.handle, row.user_id, row.username, bool(row.account_bound), row.last_active)


class SqlRooms(SqlArea):
    """The rooms area."""

    async def ensure_room(self, key: str, name: str, conversation_id: str, now: int) -> str:
        c = t.conversations

        def unit(conn: Connection) -> str:
            found = conn.execute(select(c.c.id).where(c.c.direct_key == key)).scalar_one_or_none()
            if found is not None:
                return str(found)
            conn.execute(
                insert(c).values(
                    id=conversation_id, kind="room", name=name, direct_key=key, created_at=now
                )
            )
            return conversation_id

        return await self.writer.submit(unit)

    async def join_room(
        self,
        room_id: str,
        handle: str,
        user_id: str,
        username: str,
        account_bound: bool,
        now: int,
    ) -> tuple[JoinOutcome, RoomUser | None]:
        key = username.casefold()

        def unit(conn: Connection) -> tuple[JoinOutcome, RoomUser | None]:
            row = conn.execute(
                select(*_COLS).where(_r.c.room_id == room_id, _r.c.handle == handle)
            ).first()
            if row is not None:
                if bool(row.account_bound) != account_bound or (
                    account_bound and row.user_id != user_id
                ):
                    return JoinOutcome.HANDLE_BOUND, None
                conn.execute(
                    update(_r)
                    .where(_r.c.room_id == room_id, _r.c.handle == handle)
                    .values(username=username, username_key=key, last_active=now)
                )
                return JoinOutcome.RETURNED, RoomUser(
                    handle, row.user_id, username, account_bound, now
                )
            if account_bound:
                other = conn.execute(
                    select(*_COLS).where(_r.c.room_id == room_id, _r.c.user_id == user_id)
                ).first()
                if other is not None:
                    return JoinOutcome.ACCOUNT_ELSEWHERE, _user(other)
            conn.execute(
                insert(_r).values(
                    room_id=room_id,
                    handle=handle,
                    user_id=user_id,
                    username=username,
                    username_key=key,
                    account_bound=account_bound,
                    created_at=now,
                    last_active=now,
                )
            )
            member = conn.execute(
                select(_mem.c.user_id).where(
                    _mem.c.conversation_id == room_id, _mem.c.user_id == user_id
                )
            ).first()
            if member is None:
                conn.execute(
                    insert(_mem).values(
                        conversation_id=room_id,
                        user_id=user_id,
                        role="member" if account_bound else "guest",
                        joined_pos=stream_head(conn),
                        joined_at=now,
                    )
                )
            return JoinOutcome.JOINED, RoomUser(handle, user_id, username, account_bound, now)

        return await self.writer.submit(unit)

    async def room_user(self, room_id: str, handle: str) -> RoomUser | None:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(*_COLS).where(_r.c.room_id == room_id, _r.c.handle == handle)
                )
            ).first()
        return _user(row) if row is not None else None

    async def named(self, room_id: str, username_key: str) -> list[RoomUser]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(*_COLS).where(_r.c.room_id == room_id, _r.c.username_key == username_key)
            )
            return [_user(r) for r in rows]

    async def room_users(self, room_id: str, limit: int) -> list[RoomUser]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(*_COLS)
                .where(_r.c.room_id == room_id)
                .order_by(_r.c.last_active.desc(), _r.c.handle)
                .limit(limit)
            )
            return [_user(r) for r in rows]

    async def touch(self, room_id: str, user_id: str, now: int) -> None:
        def unit(conn: Connection) -> None:
            conn.execute(
                update(_r)
                .where(_r.c.room_id == room_id, _r.c.user_id == user_id)
                .values(last_active=now)
            )

        await self.writer.submit(unit)

    async def recent_messages(self, room_id: str, limit: int) -> list[bytes]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(_RECENT, {"room": room_id, "n": limit})
            found = [bytes(r.data) for r in rows]
        found.reverse()
        return found
