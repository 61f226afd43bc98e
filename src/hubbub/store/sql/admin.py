"""The user directory for admins (`core.ports.AdminStore`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select

from hubbub.core.model import User
from hubbub.store.sql import tables as t
from hubbub.store.sql.accounts import user_of
from hubbub.store.sql.area import SqlArea

__all__ = ["SqlAdmin"]


def _like_prefix(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class SqlAdmin(SqlArea):
    """The admin area: reads across `users`."""

    async def list_users(
        self, *, prefix: str | None, admins_only: bool, after: str | None, limit: int
    ) -> list[User]:
        u = t.users
        conds: list[Any] = []
        if prefix:
            pat = _like_prefix(prefix.lower())
            conds.append(
                or_(
                    u.c.username.like(pat, escape="\\"),
                    u.c.email.like(pat, escape="\\"),
                    u.c.id.like(pat, escape="\\"),
                )
            )
        if admins_only:
            conds.append(u.c.is_admin.is_(True))
        if after is not None:
            conds.append(u.c.username > after)
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(u).where(*conds).order_by(u.c.username).limit(limit))
            return [user_of(r) for r in rows]
