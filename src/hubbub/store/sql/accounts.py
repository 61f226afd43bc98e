"""Users, passwords and device tokens (`core.ports.AccountStore`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from hubbub.core.model import (
    TokenInfo,
    User,
)
from hubbub.errors import Conflict
from hubbub.ids import new_id
from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea

__all__ = ["SqlAccounts"]

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


class SqlAccounts(SqlArea):
    """The accounts area: `users` and `tokens`."""

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
