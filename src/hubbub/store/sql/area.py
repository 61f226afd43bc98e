"""What every area store shares: one engine, one group-commit writer, one clock.

Reads go straight to the pool; every write that appends to the event stream
is a unit of the group-commit writer, so it shares a transaction (and an
fsync) with whatever else is queued. Units select-then-insert for idempotency;
a unique-constraint race between nodes fails the batch, the writer replays the
unit alone, and the select then finds the winner's row.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from hubbub.store.sql.writer import GroupCommitWriter

__all__ = ["SqlArea"]


class SqlArea:
    """Base of `store/sql/<area>.py`: holds the shared engine, writer and clock."""

    def __init__(
        self, engine: AsyncEngine, writer: GroupCommitWriter, clock_ms: Callable[[], int]
    ) -> None:
        self.engine = engine
        self.writer = writer
        self._now = clock_ms
