"""`message/search`, `search/chats`, `search/ack`: spec 000's searches (`core/search.py`).

Each reply is the spec's own message on the request's channel, for the
caller alone; a search appends nothing to the stream.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hubbub.protocols.channels import schema as s
from hubbub.protocols.channels.handlers.base import Handler, Reply

if TYPE_CHECKING:
    from hubbub.protocols.channels.session import Session

__all__ = ["HANDLERS", "PIPELINED"]


async def search_messages(ss: Session, m: s.SearchMessages, _p: dict[str, str]) -> Reply:
    data = await ss.node.search.messages(
        ss.caller, m.search_id, m.conversation_id, m.query, m.page, m.page_size, m.highlight
    )
    return Reply("message/search", "MessageSearchResults", data)


async def search_chats(ss: Session, m: s.SearchRequest, _p: dict[str, str]) -> Reply:
    data = await ss.node.search.chats(ss.caller, m.request_id, m.query, m.filters)
    return Reply("search/chats", "SearchResults", data)


async def search_ack(ss: Session, m: s.SearchAckRequest, _p: dict[str, str]) -> Reply:
    return Reply("search/ack", "SearchAck", ss.node.search.ack(ss.caller, m.request_id))


HANDLERS: dict[tuple[str, str], Handler] = {
    ("message/search", "SearchMessages"): search_messages,
    ("search/chats", "SearchRequest"): search_chats,
    ("search/ack", "SearchAckRequest"): search_ack,
}

PIPELINED: frozenset[tuple[str, str]] = frozenset()
