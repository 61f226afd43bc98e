"""Polls and votes (`core.ports.PollStore`).

A vote replaces the voter's rows and appends one event per option whose count
changed, in one writer unit, so the counts in those events are exactly the
committed ones. Closing deletes the poll's timer row in the same unit, which
is also how a timer firing on two nodes closes it once.
"""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import Connection, delete, func, insert, select, update

from hubbub.core.model import NewEvent, StoredEvent
from hubbub.core.ports.polls import MakeCloseEvent, MakeVoteEvents, PollRecord
from hubbub.ids import new_id
from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea
from hubbub.store.sql.events import insert_event

__all__ = ["POLL_TIMER", "SqlPolls"]

POLL_TIMER = "poll_close"
_json = msgspec.json


def _poll(row: Any) -> PollRecord:
    return PollRecord(
        id=row.id,
        conversation_id=row.conversation_id,
        creator_id=row.creator_id,
        question=row.question,
        options=_json.decode(bytes(row.options)),
        multi_select=bool(row.multi_select),
        expires_at=row.expires_at,
        created_at=row.created_at,
        closed_at=row.closed_at,
        closed_by=row.closed_by,
    )


def _load(conn: Connection, poll_id: str) -> PollRecord | None:
    row = conn.execute(select(t.polls).where(t.polls.c.id == poll_id)).first()
    if row is None:
        return None
    poll = _poll(row)
    v = t.poll_votes
    counts = conn.execute(
        select(v.c.option_id, func.count()).where(v.c.poll_id == poll_id).group_by(v.c.option_id)
    )
    found = {r[0]: int(r[1]) for r in counts}
    poll.counts = {o["option_id"]: found.get(o["option_id"], 0) for o in poll.options}
    return poll


class SqlPolls(SqlArea):
    """The polls area: `polls`, `poll_votes`, and `timers` rows of kind `poll_close`."""

    async def create_poll(self, poll: PollRecord, event: NewEvent) -> StoredEvent:
        def unit(conn: Connection) -> StoredEvent:
            conn.execute(
                insert(t.polls).values(
                    id=poll.id,
                    conversation_id=poll.conversation_id,
                    creator_id=poll.creator_id,
                    question=poll.question,
                    options=_json.encode(poll.options),
                    multi_select=poll.multi_select,
                    expires_at=poll.expires_at,
                    created_at=poll.created_at,
                )
            )
            if poll.expires_at is not None:
                conn.execute(
                    insert(t.timers).values(
                        id=new_id(), kind=POLL_TIMER, ref=poll.id, due_at=poll.expires_at
                    )
                )
            return insert_event(conn, event, poll.created_at)

        return await self.writer.submit(unit)

    async def get_poll(self, poll_id: str) -> PollRecord | None:
        async with self.engine.connect() as conn:
            return await conn.run_sync(_load, poll_id)

    async def vote(
        self,
        poll_id: str,
        user_id: str,
        option_ids: list[str],
        now: int,
        make_events: MakeVoteEvents,
    ) -> list[StoredEvent] | None:
        v = t.poll_votes

        def unit(conn: Connection) -> list[StoredEvent] | None:
            poll = _load(conn, poll_id)
            if poll is None or poll.closed_at is not None:
                return None
            mine = (v.c.poll_id == poll_id, v.c.user_id == user_id)
            before = set(conn.execute(select(v.c.option_id).where(*mine)).scalars())
            after = set(option_ids)
            if before == after:
                return []
            conn.execute(delete(v).where(*mine))
            if after:
                conn.execute(
                    insert(v),
                    [
                        {"poll_id": poll_id, "user_id": user_id, "option_id": o, "voted_at": now}
                        for o in sorted(after)
                    ],
                )
            changed = {}
            for o in poll.options:
                oid = o["option_id"]
                delta = (oid in after) - (oid in before)
                if delta:
                    poll.counts[oid] += delta
                    changed[oid] = poll.counts[oid]
            return [insert_event(conn, ev, now) for ev in make_events(poll, changed)]

        return await self.writer.submit(unit)

    async def close_poll(
        self, poll_id: str, closed_by: str, now: int, make_event: MakeCloseEvent
    ) -> tuple[PollRecord, StoredEvent] | None:
        p = t.polls

        def unit(conn: Connection) -> tuple[PollRecord, StoredEvent] | None:
            # The UPDATE takes the row lock first: a racing close (a person and
            # the timer, or two nodes' timers) waits, then finds it closed.
            res = conn.execute(
                update(p)
                .where(p.c.id == poll_id, p.c.closed_at.is_(None))
                .values(closed_at=now, closed_by=closed_by)
            )
            conn.execute(
                delete(t.timers).where(t.timers.c.kind == POLL_TIMER, t.timers.c.ref == poll_id)
            )
            if not res.rowcount:
                return None
            poll = _load(conn, poll_id)
            assert poll is not None
            return poll, insert_event(conn, make_event(poll), now)

        return await self.writer.submit(unit)
