"""0003 adds the room, blobs and the chat-event relay's cursor, which starts at
the stream's head: messages committed before the upgrade are not relayed,
every one after it is. It downgrades cleanly."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from hubbub.store.sql import migrate as migrate_module
from hubbub.store.sql.migrate import migrate
from tests.store.test_migrations import _upgrade_to, engine

__all__ = ["engine"]


def _downgrade_to(revision: str):  # type: ignore[no-untyped-def]
    def run(conn: Connection) -> None:
        cfg = Config()
        cfg.set_main_option("script_location", str(migrate_module._SCRIPTS))
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)

    return run


async def test_0003_starts_the_relay_at_the_head(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.run_sync(_upgrade_to("0002"))
        await conn.commit()
    async with engine.begin() as conn:
        for i in range(3):
            await conn.execute(
                text(
                    "INSERT INTO events (scope, target, channel, type, data, created_at)"
                    " VALUES ('u', 'x', 'c', 't', :d, 1)"
                ),
                {"d": f"{i}".encode()},
            )
        head = (await conn.execute(text("SELECT max(pos) FROM events"))).scalar_one()
    await migrate(engine)
    async with engine.connect() as conn:
        row = (await conn.execute(text("SELECT name, pos, owner FROM relay_cursors"))).one()
        assert tuple(row) == ("chatevents", head, None)
        cols = await conn.execute(text("SELECT trace_parent, session_id FROM messages"))
        assert cols.all() == []
        await conn.run_sync(_downgrade_to("0002"))
        await conn.commit()
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(c.dialect.get_table_names(c)))
        assert not {"room_users", "blobs", "relay_cursors"} & tables
