"""Who blocks whom (`core.ports.BlockStore`)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from hubbub.core.model import (
    Block,
)
from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea

__all__ = ["SqlBlocks"]


class SqlBlocks(SqlArea):
    """The blocks area: `blocks`."""

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
