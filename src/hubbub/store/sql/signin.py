"""Registration tokens for `core/signin.py` (`core.ports.InviteStore`); `consume_invite` is the
write the accounts area's registration unit runs in its own transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, or_, select, update

from hubbub.core.ports.registration import Invite
from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea

__all__ = ["SqlRegistration", "consume_invite"]

_rt = t.registration_tokens


def consume_invite(conn: Connection, token_hash: str, now: int) -> bool:
    """Spend one use of a live token; False if it is unknown, revoked, expired
    or used up. One conditional UPDATE: two registrations racing for the
    last use cannot both win."""
    res = conn.execute(
        update(_rt)
        .where(
            _rt.c.token_hash == token_hash,
            _rt.c.revoked_at.is_(None),
            or_(_rt.c.expires_at.is_(None), _rt.c.expires_at > now),
            or_(_rt.c.uses_allowed.is_(None), _rt.c.uses < _rt.c.uses_allowed),
        )
        .values(uses=_rt.c.uses + 1)
    )
    return bool(res.rowcount)


def _invite(row: Any) -> Invite:
    return Invite(
        row.id,
        row.created_by,
        row.created_at,
        row.expires_at,
        row.uses_allowed,
        row.uses,
        row.revoked_at,
    )


class SqlRegistration(SqlArea):
    """The registration area: `registration_tokens`."""

    async def create_invite(self, invite: Invite, token_hash: str) -> None:
        def unit(conn: Connection) -> None:
            conn.execute(
                insert(_rt).values(
                    id=invite.id,
                    token_hash=token_hash,
                    created_by=invite.created_by,
                    created_at=invite.created_at,
                    expires_at=invite.expires_at,
                    uses_allowed=invite.uses_allowed,
                    uses=0,
                )
            )

        await self.writer.submit(unit)

    async def list_invites(self) -> list[Invite]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(_rt).order_by(_rt.c.created_at, _rt.c.id))
            return [_invite(r) for r in rows]

    async def revoke_invite(self, invite_id: str, now: int) -> bool:
        def unit(conn: Connection) -> bool:
            res = conn.execute(
                update(_rt)
                .where(_rt.c.id == invite_id, _rt.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            return bool(res.rowcount)

        return await self.writer.submit(unit)
