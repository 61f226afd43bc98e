"""0014 indexes messages for full-text search, and takes the index away again.

On SQLite that is an FTS5 table and its triggers, on PostgreSQL a GIN
expression index; either way messages that exist before the upgrade are
found after it, and a downgrade then upgrade leaves the same index.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from hubbub.core.search import terms_of
from hubbub.store.sql.migrate import migrate
from hubbub.store.sql.stores import SqlStores
from hubbub.store.sql.writer import GroupCommitWriter
from tests.store.test_migrations import _downgrade_to, _upgrade_to, engine
from tests.store.test_store_contract import now_ms

__all__ = ["engine"]

_ROWS = [
    ("m1", "text", "text", "hello old world", None),
    ("m2", "e2e", "encrypted", "hello ciphertext", None),
    ("m3", "text", "text", "hello deleted", 5),
    ("m4", "text", "system", "hello notice", None),
    ("m5", "text", "text", "hello again", None),
]


async def _found(engine: AsyncEngine, query: str) -> list[str]:
    writer = GroupCommitWriter(engine)
    writer.start()
    try:
        store = SqlStores.build(engine, writer, now_ms)
        hits, _ = await store.search.search_messages(
            "c1", query, terms_of(query), now_ms(), 0, 10, 100
        )
        return sorted(h.message_id for h in hits)
    finally:
        await writer.close()


async def _index_exists(engine: AsyncEngine) -> bool:
    async with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            q = "SELECT count(*) FROM sqlite_master WHERE name LIKE 'message_search%'"
        else:
            q = "SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_messages_search'"
        return int((await conn.execute(text(q))).scalar_one()) > 0


async def test_0014_indexes_existing_messages_and_downgrades(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.run_sync(_upgrade_to("0013_moderation_reports"))
        await conn.commit()
    async with engine.begin() as conn:
        for mid, kind, ctype, content, deleted in _ROWS:
            await conn.execute(
                text(
                    "INSERT INTO messages (id, conversation_id, sender_id, kind, content_type,"
                    " content, created_at, deleted_at, event_pos)"
                    " VALUES (:id, 'c1', 'u1', :kind, :ctype, :content, 1, :deleted, :pos)"
                ),
                {"id": mid, "kind": kind, "ctype": ctype, "content": content,
                 "deleted": deleted, "pos": int(mid[1:])},
            )  # fmt: skip
    assert not await _index_exists(engine)
    await migrate(engine)
    assert await _index_exists(engine)
    assert await _found(engine, "hello") == ["m1", "m5"]
    assert await _found(engine, "old world") == ["m1"]

    async with engine.connect() as conn:
        await conn.run_sync(_downgrade_to("0013_moderation_reports"))
        await conn.commit()
    assert not await _index_exists(engine)
    async with engine.begin() as conn:  # written while no index was kept
        await conn.execute(text("UPDATE messages SET content = 'goodbye' WHERE id = 'm5'"))
    await migrate(engine)  # and up again: indexed as it is now
    assert await _found(engine, "hello") == ["m1"]
    assert await _found(engine, "goodbye") == ["m5"]
