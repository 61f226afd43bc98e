"""The chat-event relay's cursor and reads (`core.ports.RelayStore`).

A relay step reads its messages with one query, then the member windows
(`joined_pos`, `left_pos`) of their conversations, which say who was a
member at each message's position. The windows are cached per
conversation, behind a fingerprint of its `members` rows (count and sums
of the positions, one grouped query per step for all the step's
conversations): a join, leave or rejoin moves a position or the count, so
a changed membership is read again before it is used, on any node, with no
invalidation message to wait for. A group of 1,000 thus costs one small
aggregate per step instead of 1,000 rows per message.

The content of a message of data class `secret` or `phi` (Symbia's
`X-Data-Class`, `message_details.data_class`) is not relayed: its event
carries an empty payload.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from hubbub.core.ports.chatevents import CommittedMessage
from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea
from hubbub.store.sql.events import _MAX_POS, stream_head
from hubbub.store.sql.writer import GroupCommitWriter

__all__ = ["SqlRelay"]

_r, _e, _m, _c, _mem = t.relay_cursors, t.events, t.messages, t.conversations, t.members
_det = t.message_details
REDACTED = ("secret", "phi")
_COMMITTED = (
    select(
        _e.c.pos,
        _m.c.id,
        _m.c.sender_id,
        _m.c.conversation_id,
        _c.c.kind.label("conversation_kind"),
        _m.c.kind,
        _m.c.content,
        _m.c.ciphertext,
        _m.c.created_at,
        _m.c.trace_parent,
        _m.c.session_id,
        _m.c.client_id,
        _det.c.data_class,
    )
    .select_from(
        _e.join(_m, _m.c.id == _e.c.message_id)
        .join(_c, _c.c.id == _m.c.conversation_id)
        .outerjoin(_det, _det.c.message_id == _m.c.id)
    )
    .where(
        _e.c.pos > bindparam("after"),
        _e.c.pos <= bindparam("upto"),
        _e.c.message_id.is_not(None),
        _e.c.type.in_(("ChatMessageReceived", "EncryptedMessageReceived")),
    )
    .order_by(_e.c.pos)
    .limit(bindparam("n"))
)
_FINGERPRINTS = (
    select(
        _mem.c.conversation_id,
        func.count(),
        func.count(_mem.c.left_pos),
        func.sum(_mem.c.joined_pos),
        func.coalesce(func.sum(_mem.c.left_pos), 0),
    )
    .where(_mem.c.conversation_id.in_(bindparam("cs", expanding=True)))
    .group_by(_mem.c.conversation_id)
)
_WINDOWS = select(_mem.c.conversation_id, _mem.c.user_id, _mem.c.joined_pos, _mem.c.left_pos).where(
    _mem.c.conversation_id.in_(bindparam("cs", expanding=True))
)
MAX_CACHED = 10_000  # conversations whose windows are kept

Fingerprint = tuple[int, int, int, int]
Window = tuple[str, int, int | None]


@dataclass(slots=True, frozen=True)
class _Windows:
    """One conversation's member windows, and who is a member after all of them."""

    fingerprint: Fingerprint | None  # None: no members rows
    windows: tuple[Window, ...]
    stable_from: int  # the last position any window starts or ends at
    stable: tuple[str, ...]  # members at every position after `stable_from`, sorted

    @classmethod
    def of(cls, fingerprint: Fingerprint | None, windows: list[Window]) -> _Windows:
        edges = [j for _, j, _ in windows] + [left for _, _, left in windows if left is not None]
        return cls(
            fingerprint,
            tuple(windows),
            max(edges, default=0),
            tuple(sorted(u for u, _, left in windows if left is None)),
        )

    def members_at(self, pos: int) -> tuple[str, ...]:
        if pos > self.stable_from:
            return self.stable
        return tuple(
            sorted(u for u, j, left in self.windows if j < pos and (left is None or pos <= left))
        )


class SqlRelay(SqlArea):
    """The chatevents area: `relay_cursors`, and message reads for the relay."""

    _windows: dict[str, _Windows]

    def __init__(
        self, engine: AsyncEngine, writer: GroupCommitWriter, clock_ms: Callable[[], int]
    ) -> None:
        super().__init__(engine, writer, clock_ms)
        self._windows = {}

    async def claim(self, name: str, owner: str, now: int, lease_ms: int) -> int | None:
        def unit(conn: Connection) -> int | None:
            conn.execute(
                update(_r)
                .where(
                    _r.c.name == name,
                    or_(_r.c.owner == owner, _r.c.owner.is_(None), _r.c.lease_until < now),
                )
                .values(owner=owner, lease_until=now + lease_ms)
            )
            row = conn.execute(select(_r.c.pos, _r.c.owner).where(_r.c.name == name)).first()
            if row is None:  # (the migration creates it; a relay of another name starts now)
                head = stream_head(conn)
                conn.execute(
                    insert(_r).values(name=name, pos=head, owner=owner, lease_until=now + lease_ms)
                )
                return head
            return int(row.pos) if row.owner == owner else None

        return await self.writer.submit(unit)

    async def advance(self, name: str, owner: str, pos: int, now: int, lease_ms: int) -> bool:
        def unit(conn: Connection) -> bool:
            res = conn.execute(
                update(_r)
                .where(_r.c.name == name, _r.c.owner == owner)
                .values(pos=pos, lease_until=now + lease_ms)
            )
            return bool(res.rowcount)

        return await self.writer.submit(unit)

    async def release(self, name: str, owner: str) -> None:
        def unit(conn: Connection) -> None:
            conn.execute(
                update(_r)
                .where(_r.c.name == name, _r.c.owner == owner)
                .values(owner=None, lease_until=0)
            )

        await self.writer.submit(unit)

    async def head(self) -> int:
        async with self.engine.connect() as conn:
            return int((await conn.execute(_MAX_POS)).scalar_one())

    async def committed_messages(self, after: int, upto: int, limit: int) -> list[CommittedMessage]:
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(_COMMITTED, {"after": after, "upto": upto, "n": limit})
            ).all()
            if not rows:
                return []
            cids = sorted({r.conversation_id for r in rows})
            prints: dict[str, Fingerprint] = {
                f[0]: (int(f[1]), int(f[2]), int(f[3] or 0), int(f[4] or 0))
                for f in await conn.execute(_FINGERPRINTS, {"cs": cids})
            }
            stale = [
                c
                for c in cids
                if (w := self._windows.get(c)) is None or w.fingerprint != prints.get(c)
            ]
            if stale:
                loaded: dict[str, list[Window]] = {c: [] for c in stale}
                for row in await conn.execute(_WINDOWS, {"cs": stale}):
                    loaded[row.conversation_id].append((row.user_id, row.joined_pos, row.left_pos))
                if len(self._windows) + len(stale) > MAX_CACHED:  # bounded: keep this step's
                    self._windows = {c: self._windows[c] for c in cids if c in self._windows}
                for c in stale:
                    self._windows[c] = _Windows.of(prints.get(c), loaded[c])
        windows = self._windows
        return [
            CommittedMessage(
                pos=r.pos,
                message_id=r.id,
                sender_id=r.sender_id,
                conversation_id=r.conversation_id,
                conversation_kind=r.conversation_kind,
                kind=r.kind,
                content=""
                if r.data_class in REDACTED
                else (r.ciphertext if r.kind == "e2e" else r.content) or "",
                created_at=r.created_at,
                trace_parent=r.trace_parent,
                session_id=r.session_id,
                client_id=r.client_id,
                members=windows[r.conversation_id].members_at(r.pos),
            )
            for r in rows
        ]
