"""TOTP secrets and recovery codes (`core.ports.TotpStore`); every write is a
writer unit, so "this step was not used yet" is checked and recorded at once
across the cluster."""

from __future__ import annotations

from sqlalchemy import Connection, delete, func, insert, or_, select, update

from hubbub.core.ports.totp import TotpState
from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea

__all__ = ["SqlTotp"]

_s, _r = t.totp_secrets, t.recovery_codes


class SqlTotp(SqlArea):
    """The TOTP area: `totp_secrets`, `recovery_codes`."""

    async def get_totp(self, user_id: str) -> TotpState | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(_s).where(_s.c.user_id == user_id))).first()
        return TotpState(row.secret, row.enabled_at, row.last_step) if row else None

    async def put_pending(self, user_id: str, secret: str, now: int) -> bool:
        def unit(conn: Connection) -> bool:
            row = conn.execute(select(_s.c.enabled_at).where(_s.c.user_id == user_id)).first()
            if row is not None and row.enabled_at is not None:
                return False
            conn.execute(delete(_s).where(_s.c.user_id == user_id))
            conn.execute(insert(_s).values(user_id=user_id, secret=secret, created_at=now))
            return True

        return await self.writer.submit(unit)

    async def enable_totp(
        self, user_id: str, step: int, recovery_hashes: list[str], now: int
    ) -> bool:
        def unit(conn: Connection) -> bool:
            res = conn.execute(
                update(_s)
                .where(_s.c.user_id == user_id, _s.c.enabled_at.is_(None))
                .values(enabled_at=now, last_step=step)
            )
            if not res.rowcount:
                return False
            conn.execute(delete(_r).where(_r.c.user_id == user_id))
            conn.execute(
                insert(_r), [{"user_id": user_id, "code_hash": h} for h in recovery_hashes]
            )
            return True

        return await self.writer.submit(unit)

    async def use_step(self, user_id: str, step: int) -> bool:
        def unit(conn: Connection) -> bool:
            res = conn.execute(
                update(_s)
                .where(
                    _s.c.user_id == user_id,
                    _s.c.enabled_at.is_not(None),
                    or_(_s.c.last_step.is_(None), _s.c.last_step < step),
                )
                .values(last_step=step)
            )
            return bool(res.rowcount)

        return await self.writer.submit(unit)

    async def use_recovery(self, user_id: str, code_hash: str, now: int) -> bool:
        def unit(conn: Connection) -> bool:
            res = conn.execute(
                update(_r)
                .where(_r.c.user_id == user_id, _r.c.code_hash == code_hash, _r.c.used_at.is_(None))
                .values(used_at=now)
            )
            return bool(res.rowcount)

        return await self.writer.submit(unit)

    async def recovery_left(self, user_id: str) -> int:
        async with self.engine.connect() as conn:
            n = await conn.execute(
                select(func.count())
                .select_from(_r)
                .where(_r.c.user_id == user_id, _r.c.used_at.is_(None))
            )
            return int(n.scalar_one())

    async def disable_totp(self, user_id: str) -> bool:
        def unit(conn: Connection) -> bool:
            res = conn.execute(delete(_s).where(_s.c.user_id == user_id))
            conn.execute(delete(_r).where(_r.c.user_id == user_id))
            return bool(res.rowcount)

        return await self.writer.submit(unit)
