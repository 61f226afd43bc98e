"""Group commit: many writes, one transaction, one fsync.

Every write that appends to the event stream goes through here. Callers
submit a unit of work (an async function of a connection); a single writer
task drains whatever is queued (up to `max_batch`), runs the units in order in
one transaction and commits once, then resolves each caller's future. The
caller acks its client only after that, so an ack always follows a commit.

    submit(u1) submit(u2) submit(u3)
         \\        |        /
          [ queue (bounded) ] --> BEGIN; u1; u2; u3; COMMIT --> futures

If a unit raises, the batch is rolled back and its units are replayed one
transaction each, so one bad write fails alone. Units must therefore be
re-runnable: they compute ids outside and only touch the database inside.

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
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, TypeVar

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hubbub.core.ordering import queued
from hubbub.errors import Unavailable

__all__ = ["BatchKind", "GroupCommitWriter", "Unit", "storage_error"]

log = logging.getLogger("hubbub.store")

T = TypeVar("T")
I = TypeVar("I")  # noqa: E741 - an item of a batch kind
R = TypeVar("R")
I_contra = TypeVar("I_contra", contravariant=True)
R_co = TypeVar("R_co", covariant=True)
Unit = Callable[[AsyncConnection], Awaitable[T]]

_STREAM_LOCK = 7_240_002


class BatchKind(Protocol[I_contra, R_co]):
    """Writes that run many at a time: `run` gets consecutive items, in order,
    and returns one result per item. It must behave as the items run one
    after the other would (an item sees the ones before it)."""

    async def run(self, conn: AsyncConnection, items: Sequence[I_contra]) -> Sequence[R_co]: ...


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

    async def _begin_stream(self, conn: AsyncConnection) -> None:
        if self._is_pg:
            await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _STREAM_LOCK})

    async def _commit(self, batch: list[_Item]) -> None:
        live = [i for i in batch if not i.future.cancelled()]
        if not live:
            return
        results: list[Any] = []
        try:
            async with self._engine.begin() as conn:
                await self._begin_stream(conn)
                i = 0
                while i < len(live):
                    item = live[i]
                    if item.unit is not None:
                        results.append(await item.unit(conn))
                        i += 1
                        continue
                    kind, j = item.kind, i + 1
                    while j < len(live) and live[j].kind is kind:
                        j += 1
                    assert kind is not None
                    results += await kind.run(conn, [x.item for x in live[i:j]])
                    i = j
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
            async with self._engine.begin() as conn:
                await self._begin_stream(conn)
                if item.unit is not None:
                    result = await item.unit(conn)
                else:
                    assert item.kind is not None
                    [result] = await item.kind.run(conn, [item.item])
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
