"""Users, passwords and device tokens (`core.ports.AccountStore`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, bindparam, exists, insert, literal, select, update
from sqlalchemy.exc import IntegrityError

from hubbub.core.model import TokenInfo, User, account_kind
from hubbub.errors import Conflict
from hubbub.ids import new_id
from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea
from hubbub.store.sql.signin import consume_invite

__all__ = ["SqlAccounts", "user_of"]

# The hottest reads, built once: building a statement (and its cache key)
# cost more than running it on SQLite, ~0.1-0.25 ms a call. Each is a plain
# statement with named parameters, so every call is a compiled-cache hit.
_tk = t.tokens
_GET_USER = select(t.users).where(t.users.c.id == bindparam("id"))
_LOOKUP_TOKEN = select(
    _tk.c.user_id, _tk.c.device_id, _tk.c.id, _tk.c.created_at, _tk.c.last_used_at
).where(_tk.c.token_hash == bindparam("h"), _tk.c.revoked_at.is_(None))
_TOUCH_TOKEN = (
    update(_tk)
    .where(_tk.c.token_hash == bindparam("h"), _tk.c.revoked_at.is_(None))
    .values(last_used_at=bindparam("now"))
)


def user_of(row: Any) -> User:
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
        is_admin=bool(row.is_admin),
        kind=account_kind(row.kind),
        deactivated_at=row.deactivated_at,
        deletion_requested_at=row.deletion_requested_at,
    )


def _insert_user(conn: Connection, user: User) -> None:
    conn.execute(
        insert(t.users).values(
            id=user.id,
            username=user.username,
            password_hash=user.password_hash,
            display_name=user.display_name,
            phone=user.phone,
            email=user.email,
            info_text=user.info_text,
            created_at=user.created_at,
            is_admin=user.is_admin,
            kind=user.kind,
        )
    )


def _insert_token(conn: Connection, info: TokenInfo, now: int) -> bool:
    """Issue a token only to an active user, in one statement: a deactivation
    committed before it wins, one committed after it revokes this token too
    (both are writer units, serialised on either dialect)."""
    u = t.users
    sel = select(
        literal(info.token_hash),
        literal(info.token_id or new_id()),
        u.c.id,
        literal(info.device_id),
        literal(now),
        literal(now),
    ).where(u.c.id == info.user_id, u.c.deactivated_at.is_(None))
    res = conn.execute(
        insert(t.tokens).from_select(
            ["token_hash", "id", "user_id", "device_id", "created_at", "last_used_at"], sel
        )
    )
    return bool(res.rowcount)


def _revoke_all(conn: Connection, user_id: str, now: int) -> list[str]:
    """Revoke every live token and API key of a user; their hashes, for the bus."""
    tk, ak = t.tokens, t.api_keys
    hashes = list(
        conn.execute(
            select(tk.c.token_hash).where(tk.c.user_id == user_id, tk.c.revoked_at.is_(None))
        ).scalars()
    )
    hashes += list(
        conn.execute(
            select(ak.c.key_hash).where(ak.c.user_id == user_id, ak.c.revoked_at.is_(None))
        ).scalars()
    )
    conn.execute(
        update(tk).where(tk.c.user_id == user_id, tk.c.revoked_at.is_(None)).values(revoked_at=now)
    )
    conn.execute(
        update(ak).where(ak.c.user_id == user_id, ak.c.revoked_at.is_(None)).values(revoked_at=now)
    )
    return hashes


class SqlAccounts(SqlArea):
    """The accounts area: `users` and `tokens`."""

    async def create_user(self, user: User) -> None:
        await self.create_account(user, None, None, False, self._now())

    async def create_account(
        self,
        user: User,
        session: TokenInfo | None,
        invite_hash: str | None,
        bootstrap: bool,
        now: int,
    ) -> str:
        """Insert a user (and its first session) in one transaction.

        `invite_hash`: a registration token to consume, else "invite_invalid".
        `bootstrap`: only while no account exists (the first one becomes the
        admin), else "not_first". Both checks and the insert are one writer
        unit, so two racing first registrations cannot both become admin and
        a token's last use is spent once. "created" on success.
        """

        def unit(conn: Connection) -> str:
            if bootstrap:
                if conn.execute(select(exists().where(t.users.c.id.is_not(None)))).scalar():
                    return "not_first"
                user.is_admin = True
            if invite_hash is not None and not consume_invite(conn, invite_hash, now):
                return "invite_invalid"
            _insert_user(conn, user)
            if session is not None:
                _insert_token(conn, session, now)
            return "created"

        try:
            return await self.writer.submit(unit)
        except IntegrityError:
            raise Conflict("username, phone or email already registered") from None

    async def get_user(self, user_id: str) -> User | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(_GET_USER, {"id": user_id})).first()
        return user_of(row) if row else None

    async def find_user(self, field: str, value: str) -> User | None:
        col = {"username": t.users.c.username, "email": t.users.c.email, "phone": t.users.c.phone}[
            field
        ]
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(t.users).where(col == value))).first()
        return user_of(row) if row else None

    async def existing_users(self, user_ids: Iterable[str]) -> set[str]:
        ids = list(set(user_ids))
        if not ids:
            return set()
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(t.users.c.id).where(t.users.c.id.in_(ids)))
            return {r[0] for r in rows}

    async def insert_token(self, info: TokenInfo, now: int) -> bool:
        return await self.writer.submit(lambda conn: _insert_token(conn, info, now))

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

    async def deactivate(self, user_id: str, now: int, *, erase: bool = False) -> list[str] | None:
        """Deactivate (idempotent) and revoke every token and API key; their
        hashes, or None if there is no such user. `erase` also records a
        deletion request and blanks the profile (docs/security.md)."""
        u = t.users

        def unit(conn: Connection) -> list[str] | None:
            found = conn.execute(select(u.c.deactivated_at).where(u.c.id == user_id)).first()
            if found is None:
                return None
            values: dict[str, Any] = {}
            if found.deactivated_at is None:
                values["deactivated_at"] = now
            if erase:
                values.update(
                    deletion_requested_at=now,
                    display_name="",
                    info_text="",
                    email=None,
                    phone=None,
                    password_hash="!",
                )
            if values:
                conn.execute(update(u).where(u.c.id == user_id).values(**values))
            return _revoke_all(conn, user_id, now)

        return await self.writer.submit(unit)

    async def reactivate(self, user_id: str) -> bool:
        u = t.users

        def unit(conn: Connection) -> bool:
            res = conn.execute(
                update(u)
                .where(u.c.id == user_id, u.c.deletion_requested_at.is_(None))
                .values(deactivated_at=None)
            )
            return bool(res.rowcount)

        return await self.writer.submit(unit)

    async def reset_password(self, user_id: str, password_hash: str, now: int) -> list[str] | None:
        """Set a password and revoke every token (not API keys); None if no user."""
        u, tk = t.users, t.tokens

        def unit(conn: Connection) -> list[str] | None:
            res = conn.execute(
                update(u).where(u.c.id == user_id).values(password_hash=password_hash)
            )
            if not res.rowcount:
                return None
            live = (tk.c.user_id == user_id, tk.c.revoked_at.is_(None))
            hashes = list(conn.execute(select(tk.c.token_hash).where(*live)).scalars())
            conn.execute(update(tk).where(*live).values(revoked_at=now))
            return hashes

        return await self.writer.submit(unit)

    async def set_admin(self, user_id: str, admin: bool) -> bool:
        u = t.users

        def unit(conn: Connection) -> bool:
            res = conn.execute(update(u).where(u.c.id == user_id).values(is_admin=admin))
            return bool(res.rowcount)

        return await self.writer.submit(unit)
