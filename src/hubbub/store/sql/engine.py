"""Engines for both dialects, with the differences absorbed here.

SQLite runs in WAL mode with `synchronous=FULL`: the group-commit batcher pays
one fsync per batch, and an acknowledged message then survives a power cut,
not only a `kill -9`. PostgreSQL uses asyncpg with a bounded pool.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import URL, Connection, Engine, event
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

__all__ = ["async_url", "create_engine", "dialect_of", "sqlite_writer_engine"]


def async_url(url: str) -> str:
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    return url


def dialect_of(url: str) -> str:
    return "postgresql" if "postgres" in url.split(":", 1)[0] else "sqlite"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _autocommit_driver(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # transactions are ours: BEGIN IMMEDIATE below


def _begin_immediate(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def sqlite_writer_engine(url: URL) -> Engine:
    """The group-commit writer's synchronous connection to the same SQLite file.

    It is used from the writer's one thread only, so a batch is one hop from
    the event loop, not one per statement. `BEGIN IMMEDIATE` takes the write
    lock when the transaction starts (the driver's default would take it at
    the first insert, after the batch's reads), so a concurrent writer waits
    on `busy_timeout` instead of failing with a lock upgrade.
    """
    engine = create_sync_engine(
        url.set(drivername="sqlite"),
        pool_size=1,
        max_overflow=0,
        connect_args={"check_same_thread": False},  # the pool may close it from another thread
    )
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "connect", _autocommit_driver)
    event.listen(engine, "begin", _begin_immediate)
    return engine


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    aurl = async_url(url)
    if dialect_of(url) == "sqlite":
        path = aurl.split(":///", 1)[1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Every connection stays in the pool (the same 2 x pool_size at most as
        # before): an overflow connection was closed at check-in, so under
        # concurrent reads each checkout past pool_size opened a new one, and
        # an aiosqlite connection is a new thread (a third of the CPU of a
        # Symbia REST send at concurrency 20, bench/symbia_send.py).
        engine = create_async_engine(aurl, pool_size=2 * pool_size, max_overflow=0)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        aurl,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
    )
