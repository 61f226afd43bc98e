"""0017 adds `contact_syncs` and `contact_discovery` (empty) and takes them away
again, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.store.test_migrations import _downgrade_to, _upgrade_to, engine

__all__ = ["engine"]


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def test_0017_adds_contact_syncs_and_downgrades(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.run_sync(_upgrade_to("0016_status_updates"))
    assert not {"contact_syncs", "contact_discovery"} & await _tables(engine)
    async with engine.connect() as conn:
        await conn.run_sync(_upgrade_to("0017_contact_sync"))
    assert {"contact_syncs", "contact_discovery"} <= await _tables(engine)
    async with engine.connect() as conn:
        await conn.run_sync(_downgrade_to("0016_status_updates"))
    assert not {"contact_syncs", "contact_discovery"} & await _tables(engine)
    async with engine.connect() as conn:
        await conn.run_sync(_upgrade_to("0017_contact_sync"))
    assert {"users", "contact_syncs", "contact_discovery"} <= await _tables(engine)
