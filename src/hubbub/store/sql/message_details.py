"""Symbia messages and agent runs (`core.ports.MessageDetailStore`).

A message with Symbia fields is the core append (`appends.MessageAppends`,
the same rows a `/ws` message gets) plus its `message_details` row, and for
a message of a run the run's new state, in one writer item: a send for a
cancelled run cannot commit beside the cancel. The item is a `BatchKind`
(`_DetailedAppends`): consecutive sends of no run in a commit batch share
each statement (one owner lookup of their client ids, one append, one
details insert, one touch per conversation); a run's message goes alone.
Plain `/ws` sends keep their batched path untouched.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    String,
    and_,
    bindparam,
    delete,
    exists,
    insert,
    select,
    update,
)

from hubbub.core.model import MessageRecord, NewEvent, StoredEvent, account_kind
from hubbub.core.ports.conversation_details import Scoping
from hubbub.core.ports.message_details import (
    DetailRow,
    MessageView,
    RunState,
    SendContext,
    Transition,
)
from hubbub.errors import Conflict
from hubbub.store.sql import tables as t
from hubbub.store.sql.appends import MessageAppends, message_record
from hubbub.store.sql.area import SqlArea

__all__ = ["SqlMessageDetails"]

_APPENDS = MessageAppends()
_msg, _det, _run, _u, _cd, _c, _om = (
    t.messages,
    t.message_details,
    t.stream_runs,
    t.users,
    t.conversation_details,
    t.conversations,
    t.org_members,
)
_DETAIL_COLS = (
    "content_type",
    "sender_type",
    "run_id",
    "trace_id",
    "priority",
    "interruptible",
    "preempted_by",
    "metadata",
    "org_id",
    "data_class",
    "service_id",
    "policy_ref",
)
_RUN_COLS = tuple(c.name for c in _run.columns)


def _run_state(r: Any) -> RunState:
    return RunState(**{c: getattr(r, c) for c in _RUN_COLS})


def _view(r: Any) -> MessageView:
    details = None
    if r.sender_type is not None:
        details = DetailRow(**{c: getattr(r, c) for c in _DETAIL_COLS})
        if details.interruptible is not None:
            details.interruptible = bool(details.interruptible)
    return MessageView(
        r.id,
        r.conversation_id,
        r.sender_id,
        r.content,
        r.m_content_type,
        r.reply_to_id,
        r.created_at,
        r.edited_at,
        r.deleted_at,
        r.event_pos,
        account_kind(r.kind),
        details,
    )


_VIEW = select(
    _msg.c.id,
    _msg.c.conversation_id,
    _msg.c.sender_id,
    _msg.c.content,
    _msg.c.content_type.label("m_content_type"),
    _msg.c.reply_to_id,
    _msg.c.created_at,
    _msg.c.edited_at,
    _msg.c.deleted_at,
    _msg.c.event_pos,
    _u.c.kind,
    *(_det.c[c] for c in _DETAIL_COLS if c != "content_type"),
    _det.c.content_type,
).select_from(
    _msg.outerjoin(_det, _det.c.message_id == _msg.c.id).outerjoin(_u, _u.c.id == _msg.c.sender_id)
)


def _send_context_query(with_reply: bool) -> Any:
    """One statement per shape (a reply or not), built once."""
    cid, uid = bindparam("cid", type_=String), bindparam("uid", type_=String)
    cols: list[Any] = [
        _cd.c.org_id,
        _cd.c.service_id,
        _cd.c.env,
        _cd.c.data_class,
        _cd.c.policy_ref,
        exists().where(_om.c.org_id == _cd.c.org_id, _om.c.user_id == uid).label("in_org"),
    ]
    if with_reply:
        live = and_(
            _msg.c.id == bindparam("reply", type_=String),
            _msg.c.conversation_id == cid,
            _msg.c.deleted_at.is_(None),
        )
        cols.append(exists().where(live).label("reply_ok"))
    return (
        select(*cols)
        .select_from(_c.outerjoin(_cd, _cd.c.conversation_id == _c.c.id))
        .where(_c.c.id == cid, _c.c.kind.in_(("group", "direct")))
    )


# Built once: a statement built per call (`.values(...)`) costs more CPU than
# the database spends running it.
_INSERT_DETAILS = insert(_det)
_TOUCH_CONVERSATION = (
    update(_cd)
    .where(_cd.c.conversation_id == bindparam("cid", type_=String))
    .values(updated_at=bindparam("at"))
)
_ID_OWNER = select(_msg.c.sender_id).where(_msg.c.id == bindparam("id", type_=String))
_ID_OWNERS = select(_msg.c.id, _msg.c.sender_id).where(
    _msg.c.id.in_(bindparam("ids", expanding=True))
)
_SEND_CONTEXT = {r: _send_context_query(r) for r in (False, True)}


_Detailed = tuple[
    MessageRecord,
    dict[str, object],
    NewEvent,
    DetailRow,
    str | None,
    Transition | None,
    tuple[MessageRecord, NewEvent] | None,
]
_Outcome = tuple[MessageRecord, StoredEvent | None] | Exception


def _append_one(conn: Connection, item: _Detailed) -> _Outcome:
    """One message, its details and its run's new state (a run's message goes alone)."""
    record, fields, event, details, run_id, transition, instead = item
    cid = record.conversation_id
    rec, ev = record, event
    if instead is not None:
        owner = conn.execute(_ID_OWNER, {"id": record.id}).scalar()
        if owner is not None and owner != record.sender_id:
            return Conflict("message id already used", path="$.id")
        if owner is not None:
            rec, ev = instead
    # A retry answers the first message before its run is looked at (the
    # append below would find it too, but after the run's transition).
    if rec.client_message_id is not None and run_id is not None:
        earlier = conn.execute(
            select(_msg).where(
                _msg.c.sender_id == rec.sender_id,
                _msg.c.client_message_id == rec.client_message_id,
            )
        ).first()
        if earlier is not None:
            return message_record(earlier), None
    new_run: RunState | None = None
    had_run = False
    if run_id is not None and transition is not None:
        found = conn.execute(
            select(_run).where(_run.c.conversation_id == cid, _run.c.run_id == run_id)
        ).first()
        had_run = found is not None
        outcome = transition(_run_state(found) if found is not None else None)
        if isinstance(outcome, Exception):
            return outcome
        new_run = outcome
    [(rec, stored)] = _APPENDS.run(conn, [(rec, fields, ev)])
    if stored is None:
        return rec, None
    row = {c: getattr(details, c) for c in _DETAIL_COLS}
    conn.execute(_INSERT_DETAILS, {"message_id": rec.id, "conversation_id": cid, **row})
    conn.execute(_TOUCH_CONVERSATION, {"cid": cid, "at": rec.created_at})
    if new_run is not None:
        new_run.last_message_id = rec.id
        values = {c: getattr(new_run, c) for c in _RUN_COLS}
        if had_run:
            conn.execute(
                update(_run)
                .where(_run.c.conversation_id == cid, _run.c.run_id == run_id)
                .values(**values)
            )
        else:
            conn.execute(insert(_run).values(**values))
    return rec, stored


def _append_plain(conn: Connection, items: Sequence[_Detailed]) -> list[_Outcome]:
    """Consecutive messages of no run: one lookup of the client ids' owners,
    one append of them all (`MessageAppends`), one insert of their details,
    one touch per conversation, as if they ran one after the other."""
    claimed = [it[0].id for it in items if it[6] is not None]
    owners: dict[str, str] = {}
    if claimed:
        owners = {r.id: r.sender_id for r in conn.execute(_ID_OWNERS, {"ids": claimed})}
    out: list[_Outcome | None] = [None] * len(items)
    chosen: list[tuple[int, MessageRecord, dict[str, object], NewEvent]] = []
    for k, (rec, fields, ev, _det, _run, _tr, instead) in enumerate(items):
        if instead is not None:
            owner = owners.get(rec.id)
            if owner is not None and owner != rec.sender_id:
                out[k] = Conflict("message id already used", path="$.id")
                continue
            if owner is not None:
                rec, ev = instead
            else:
                owners[rec.id] = rec.sender_id  # a later item of the batch sees it taken
        chosen.append((k, rec, fields, ev))
    appended = _APPENDS.run(conn, [(rec, fields, ev) for _, rec, fields, ev in chosen])
    rows: list[dict[str, Any]] = []
    touched: dict[str, int] = {}
    for (k, _rec, _f, _ev), (rec, stored) in zip(chosen, appended, strict=True):
        out[k] = (rec, stored)
        if stored is not None:
            det = items[k][3]
            row = {c: getattr(det, c) for c in _DETAIL_COLS}
            rows.append({"message_id": rec.id, "conversation_id": rec.conversation_id, **row})
            touched[rec.conversation_id] = max(rec.created_at, touched.get(rec.conversation_id, 0))
    if rows:
        conn.execute(_INSERT_DETAILS, rows)
        conn.execute(_TOUCH_CONVERSATION, [{"cid": c, "at": at} for c, at in touched.items()])
    return [o for o in out if o is not None]


class _DetailedAppends:
    """The Symbia append as a `BatchKind`: a batch's consecutive Symbia sends
    cost a few statements in all, not five each (on PostgreSQL, round trips).
    A message of a run goes alone, in order: its transition must see the run
    as the items before it left it."""

    def run(self, conn: Connection, items: Sequence[_Detailed]) -> list[_Outcome]:
        out: list[_Outcome] = []
        i = 0
        while i < len(items):
            if items[i][4] is not None:
                out.append(_append_one(conn, items[i]))
                i += 1
                continue
            j = i
            while j < len(items) and items[j][4] is None:
                j += 1
            out += _append_plain(conn, items[i:j])
            i = j
        return out


_DETAILED = _DetailedAppends()


class SqlMessageDetails(SqlArea):
    """The message_details area: `message_details` and `stream_runs`."""

    async def append_detailed(
        self,
        record: MessageRecord,
        fields: dict[str, object],
        event: NewEvent,
        details: DetailRow,
        run_id: str | None,
        transition: Transition | None,
        *,
        instead: tuple[MessageRecord, NewEvent] | None = None,
    ) -> tuple[MessageRecord, StoredEvent | None] | Exception:
        item = (record, fields, event, details, run_id, transition, instead)
        return await self.writer.submit_item(_DETAILED, item)

    async def send_context(
        self, conversation_id: str, user_id: str, reply_to: str | None
    ) -> SendContext | None:
        params = {"cid": conversation_id, "uid": user_id}
        if reply_to is not None:
            params["reply"] = reply_to
        async with self.engine.connect() as conn:
            r = (await conn.execute(_SEND_CONTEXT[reply_to is not None], params)).first()
        if r is None:
            return None
        return SendContext(
            Scoping(r.org_id, r.service_id, r.env, r.data_class or "none", r.policy_ref),
            bool(r.in_org),
            bool(r.reply_ok) if reply_to is not None else False,
        )

    async def view(self, message_id: str) -> MessageView | None:
        async with self.engine.connect() as conn:
            r = (await conn.execute(_VIEW.where(_msg.c.id == message_id))).first()
        return _view(r) if r is not None else None

    async def page(
        self, conversation_id: str, limit: int, before: int | None, after: int | None
    ) -> list[MessageView]:
        # End-to-end encrypted messages (`/ws` only) are opaque: not Symbia's to list.
        q = _VIEW.where(
            _msg.c.conversation_id == conversation_id,
            _msg.c.deleted_at.is_(None),
            _msg.c.kind != "e2e",
        )
        if before is not None:
            q = q.where(_msg.c.created_at < before)
        if after is not None:
            q = q.where(_msg.c.created_at > after)
        if before is not None and after is None:
            q = q.order_by(_msg.c.event_pos.desc()).limit(limit)  # the last `limit` before
        else:
            q = q.order_by(_msg.c.event_pos.asc()).limit(limit)
        async with self.engine.connect() as conn:
            rows = [_view(r) for r in await conn.execute(q)]
        rows.sort(key=lambda v: v.pos or 0)
        return rows

    async def runs(self, conversation_id: str) -> list[RunState]:
        q = (
            select(_run)
            .where(_run.c.conversation_id == conversation_id)
            .order_by(_run.c.started_at, _run.c.run_id)
        )
        async with self.engine.connect() as conn:
            return [_run_state(r) for r in await conn.execute(q.limit(1000))]

    async def run(self, conversation_id: str, run_id: str) -> RunState | None:
        q = select(_run).where(_run.c.conversation_id == conversation_id, _run.c.run_id == run_id)
        async with self.engine.connect() as conn:
            r = (await conn.execute(q)).first()
        return _run_state(r) if r is not None else None

    async def forget_runs(self, conversation_id: str) -> None:
        def unit(conn: Connection) -> None:
            conn.execute(delete(_run).where(_run.c.conversation_id == conversation_id))

        await self.writer.submit(unit)
