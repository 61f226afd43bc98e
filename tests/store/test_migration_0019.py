"""0019 adds `chat_backgrounds` and `info_visibility` (both empty) and takes
them away again, on SQLite and PostgreSQL; up again after down works."""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from hubbub.store.sql.migrate import migrate
from tests.store.test_migrations import _downgrade_to, _upgrade_to, engine

__all__ = ["engine"]

TABLES = {"chat_backgrounds", "info_visibility"}


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    return names & TABLES


async def test_0019_upgrades_and_downgrades(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.run_sync(_upgrade_to("0018_away_greetings"))
        await conn.commit()
    assert await _tables(engine) == set()
    async with engine.connect() as conn:
        await conn.run_sync(_upgrade_to("0019_chat_settings"))
        await conn.commit()
    assert await _tables(engine) == TABLES
    async with engine.connect() as conn:
        await conn.run_sync(_downgrade_to("0018_away_greetings"))
        await conn.commit()
    assert await _tables(engine) == set()
    await migrate(engine)  # and up again, to the head
    assert await _tables(engine) == TABLES
