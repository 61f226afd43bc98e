"""`SqlStore`: the core's `Store` port on SQLAlchemy Core.

Reads go straight to the pool; every write that appends to the event stream
is a unit of the group-commit writer, so it shares a transaction (and an
fsync) with whatever else is queued. Units select-then-insert for idempotency;
a unique-constraint race between nodes fails the batch, the writer replays the
unit alone, and the select then finds the winner's row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import msgspec
from sqlalchemy import Connection, and_, bindparam, delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from hubbub.core.model import (
    Block,
    Conversation,
    Member,
    MessageRecord,
    NewEvent,
    StoredEvent,
    TokenInfo,
    User,
)
from hubbub.errors import Conflict
from hubbub.ids import new_id
from hubbub.store.sql import tables as t
from hubbub.store.sql.appends import MessageAppends, event_row, message_record
from hubbub.store.sql.writer import GroupCommitWriter

__all__ = ["SqlStore"]

_FEED_SQL = text(
    """
    SELECT e.pos, e.scope, e.target, e.channel, e.type, e.data FROM events e
    WHERE e.pos > :since AND (
        (e.scope = 'u' AND e.target = :me)
        OR (e.scope = 'c' AND EXISTS (
            SELECT 1 FROM members m
            WHERE m.conversation_id = e.target AND m.user_id = :me
              AND e.pos > m.joined_pos
              AND (m.left_pos IS NULL OR e.pos <= m.left_pos)))
        OR (e.scope = 'a' AND (e.target = :me OR (EXISTS (
            SELECT 1 FROM members m1 JOIN members m2
              ON m1.conversation_id = m2.conversation_id
            WHERE m1.user_id = :me AND m2.user_id = e.target
              AND m1.left_pos IS NULL AND m2.left_pos IS NULL)
          AND NOT EXISTS (
            SELECT 1 FROM blocks b WHERE b.blocker_id = :me AND b.blocked_id = e.target)
          AND NOT EXISTS (
            SELECT 1 FROM blocks b WHERE b.blocker_id = e.target AND b.blocked_id = :me))))
    )
    ORDER BY e.pos
    LIMIT :limit
    """
)

_CONTACTS_SQL = text(
    """
    SELECT DISTINCT m2.user_id FROM members m1 JOIN members m2
      ON m1.conversation_id = m2.conversation_id
    WHERE m1.user_id = :me AND m1.left_pos IS NULL AND m2.left_pos IS NULL
      AND m2.user_id <> :me
      AND NOT EXISTS (
        SELECT 1 FROM blocks b WHERE b.blocker_id = :me AND b.blocked_id = m2.user_id)
      AND NOT EXISTS (
        SELECT 1 FROM blocks b WHERE b.blocker_id = m2.user_id AND b.blocked_id = :me)
    """
)

_TOMBSTONE = msgspec.json.Encoder()

# The hottest reads, built once: building a statement (and its cache key)
# cost more than running it on SQLite, ~0.1-0.25 ms a call. Each is a plain
# statement with named parameters, so every call is a compiled-cache hit.
_tk, _m, _c, _b = t.tokens, t.members, t.conversations, t.blocks
_GET_USER = select(t.users).where(t.users.c.id == bindparam("id"))
_LOOKUP_TOKEN = select(
    _tk.c.user_id, _tk.c.device_id, _tk.c.id, _tk.c.created_at, _tk.c.last_used_at
).where(_tk.c.token_hash == bindparam("h"), _tk.c.revoked_at.is_(None))
_TOUCH_TOKEN = (
    update(_tk)
    .where(_tk.c.token_hash == bindparam("h"), _tk.c.revoked_at.is_(None))
    .values(last_used_at=bindparam("now"))
)
_GET_MESSAGE = select(t.messages).where(t.messages.c.id == bindparam("id"))
_MAX_POS = select(func.coalesce(func.max(t.events.c.pos), 0))
_ACTIVE_MEMBERS = select(_m.c.user_id, _m.c.role).where(
    _m.c.conversation_id == bindparam("c"), _m.c.left_pos.is_(None)
)
_DIRECT_KEY = select(_c.c.direct_key).where(_c.c.id == bindparam("c"), _c.c.kind == "direct")
_PAIR_BLOCKERS = select(_b.c.blocker_id).where(
    ((_b.c.blocker_id == bindparam("x")) & (_b.c.blocked_id == bindparam("y")))
    | ((_b.c.blocker_id == bindparam("y")) & (_b.c.blocked_id == bindparam("x")))
)


def _user(row: Any) -> User:
    return User(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        phone=row.phone,
        email=row.email,
        info_text=row.info_text,
        info_text_updated_at=row.info_text_updated_at,
        last_seen_at=row.last_seen_at,
        created_at=row.created_at,
        password_hash=row.password_hash,
    )


def _max_pos(conn: Connection) -> int:
    return int(conn.execute(_MAX_POS).scalar_one())


def _insert_event(conn: Connection, ev: NewEvent, now: int) -> StoredEvent:
    res = conn.execute(insert(t.events).values(**event_row(ev, now)).returning(t.events.c.pos))
    pos = int(res.scalar_one())
    return StoredEvent(pos, ev.scope, ev.target, ev.channel, ev.type, ev.data)


class SqlStore:
    def __init__(self, engine: AsyncEngine, writer: GroupCommitWriter, clock_ms: Callable[[], int]):
        self.engine = engine
        self.writer = writer
        self._appends = MessageAppends()
        self._now = clock_ms

    # ------------------------------------------------------------------ accounts
    async def create_user(self, user: User) -> None:
        try:
            async with self.engine.begin() as conn:
                await conn.execute(
                    insert(t.users).values(
                        id=user.id,
                        username=user.username,
                        password_hash=user.password_hash,
                        display_name=user.display_name,
                        phone=user.phone,
                        email=user.email,
                        info_text=user.info_text,
                        created_at=user.created_at,
                    )
                )
        except IntegrityError:
            raise Conflict("username, phone or email already registered") from None

    async def get_user(self, user_id: str) -> User | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(_GET_USER, {"id": user_id})).first()
        return _user(row) if row else None

    async def find_user(self, field: str, value: str) -> User | None:
        col = {"username": t.users.c.username, "email": t.users.c.email, "phone": t.users.c.phone}[
            field
        ]
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(t.users).where(col == value))).first()
        return _user(row) if row else None

    async def last_seen_of(self, user_ids: list[str]) -> dict[str, int | None]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(t.users.c.id, t.users.c.last_seen_at).where(t.users.c.id.in_(user_ids))
            )
            return {r.id: r.last_seen_at for r in rows}

    async def existing_users(self, user_ids: Iterable[str]) -> set[str]:
        ids = list(set(user_ids))
        if not ids:
            return set()
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(t.users.c.id).where(t.users.c.id.in_(ids)))
            return {r[0] for r in rows}

    async def insert_token(self, info: TokenInfo, now: int) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(t.tokens).values(
                    token_hash=info.token_hash,
                    id=info.token_id or new_id(),
                    user_id=info.user_id,
                    device_id=info.device_id,
                    created_at=now,
                    last_used_at=now,
                )
            )

    async def lookup_token(self, token_hash: str) -> TokenInfo | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(_LOOKUP_TOKEN, {"h": token_hash})).first()
        if row is None:
            return None
        return TokenInfo(
            row.user_id, row.device_id, token_hash, row.id, row.created_at, row.last_used_at
        )

    async def revoke_token(self, token_hash: str, now: int) -> bool:
        async with self.engine.begin() as conn:
            res = await conn.execute(
                update(t.tokens)
                .where(t.tokens.c.token_hash == token_hash, t.tokens.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            return bool(res.rowcount)

    async def touch_token(self, token_hash: str, now: int) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(_TOUCH_TOKEN, {"h": token_hash, "now": now})

    async def list_tokens(self, user_id: str) -> list[TokenInfo]:
        tk = t.tokens
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(tk)
                .where(tk.c.user_id == user_id, tk.c.revoked_at.is_(None))
                .order_by(tk.c.created_at, tk.c.id)
            )
            return [
                TokenInfo(r.user_id, r.device_id, r.token_hash, r.id, r.created_at, r.last_used_at)
                for r in rows
            ]

    async def revoke_token_id(self, user_id: str, token_id: str, now: int) -> str | None:
        tk = t.tokens
        async with self.engine.begin() as conn:
            # Write first: the transaction holds the write lock before it reads.
            res = await conn.execute(
                update(tk)
                .where(tk.c.id == token_id, tk.c.user_id == user_id, tk.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            if not res.rowcount:
                return None
            found = await conn.execute(select(tk.c.token_hash).where(tk.c.id == token_id))
            return str(found.scalar_one())

    async def set_password(
        self, user_id: str, password_hash: str, keep_token_hash: str, now: int
    ) -> list[str]:
        tk = t.tokens
        others = (
            tk.c.user_id == user_id,
            tk.c.revoked_at.is_(None),
            tk.c.token_hash != keep_token_hash,
        )
        async with self.engine.begin() as conn:
            await conn.execute(
                update(t.users).where(t.users.c.id == user_id).values(password_hash=password_hash)
            )
            hashes = list((await conn.execute(select(tk.c.token_hash).where(*others))).scalars())
            if hashes:
                await conn.execute(update(tk).where(*others).values(revoked_at=now))
            return hashes

    async def touch_last_seen(self, user_id: str, now: int) -> None:
        def unit(conn: Connection) -> None:
            conn.execute(update(t.users).where(t.users.c.id == user_id).values(last_seen_at=now))

        await self.writer.submit(unit)

    # ------------------------------------------------------------- conversations
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
            joined = _max_pos(conn)
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
                    conv = self._conversation(conn, str(found))
                    assert conv is not None
                    return conv, None
            joined = _max_pos(conn)
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
            stored = _insert_event(conn, event, now)
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
            stored = _insert_event(conn, event, now)
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

    @staticmethod
    def _conversation(conn: Connection, conversation_id: str) -> Conversation | None:
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

    async def get_conversation(self, conversation_id: str) -> Conversation | None:
        async with self.engine.connect() as conn:
            return await conn.run_sync(self._conversation, conversation_id)

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
                conv = await conn.run_sync(self._conversation, cid)
                if conv is not None:
                    out.append(conv)
        out.sort(key=lambda c: (c.created_at, c.id))
        return out

    async def contacts_of(self, user_id: str) -> set[str]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(_CONTACTS_SQL, {"me": user_id})
            return {r[0] for r in rows}

    # -------------------------------------------------------------------- blocks
    async def add_block(self, blocker_id: str, blocked_id: str, now: int) -> bool:
        try:
            async with self.engine.begin() as conn:
                await conn.execute(
                    insert(t.blocks).values(
                        blocker_id=blocker_id, blocked_id=blocked_id, created_at=now
                    )
                )
        except IntegrityError:
            return False  # already blocked (or a concurrent request won)
        return True

    async def remove_block(self, blocker_id: str, blocked_id: str) -> bool:
        b = t.blocks
        async with self.engine.begin() as conn:
            res = await conn.execute(
                delete(b).where(b.c.blocker_id == blocker_id, b.c.blocked_id == blocked_id)
            )
            return bool(res.rowcount)

    async def list_blocks(self, blocker_id: str) -> list[Block]:
        b = t.blocks
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(b.c.blocked_id, b.c.created_at)
                .where(b.c.blocker_id == blocker_id)
                .order_by(b.c.created_at, b.c.blocked_id)
            )
            return [Block(blocker_id, r.blocked_id, r.created_at) for r in rows]

    async def block_relations(
        self, user_id: str, others: Iterable[str]
    ) -> tuple[set[str], set[str]]:
        ids = list(set(others))
        if not ids:
            return set(), set()
        b = t.blocks
        async with self.engine.connect() as conn:
            blocking = await conn.execute(
                select(b.c.blocked_id).where(b.c.blocker_id == user_id, b.c.blocked_id.in_(ids))
            )
            out = {r[0] for r in blocking}
            blocked_by = await conn.execute(
                select(b.c.blocker_id).where(b.c.blocked_id == user_id, b.c.blocker_id.in_(ids))
            )
            return out, {r[0] for r in blocked_by}

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

    # ------------------------------------------------------------------ messages
    async def append_message(
        self, record: MessageRecord, fields: dict[str, object], event: NewEvent
    ) -> tuple[MessageRecord, StoredEvent | None]:
        return await self.writer.submit_item(self._appends, (record, fields, event))

    async def get_message(self, message_id: str) -> MessageRecord | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(_GET_MESSAGE, {"id": message_id})).first()
        return message_record(row) if row else None

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
            return _insert_event(conn, event, now) if event is not None else None

        return await self.writer.submit(unit)

    async def expire_message(
        self, message_id: str, now: int, make_event: Callable[[MessageRecord], NewEvent]
    ) -> tuple[MessageRecord, StoredEvent] | None:
        def unit(conn: Connection) -> tuple[MessageRecord, StoredEvent] | None:
            # Deleting the timer row is the claim: on PostgreSQL the row lock
            # makes a second node's DELETE wait, then find nothing.
            claimed = conn.execute(
                delete(t.timers).where(t.timers.c.kind == "expire", t.timers.c.ref == message_id)
            )
            if not claimed.rowcount:
                return None
            row = conn.execute(_GET_MESSAGE, {"id": message_id}).first()
            if row is None or row.deleted_at is not None:
                return None
            rec = message_record(row)
            conn.execute(
                update(t.messages)
                .where(t.messages.c.id == message_id)
                .values(content=None, ciphertext=None, nonce=None, signature=None, deleted_at=now)
            )
            tomb = _TOMBSTONE.encode(
                {"message_id": rec.id, "conversation_id": rec.conversation_id, "deleted": True}
            )
            conn.execute(
                update(t.events).where(t.events.c.message_id == message_id).values(data=tomb)
            )
            stored = _insert_event(conn, make_event(rec), now)
            rec.deleted_at = now
            return rec, stored

        return await self.writer.submit(unit)

    async def due_expiries(self, now: int, limit: int) -> list[str]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(t.timers.c.ref)
                .where(t.timers.c.kind == "expire", t.timers.c.due_at <= now)
                .order_by(t.timers.c.due_at)
                .limit(limit)
            )
            return [r[0] for r in rows]

    async def next_expiry(self) -> int | None:
        async with self.engine.connect() as conn:
            v = (
                await conn.execute(
                    select(func.min(t.timers.c.due_at)).where(t.timers.c.kind == "expire")
                )
            ).scalar_one_or_none()
        return int(v) if v is not None else None

    # ------------------------------------------------------------ generic events
    async def append(self, events: Iterable[NewEvent]) -> list[StoredEvent]:
        evs = list(events)
        now = self._now()

        def unit(conn: Connection) -> list[StoredEvent]:
            return [_insert_event(conn, ev, now) for ev in evs]

        return await self.writer.submit(unit)

    async def publish_key(
        self, user_id: str, key_id: str, public_key: str, algorithm: str, now: int, event: NewEvent
    ) -> StoredEvent:
        def unit(conn: Connection) -> StoredEvent:
            k = t.public_keys
            row = (
                conn.execute(
                    select(k.c.public_key, k.c.algorithm).where(
                        k.c.user_id == user_id, k.c.key_id == key_id
                    )
                )
            ).first()
            if row is not None:
                if row.public_key != public_key or row.algorithm != algorithm:
                    raise Conflict("key_id already published with different key material")
            else:
                conn.execute(
                    insert(k).values(
                        user_id=user_id,
                        key_id=key_id,
                        public_key=public_key,
                        algorithm=algorithm,
                        created_at=now,
                    )
                )
            return _insert_event(conn, event, now)

        return await self.writer.submit(unit)

    async def list_keys(self, user_id: str) -> list[dict[str, object]]:
        k = t.public_keys
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(k.c.key_id, k.c.public_key, k.c.algorithm, k.c.created_at)
                .where(k.c.user_id == user_id)
                .order_by(k.c.created_at.desc(), k.c.key_id)
            )
            return [dict(r._mapping) for r in rows]

    async def update_info_text(
        self, user_id: str, info_text: str, now: int, event: NewEvent
    ) -> StoredEvent:
        def unit(conn: Connection) -> StoredEvent:
            conn.execute(
                update(t.users)
                .where(t.users.c.id == user_id)
                .values(info_text=info_text, info_text_updated_at=now)
            )
            return _insert_event(conn, event, now)

        return await self.writer.submit(unit)

    # --------------------------------------------------------------- change feed
    async def feed(self, user_id: str, since: int, limit: int) -> list[StoredEvent]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(_FEED_SQL, {"me": user_id, "since": since, "limit": limit})
            return [
                StoredEvent(r.pos, r.scope, r.target, r.channel, r.type, bytes(r.data))
                for r in rows
            ]

    async def events_between(self, after: int, before: int) -> list[StoredEvent]:
        e = t.events
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(e.c.pos, e.c.scope, e.c.target, e.c.channel, e.c.type, e.c.data)
                .where(e.c.pos > after, e.c.pos < before)
                .order_by(e.c.pos)
            )
            return [
                StoredEvent(r.pos, r.scope, r.target, r.channel, r.type, bytes(r.data))
                for r in rows
            ]

    async def max_pos(self) -> int:
        async with self.engine.connect() as conn:
            return int((await conn.execute(_MAX_POS)).scalar_one())

    async def set_cursor(self, user_id: str, device_id: str, seq: int, now: int) -> None:
        c = t.device_cursors

        def unit(conn: Connection) -> None:
            res = conn.execute(
                update(c)
                .where(and_(c.c.user_id == user_id, c.c.device_id == device_id), c.c.seq < seq)
                .values(seq=seq, updated_at=now)
            )
            if not res.rowcount:
                exists = (
                    conn.execute(
                        select(c.c.seq).where(c.c.user_id == user_id, c.c.device_id == device_id)
                    )
                ).first()
                if exists is None:
                    conn.execute(
                        insert(c).values(
                            user_id=user_id, device_id=device_id, seq=seq, updated_at=now
                        )
                    )

        await self.writer.submit(unit)

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
