"""Group commit: many writes, one transaction, one fsync.

Every write that appends to the event stream goes through here. Callers
submit a unit of work (a plain function of a SQLAlchemy `Connection`); a
single writer task drains whatever is queued (up to `max_batch`), runs the
units in order in one transaction and commits once, then resolves each
caller's future. The caller acks its client only after that, so an ack always
follows a commit.

    submit(u1) submit(u2) submit(u3)
         \\        |        /
          [ queue (bounded) ] --> BEGIN; u1; u2; u3; COMMIT --> futures

If a unit raises, the batch is rolled back and its units are replayed one
transaction each, so one bad write fails alone. Units must therefore be
re-runnable: they compute ids outside and only touch the database inside.

Units are synchronous so that a whole batch costs one hop to the database,
not one per statement. Through SQLAlchemy's async layer each statement was an
await through a greenlet and, on SQLite, a round trip to aiosqlite's thread
(about 16 per commit): ~2.3 ms of CPU for a one-message transaction. Now:

- SQLite: the batch runs in the writer's own thread on a synchronous
  connection (`BEGIN IMMEDIATE` ... `COMMIT`): one hop there and back per
  batch, and the fsync happens off the event loop.
- PostgreSQL: the batch runs through `AsyncConnection.run_sync` (asyncpg
  underneath), one greenlet for the whole batch.

The hottest write (a message) is submitted as an item of a `BatchKind`
instead of a unit: consecutive items of one kind in a batch run as one call
with all of them (`executemany`, one statement per table for the lot), which
is what makes group commit cheap per message and not only per fsync.

Because one writer per node serialises appends, stream positions commit in
order on SQLite. On PostgreSQL several nodes append concurrently, so each
batch takes a transaction-scoped advisory lock first: positions then become
visible in order across the cluster, and a reader never sees pos N+1 while N
is still in flight (the "gap-free" promise of the change feed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from hubbub.core.ordering import queued
from hubbub.errors import Unavailable
from hubbub.store.sql.engine import sqlite_writer_engine

__all__ = ["BatchKind", "GroupCommitWriter", "Unit", "storage_error"]

log = logging.getLogger("hubbub.store")

T = TypeVar("T")
I = TypeVar("I")  # noqa: E741 - an item of a batch kind
R = TypeVar("R")
I_contra = TypeVar("I_contra", contravariant=True)
R_co = TypeVar("R_co", covariant=True)
Unit = Callable[[Connection], T]

_SETTLE_TURNS = 2
_STREAM_LOCK = text("SELECT pg_advisory_xact_lock(7240002)")


class BatchKind(Protocol[I_contra, R_co]):
    """Writes that run many at a time: `run` gets consecutive items, in order,
    and returns one result per item. It must behave as the items run one
    after the other would (an item sees the ones before it)."""

    def run(self, conn: Connection, items: Sequence[I_contra]) -> Sequence[R_co]: ...


class _Item:
    __slots__ = ("future", "item", "kind", "unit")

    def __init__(
        self,
        unit: Unit[Any] | None,
        future: asyncio.Future[Any],
        kind: BatchKind[Any, Any] | None = None,
        item: Any = None,
    ) -> None:
        self.unit = unit
        self.future = future
        self.kind = kind
        self.item = item


def _run_batch(conn: Connection, live: list[_Item]) -> list[Any]:
    """Every item of the batch in order, consecutive items of one kind as one call."""
    results: list[Any] = []
    i = 0
    while i < len(live):
        item = live[i]
        if item.unit is not None:
            results.append(item.unit(conn))
            i += 1
            continue
        kind, j = item.kind, i + 1
        while j < len(live) and live[j].kind is kind:
            j += 1
        assert kind is not None
        results += kind.run(conn, [x.item for x in live[i:j]])
        i = j
    return results


class GroupCommitWriter:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        max_batch: int = 512,
        max_queue: int = 100_000,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Item] = asyncio.Queue(maxsize=max_queue)
        self._task: asyncio.Task[None] | None = None
        self._is_pg = engine.dialect.name == "postgresql"
        self._on_batch = on_batch
        self._closed = False
        # SQLite: the writer's own connection, used only from its own thread.
        self._sync: Engine | None = None
        self._conn: Connection | None = None  # the writer thread's, while open
        self._thread: ThreadPoolExecutor | None = None
        if not self._is_pg:
            self._sync = sqlite_writer_engine(engine.url)
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="hubbub-writer")

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="group-commit")

    async def close(self) -> None:
        self._closed = True
        if self._task is not None:
            # Let queued work finish: drain before cancelling.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._queue.join(), timeout=10)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._thread is not None and self._sync is not None:
            await asyncio.get_running_loop().run_in_executor(self._thread, self._close_sqlite)
            self._thread.shutdown(wait=True)
            self._thread = None

    async def submit(self, unit: Unit[T]) -> T:
        fut: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._enqueue(_Item(unit, fut))
        return await fut

    async def submit_item(self, kind: BatchKind[I, R], item: I) -> R:
        fut: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._enqueue(_Item(None, fut, kind, item))
        return await fut

    def _enqueue(self, item: _Item) -> None:
        if self._closed:
            raise Unavailable("server is shutting down")
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            raise Unavailable("write queue full, retry later") from None
        queued()

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except asyncio.QueueEmpty:
                    break
            try:
                await self._commit(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()
            # Let the batch's consequences run before the next commit starts:
            # its callers resume, publish and fan out (one loop turn), the
            # flusher writes the sockets (the next). Writes that arrive
            # meanwhile join the next batch. Without this the writer's thread,
            # which commits independently of a busy loop, kept batches at one
            # or two messages, and every commit cost a fan-out of its own: a
            # 1,000-member group got 1.7 writes per commit and 1,000 socket
            # writes for each, against 15.6 when the commit ran on the loop.
            # On an idle loop this costs two empty turns.
            for _ in range(_SETTLE_TURNS):
                await asyncio.sleep(0)

    async def _transaction(self, work: Callable[[Connection], T]) -> T:
        """`work` in one transaction, committed before this returns."""
        if self._sync is not None and self._thread is not None:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._thread, self._sqlite_transaction, work)
        async with self._engine.begin() as conn:
            await conn.execute(_STREAM_LOCK)
            return await conn.run_sync(work)

    def _sqlite_transaction(self, work: Callable[[Connection], T]) -> T:
        """In the writer's thread, on its one connection, kept open between batches
        (a pool checkout and its reset-on-return rollback per batch cost more than
        a small batch's SQL)."""
        assert self._sync is not None
        conn = self._conn
        if conn is None:
            conn = self._conn = self._sync.connect()
        try:
            with conn.begin():
                return work(conn)
        except BaseException:
            # A failed commit (an fsync error) can leave the connection in any
            # state: the next batch starts on a fresh one.
            self._conn = None
            with contextlib.suppress(Exception):
                conn.close()
            raise

    def _close_sqlite(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
        if self._sync is not None:
            self._sync.dispose()

    async def _commit(self, batch: list[_Item]) -> None:
        live = [i for i in batch if not i.future.cancelled()]
        if not live:
            return
        try:
            results = await self._transaction(lambda conn: _run_batch(conn, live))
        except Exception as exc:
            if len(live) == 1:
                self._fail(live[0], exc)
                return
            for item in live:  # replay one by one so only the bad unit fails
                await self._commit_one(item)
            return
        if self._on_batch is not None:
            self._on_batch(len(live))
        for item, result in zip(live, results, strict=True):
            if not item.future.done():
                item.future.set_result(result)

    async def _commit_one(self, item: _Item) -> None:
        try:
            [result] = await self._transaction(lambda conn: _run_batch(conn, [item]))
        except Exception as exc:
            self._fail(item, exc)
            return
        if not item.future.done():
            item.future.set_result(result)

    @staticmethod
    def _fail(item: _Item, exc: Exception) -> None:
        if not item.future.done():
            item.future.set_exception(storage_error(exc))


def storage_error(exc: Exception) -> Exception:
    """A failing database is `unavailable` (retry later), not a bug (`internal`).

    Failed I/O (SQLite's "disk I/O error" when fsync fails), a lost or refused
    connection, a timeout: the commit did not happen or is not known to have
    happened, so the caller must not ack; the client retries with the same
    idempotency key. Anything else (a constraint, a bug) passes unchanged.
    """
    lost = isinstance(exc, DBAPIError) and exc.connection_invalidated
    if not (lost or isinstance(exc, OperationalError | InterfaceError | OSError | TimeoutError)):
        return exc
    # The type only: SQLAlchemy's text carries the statement's parameters.
    cause = type(getattr(exc, "orig", None) or exc).__name__
    log.warning("storage write failed", extra={"error": type(exc).__name__, "cause": cause})
    err = Unavailable(f"storage unavailable ({cause}): not acknowledged, retry later")
    err.__cause__ = exc
    return err
