"""Searches (`core.ports.SearchStore`) in each database's own full-text engine.

Message search reads the index migration 0014 keeps in step with `messages`
(SQLite: the FTS5 table `message_search` filled by triggers; PostgreSQL: the
GIN index on `to_tsvector('simple', content)`), so it sees every writer's
changes without any of them knowing. The query never becomes SQL: it is a
bound parameter, and for FTS5's MATCH syntax each word is a quoted string
(so `"`, `*`, `NEAR`, `OR` or `-` are words or nothing, never operators).

Chat search is `LIKE` over the caller's own rows (their memberships), the
pattern's `%`, `_` and `\\` escaped.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import and_, exists, func, literal, or_, select, text, union_all

from hubbub.core.ports.search import ChatHit, MessageHit
from hubbub.store.sql import tables as t
from hubbub.store.sql.area import SqlArea

__all__ = ["SqlSearch", "fts5_query"]

_c, _m, _u, _b = t.conversations, t.members, t.users, t.blocks
_TOKEN = re.compile(r"[^\W_]")

_LIVE = (
    "m.conversation_id = :cid AND m.kind = 'text' AND m.deleted_at IS NULL"
    " AND m.content IS NOT NULL AND m.content_type <> 'system'"
    " AND (m.expires_at IS NULL OR m.expires_at > :now)"
)
_COLS = "m.id, m.sender_id, m.created_at, m.edited_at, m.content"

_SQLITE_FROM = (
    "FROM message_search f JOIN message_search_rows s ON s.rowid = f.rowid"
    " JOIN messages m ON m.id = s.message_id"
    f" WHERE message_search MATCH :q AND {_LIVE}"
)
# The expression is the index's, word for word, so the planner can use it.
_PG_FROM = (
    "FROM messages m WHERE to_tsvector('simple', m.content)"
    f" @@ plainto_tsquery('simple', :q) AND {_LIVE}"
)


def _string(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def fts5_query(terms: list[str], conversation_id: str | None = None) -> str:
    """All the terms in the text, each an FTS5 string (`"` doubled), so no
    operator survives; with the conversation's id (a phrase of its tokens)
    when it has any, so FTS5 intersects the two lists itself."""
    words = "content : (" + " ".join(_string(term) for term in terms) + ")"
    if conversation_id is None or not _TOKEN.search(conversation_id):
        return words
    return f"conversation_id : {_string(conversation_id)} AND {words}"


def _like(needle: str) -> str:
    escaped = needle.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _hit(r: Any) -> MessageHit:
    return MessageHit(str(r[0]), str(r[1]), int(r[2]), r[3], str(r[4]))


class SqlSearch(SqlArea):
    """Reads only: the full-text index of `messages`, and members' chats."""

    async def search_messages(
        self,
        conversation_id: str,
        query: str,
        terms: list[str],
        now: int,
        offset: int,
        limit: int,
        cap: int,
    ) -> tuple[list[MessageHit], int]:
        sqlite = self.engine.dialect.name == "sqlite"
        if sqlite and not terms:
            return [], 0  # nothing to look for (FTS5 refuses an empty MATCH)
        where = _SQLITE_FROM if sqlite else _PG_FROM
        # PostgreSQL: any text is plainto_tsquery's to read, operators included.
        q = fts5_query(terms, conversation_id) if sqlite else query
        args = {"cid": conversation_id, "q": q, "now": now}
        page = text(
            f"SELECT {_COLS} {where} ORDER BY m.event_pos DESC, m.id LIMIT :limit OFFSET :offset"
        )
        count = text(f"SELECT count(*) FROM (SELECT 1 {where} LIMIT :cap) AS hits")
        async with self.engine.connect() as conn:
            rows = await conn.execute(page, {**args, "limit": limit, "offset": offset})
            hits = [_hit(r) for r in rows]
            total = int((await conn.execute(count, {**args, "cap": cap})).scalar_one())
        return hits, total

    async def search_chats(
        self, user_id: str, needle: str, kind: str | None, offset: int, limit: int
    ) -> list[ChatHit]:
        pattern = _like(needle)
        me = _m.alias("me")
        other = _m.alias("other")
        groups = (
            select(
                _c.c.id.label("cid"),
                literal("group").label("kind"),
                _c.c.name.label("name"),
                literal(None).label("other_id"),
                literal(None).label("username"),
                literal(None).label("display_name"),
                func.lower(_c.c.name).label("sort"),
            )
            .join(me, and_(me.c.conversation_id == _c.c.id, me.c.user_id == user_id))
            .where(
                me.c.left_pos.is_(None),
                _c.c.kind == "group",
                func.lower(_c.c.name).like(pattern, escape="\\"),
            )
        )
        blocked_me = exists().where(_b.c.blocker_id == other.c.user_id, _b.c.blocked_id == user_id)
        directs = (
            select(
                _c.c.id.label("cid"),
                literal("direct").label("kind"),
                literal(None).label("name"),
                _u.c.id.label("other_id"),
                _u.c.username.label("username"),
                _u.c.display_name.label("display_name"),
                func.lower(_u.c.username).label("sort"),
            )
            .join(me, and_(me.c.conversation_id == _c.c.id, me.c.user_id == user_id))
            .join(other, and_(other.c.conversation_id == _c.c.id, other.c.user_id != user_id))
            .join(_u, _u.c.id == other.c.user_id)
            .where(
                me.c.left_pos.is_(None),
                _c.c.kind == "direct",
                _u.c.deactivated_at.is_(None),
                ~blocked_me,
                or_(
                    func.lower(_u.c.username).like(pattern, escape="\\"),
                    func.lower(_u.c.display_name).like(pattern, escape="\\"),
                ),
            )
        )
        parts = [q for k, q in (("group", groups), ("direct", directs)) if kind in (None, k)]
        both = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
        q = select(both).order_by(both.c.sort, both.c.cid).limit(limit).offset(offset)
        async with self.engine.connect() as conn:
            rows = await conn.execute(q)
            return [
                ChatHit(r.cid, r.kind, r.name, r.other_id, r.username, r.display_name) for r in rows
            ]
