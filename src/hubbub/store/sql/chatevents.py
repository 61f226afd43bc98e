"""The chat-event relay's cursor and reads (`core.ports.RelayStore`).

The content of a message of data class `secret` or `phi` (Symbia's
`X-Data-Class`, `message_details.data_class`) is not relayed: its event
carries an empty payload.
"""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, insert, or_, select, update

from hubbub.core.ports.chatevents import CommittedMessage
from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea
from hubbub.store.sql.events import _MAX_POS, stream_head

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
_WINDOWS = select(_mem.c.user_id, _mem.c.joined_pos, _mem.c.left_pos).where(
    _mem.c.conversation_id == bindparam("c")
)


class SqlRelay(SqlArea):
    """The chatevents area: `relay_cursors`, and message reads for the relay."""

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
            windows: dict[str, list[tuple[str, int, int | None]]] = {}
            for cid in {r.conversation_id for r in rows}:
                found = await conn.execute(_WINDOWS, {"c": cid})
                windows[cid] = [(w.user_id, w.joined_pos, w.left_pos) for w in found]
        out = []
        for r in rows:
            members = [
                uid
                for uid, joined, left in windows[r.conversation_id]
                if joined < r.pos and (left is None or r.pos <= left)
            ]
            out.append(
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
                    members=sorted(members),
                )
            )
        return out
