"""Migrations upgrade a database that holds data, on SQLite and PostgreSQL.

0002 gives every existing token an opaque id of its own (never derived from
its hash) and adds `blocks`; tokens keep working across the upgrade.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from hubbub.store.sql import migrate as migrate_module
from hubbub.store.sql.engine import create_engine
from hubbub.store.sql.migrate import migrate
from hubbub.store.sql.stores import SqlStores
from hubbub.store.sql.writer import GroupCommitWriter
from tests.conftest import PG_ADMIN_URL, _pg_create, _pg_drop
from tests.store.test_store_contract import now_ms


def _upgrade_to(revision: str) -> Callable[[Connection], None]:
    def run(conn: Connection) -> None:
        cfg = Config()
        cfg.set_main_option("script_location", str(migrate_module._SCRIPTS))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)

    return run


@pytest.fixture(params=["sqlite", "postgres"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    name = ""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
    else:
        request.getfixturevalue("pg_url")  # skips (or fails) when PostgreSQL is unreachable
        name = "hubbub_mig_" + secrets.token_hex(4)
        await _pg_create(name)
        url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    eng = create_engine(url, pool_size=2)
    yield eng
    await eng.dispose()
    if name:
        await _pg_drop(name)


async def test_0002_gives_existing_tokens_ids_and_adds_blocks(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.run_sync(_upgrade_to("0001"))
        await conn.commit()
    hashes = [secrets.token_hex(32) for _ in range(3)]
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO users (id, username, password_hash, display_name, info_text,"
                " created_at) VALUES ('u1', 'old', 'x', 'Old', '', 1)"
            )
        )
        for h in hashes:
            await conn.execute(
                text(
                    "INSERT INTO tokens (token_hash, user_id, device_id, created_at)"
                    " VALUES (:h, 'u1', 'd', 1)"
                ),
                {"h": h},
            )
    await migrate(engine)
    writer = GroupCommitWriter(engine)
    writer.start()
    try:
        store = SqlStores.build(engine, writer, now_ms)
        listed = await store.accounts.list_tokens("u1")
        ids = [t.token_id for t in listed]
        assert len(set(ids)) == 3 and all(ids)
        assert not any(i in h or h.startswith(i) for i in ids for h in hashes)
        assert all(t.last_used_at is None for t in listed)  # unknown, not invented
        assert sorted(t.token_hash for t in listed) == sorted(hashes)
        assert await store.accounts.lookup_token(hashes[0]) is not None
        assert await store.blocks.add_block("u1", "u2", now_ms())
        assert await store.blocks.block_relations("u1", ["u2"]) == ({"u2"}, set())
    finally:
        await writer.close()


def _downgrade_to(revision: str) -> Callable[[Connection], None]:
    def run(conn: Connection) -> None:
        cfg = Config()
        cfg.set_main_option("script_location", str(migrate_module._SCRIPTS))
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)

    return run


async def test_0003_keeps_users_plain_and_active_and_downgrades(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.run_sync(_upgrade_to("0002"))
        await conn.commit()
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO users (id, username, password_hash, display_name, info_text,"
                " created_at) VALUES ('u1', 'old', 'x', 'Old', '', 1)"
            )
        )
    await migrate(engine)
    writer = GroupCommitWriter(engine)
    writer.start()
    try:
        store = SqlStores.build(engine, writer, now_ms)
        user = await store.accounts.get_user("u1")
        assert user is not None and not user.is_admin and not user.is_agent
        assert user.deactivated_at is None and user.deletion_requested_at is None
        assert await store.accounts.set_admin("u1", True)
        assert (await store.accounts.get_user("u1")).is_admin  # type: ignore[union-attr]
        assert await store.accounts.deactivate("u1", now_ms()) == []
    finally:
        await writer.close()
    async with engine.connect() as conn:
        await conn.run_sync(_downgrade_to("0002"))
        await conn.commit()
    async with engine.connect() as conn:
        names = (await conn.execute(text("SELECT username FROM users"))).scalars().all()
    assert names == ["old"]
    await migrate(engine)  # and up again


async def test_0010_turns_is_agent_into_a_kind_and_back(engine: AsyncEngine) -> None:
    """Agents stay agents across the upgrade; the downgrade keeps every
    automated kind as `is_agent` (the nearest the old column can say)."""
    async with engine.connect() as conn:
        await conn.run_sync(_upgrade_to("0009_mtchat_blobs"))
        await conn.commit()
    async with engine.begin() as conn:
        for uid, agent in (("p1", False), ("a1", True)):
            await conn.execute(
                text(
                    "INSERT INTO users (id, username, password_hash, display_name, info_text,"
                    " created_at, is_agent) VALUES (:id, :id, 'x', 'X', '', 1, :agent)"
                ),
                {"id": uid, "agent": agent},
            )
    await migrate(engine)
    writer = GroupCommitWriter(engine)
    writer.start()
    try:
        store = SqlStores.build(engine, writer, now_ms)
        person, agent = await store.accounts.get_user("p1"), await store.accounts.get_user("a1")
        assert person is not None and person.kind == "user" and not person.is_agent
        assert agent is not None and agent.kind == "agent" and agent.is_agent
    finally:
        await writer.close()
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO users (id, username, password_hash, display_name,"
                " info_text, created_at, kind) VALUES ('b1', 'b1', 'x', 'B', '',"
                " 1, 'bot')"
            )
        )
    async with engine.connect() as conn:
        await conn.run_sync(_downgrade_to("0009_mtchat_blobs"))
        await conn.commit()
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT id, is_agent FROM users ORDER BY id"))
        assert [(r[0], bool(r[1])) for r in rows] == [("a1", True), ("b1", True), ("p1", False)]
    await migrate(engine)  # and up again
