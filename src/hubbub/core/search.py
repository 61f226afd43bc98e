"""Spec 000's searches: words in one conversation's messages, and the caller's chats.

A search is a read: nothing is stored, nobody else is told, and a retry
with the same `search_id` / `request_id` simply answers again (the same,
unless messages changed meanwhile).

Message search (`message/search`) is for a current member of the
conversation (anyone else, and an unknown id, gets `not_found`), over what
that member reads back in history (`core/history.py`): the conversation's
live plaintext. End-to-end encrypted messages hold only ciphertext and can
never match; deleted and expired ones never match; an edited one matches
its current text. Words are whole words, all of them required, case-insensitive;
results are newest first. The query is 1-`MAX_QUERY` characters; pages are
`page_size` 1-`MAX_PAGE_SIZE` (default `DEFAULT_PAGE_SIZE`) and go at most
`MAX_DEPTH` results deep, which also caps `total_results`.

Each result has `message_id`, `sender_id`, `timestamp`, `edited_at`, and a
plain-text `snippet` around the first match (never markup; clients render it
as text). With `highlight` it also has `highlighted`, the snippet with each
matched word between `«` and `»`, and `highlights`, the `[start, end)`
code-point offsets of those words in `snippet` (exact even when the text
itself holds `«`).

Chat search (`search/chats`) finds, among the caller's own current chats,
groups by name and direct chats by the other member's username or display
name (substring, case-insensitive); a direct chat with someone who blocks
the caller never shows. It never lists users the caller shares no chat
with. `filters` (all optional): `kind` (`group` | `direct`), `offset`
(0-`MAX_DEPTH`), `limit` (1-`MAX_PAGE_SIZE`, default 20); `next_offset` is
where the next page starts, None with `is_final` true on the last page.

`search/ack` answers `completed` for a search the caller ran on this node
with that id among their last `ACK_PER_USER`, `rejected` (with the error
code) for one that was refused, and `unknown` otherwise: a bounded
per-node memory, since the result itself was already the answer.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from typing import Any

from hubbub.clock import Clock, iso
from hubbub.core.archive import check_ids
from hubbub.core.context import Caller
from hubbub.core.conversations import Conversations
from hubbub.core.ports.search import ChatHit, MessageHit, SearchStore
from hubbub.errors import HubbubError, NotFound, ValidationFailed

__all__ = ["MAX_DEPTH", "MAX_PAGE_SIZE", "MAX_QUERY", "Search", "snippet", "terms_of"]

MAX_QUERY = 200
MAX_TERMS = 16
MAX_PAGE_SIZE = 50
DEFAULT_PAGE_SIZE = 20
MAX_DEPTH = 1000
ACK_PER_USER = 100
ACK_USERS = 10_000
SNIPPET = 160  # characters of a snippet, about the match
OPEN, CLOSE = "«", "»"
KINDS = ("group", "direct")
_WORD = re.compile(r"[^\W_]+")


def terms_of(query: str) -> list[str]:
    """The query's words, lower-cased, deduplicated, at most `MAX_TERMS`.

    `lower`, not `casefold`: both engines lower-case their tokens ("ß" stays
    "ß"), and a term folded further would never match them."""
    seen: dict[str, None] = {}
    for w in _WORD.findall(query.lower()):
        seen.setdefault(w, None)
    return list(seen)[:MAX_TERMS]


def snippet(content: str, terms: list[str]) -> tuple[str, list[list[int]]]:
    """About `SNIPPET` characters around the first matched word, and where
    each matched word lies in it."""
    spans = [(m.start(), m.end()) for m in _WORD.finditer(content) if m.group().lower() in terms]
    start = 0
    if spans and len(content) > SNIPPET:
        start = max(0, min(spans[0][0] - SNIPPET // 4, len(content) - SNIPPET))
    end = min(len(content), start + SNIPPET)
    lead = "…" if start > 0 else ""
    tail = "…" if end < len(content) else ""
    shift = len(lead) - start
    marks = [[a + shift, b + shift] for a, b in spans if a >= start and b <= end]
    return lead + content[start:end] + tail, marks


def _marked(text: str, marks: list[list[int]]) -> str:
    out, at = [], 0
    for a, b in marks:
        out += [text[at:a], OPEN, text[a:b], CLOSE]
        at = b
    out.append(text[at:])
    return "".join(out)


def _check_len(value: str | None, most: int, path: str, least: int = 1) -> None:
    if value is not None and not least <= len(value) <= most:
        raise ValidationFailed(f"must be {least}-{most} characters", path=path)


def _int(value: Any, least: int, most: int, path: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not least <= value <= most:
        raise ValidationFailed(f"must be an integer {least}-{most}", path=path)
    return value


class Search:
    def __init__(self, store: SearchStore, conversations: Conversations, clock: Clock) -> None:
        self.store = store
        self.conversations = conversations
        self.clock = clock
        self._ran: OrderedDict[str, OrderedDict[str, str | None]] = OrderedDict()

    def _remember(self, user_id: str, request_id: str | None, error: str | None) -> None:
        if request_id is None:
            return
        mine = self._ran.pop(user_id, None) or OrderedDict()
        self._ran[user_id] = mine  # most recent user last
        mine.pop(request_id, None)
        mine[request_id] = error
        while len(mine) > ACK_PER_USER:
            mine.popitem(last=False)
        while len(self._ran) > ACK_USERS:
            self._ran.popitem(last=False)

    async def messages(
        self,
        caller: Caller,
        search_id: str,
        conversation_id: str,
        query: str,
        page: int | None,
        page_size: int | None,
        highlight: bool | None,
    ) -> dict[str, Any]:
        """The spec's `MessageSearchResults` for one page."""
        _check_len(search_id, 128, "$.data.search_id")
        try:
            result = await self._messages(
                caller, search_id, conversation_id, query, page, page_size, bool(highlight)
            )
        except HubbubError as e:
            self._remember(caller.user_id, search_id, e.code)
            raise
        self._remember(caller.user_id, search_id, None)
        return result

    async def _messages(
        self,
        caller: Caller,
        search_id: str,
        conversation_id: str,
        query: str,
        page: int | None,
        page_size: int | None,
        highlight: bool,
    ) -> dict[str, Any]:
        check_ids(conversation_id, None)
        _check_len(query, MAX_QUERY, "$.data.query")
        size = DEFAULT_PAGE_SIZE
        if page_size is not None:
            size = _int(page_size, 1, MAX_PAGE_SIZE, "$.data.page_size")
        number = _int(page if page is not None else 1, 1, MAX_DEPTH // size, "$.data.page")
        if caller.user_id not in await self.conversations.members(conversation_id):
            raise NotFound("conversation not found")
        terms = terms_of(query)
        offset = (number - 1) * size
        hits, total = await self.store.search_messages(
            conversation_id, query, terms, self.clock.now_ms(), offset, size, MAX_DEPTH
        )
        return {
            "search_id": search_id,
            "conversation_id": conversation_id,
            "query": query,
            "results": [self._result(h, terms, highlight) for h in hits],
            "page": number,
            "page_size": size,
            "total_results": total,
            "has_more": offset + len(hits) < total,
        }

    @staticmethod
    def _result(hit: MessageHit, terms: list[str], highlight: bool) -> dict[str, Any]:
        text, marks = snippet(hit.content, terms)
        out: dict[str, Any] = {
            "message_id": hit.message_id,
            "sender_id": hit.sender_id,
            "timestamp": iso(hit.created_at),
            "edited_at": iso(hit.edited_at) if hit.edited_at is not None else None,
            "snippet": text,
        }
        if highlight:
            out["highlighted"] = _marked(text, marks)
            out["highlights"] = marks
        return out

    async def chats(
        self, caller: Caller, request_id: str | None, query: str, filters: dict[str, Any] | None
    ) -> dict[str, Any]:
        """The spec's `SearchResults`: one page of the caller's matching chats."""
        _check_len(request_id, 128, "$.data.request_id")
        try:
            result = await self._chats(caller, request_id, query, filters or {})
        except HubbubError as e:
            self._remember(caller.user_id, request_id, e.code)
            raise
        self._remember(caller.user_id, request_id, None)
        return result

    async def _chats(
        self, caller: Caller, request_id: str | None, query: str, filters: dict[str, Any]
    ) -> dict[str, Any]:
        _check_len(query, MAX_QUERY, "$.data.query")
        for key in filters:
            if key not in ("kind", "offset", "limit"):
                raise ValidationFailed("unknown filter", path=f"$.data.filters.{key[:64]}")
        kind = filters.get("kind")
        if kind is not None and kind not in KINDS:
            raise ValidationFailed("must be group or direct", path="$.data.filters.kind")
        offset = _int(filters.get("offset", 0), 0, MAX_DEPTH, "$.data.filters.offset")
        limit = _int(
            filters.get("limit", DEFAULT_PAGE_SIZE), 1, MAX_PAGE_SIZE, "$.data.filters.limit"
        )
        needle = query.strip()
        hits = await self.store.search_chats(caller.user_id, needle, kind, offset, limit + 1)
        more = len(hits) > limit and offset + limit < MAX_DEPTH
        return {
            "request_id": request_id,
            "results": [_chat(h) for h in hits[:limit]],
            "next_offset": offset + limit if more else None,
            "is_final": not more,
        }

    def ack(self, caller: Caller, request_id: str) -> dict[str, Any]:
        """The spec's `SearchAck`: what became of the caller's search `request_id`."""
        _check_len(request_id, 128, "$.data.request_id")
        mine = self._ran.get(caller.user_id)
        if mine is None or request_id not in mine:
            return {"request_id": request_id, "status": "unknown", "error": None}
        error = mine[request_id]
        status = "completed" if error is None else "rejected"
        return {"request_id": request_id, "status": status, "error": error}


def _chat(h: ChatHit) -> dict[str, Any]:
    if h.kind == "group":
        return {"type": "group", "conversation_id": h.conversation_id, "name": h.name}
    return {
        "type": "direct",
        "conversation_id": h.conversation_id,
        "name": h.other_display_name or h.other_username,
        "user_id": h.other_id,
        "username": h.other_username,
        "display_name": h.other_display_name,
    }
