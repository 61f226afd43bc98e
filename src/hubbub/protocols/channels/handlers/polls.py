"""`chat/polls`, `chat/polls/votes`, `chat/polls/status` (`core/polls.py`).

Creating, voting in and closing polls. Spec 000 has no acknowledgement for
them, so each replies `Ack`: the poll's id, the live counts after a vote, the
final results after a close.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hubbub.protocols.channels import schema as s
from hubbub.protocols.channels.handlers.base import Handler, Reply

if TYPE_CHECKING:
    from hubbub.protocols.channels.session import Session

__all__ = ["HANDLERS", "PIPELINED"]


async def create_poll(ss: Session, m: s.CreatePoll, _p: dict[str, str]) -> Reply:
    poll = await ss.node.polls.create(
        ss.caller, m.conversation_id, m.question, m.options, bool(m.multi_select), m.expires_at
    )
    return Reply("chat/polls", "Ack", {"ids": {"poll_id": poll.id}, "options": poll.options})


async def vote_poll(ss: Session, m: s.VotePoll, _p: dict[str, str]) -> Reply:
    counts = await ss.node.polls.vote(
        ss.caller, m.poll_id, m.conversation_id, list(m.selected_option_ids)
    )
    return Reply("chat/polls/votes", "Ack", {"ids": {"poll_id": m.poll_id}, "counts": counts})


async def close_poll(ss: Session, m: s.ClosePoll, _p: dict[str, str]) -> Reply:
    data = await ss.node.polls.close(ss.caller, m.poll_id, m.conversation_id)
    return Reply("chat/polls/status", "Ack", {"ids": {"poll_id": m.poll_id}, **data})


HANDLERS: dict[tuple[str, str], Handler] = {
    ("chat/polls", "CreatePoll"): create_poll,
    ("chat/polls/votes", "VotePoll"): vote_poll,
    ("chat/polls/status", "ClosePoll"): close_poll,
}

PIPELINED: frozenset[tuple[str, str]] = frozenset()
