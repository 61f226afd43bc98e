"""Polls: single or multi select, live counts, closed by a person or a timer.

- `CreatePoll` (any member): 2..`MAX_OPTIONS` options, each a string or
  `{"text": ...}`; the server numbers them `o1`, `o2`, ... An `expires_at`
  (RFC 3339, in the future, within a year) gets a durable timer.
- `VotePoll` replaces the voter's previous choice (an empty list withdraws
  it); single select takes exactly one option. Each option whose count
  changed gets a `PollVoteUpdated` with its new count, to every member.
- `ClosePoll`: the creator, or an owner or admin of the group. The timer
  closes it at `expires_at` (`closed_by` = "system"), once across the
  cluster. `PollClosed` carries `final_results`; later votes get `conflict`.
"""

from __future__ import annotations

from typing import Any

from hubbub.clock import Clock, iso, parse_iso
from hubbub.core.context import Caller
from hubbub.core.conversations import Conversations
from hubbub.core.frames import event
from hubbub.core.model import NewEvent
from hubbub.core.ports import PollRecord, PollStore
from hubbub.core.publisher import Publisher
from hubbub.errors import Conflict, Forbidden, NotFound, ValidationFailed
from hubbub.ids import new_id

__all__ = ["MAX_OPTIONS", "POLL_TIMER", "Polls"]

MAX_OPTIONS = 12
MAX_QUESTION = 300
MAX_OPTION_TEXT = 100
MAX_LIFETIME_MS = 366 * 24 * 3600 * 1000
POLL_TIMER = "poll_close"
SYSTEM = "system"


def _option_text(raw: Any, i: int) -> str:
    text = raw.get("text") if isinstance(raw, dict) else raw
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_OPTION_TEXT:
        raise ValidationFailed(
            f"an option is a string (or {{text}}) of 1-{MAX_OPTION_TEXT} characters",
            path=f"$.data.options[{i}]",
        )
    return text.strip()


def _results(poll: PollRecord) -> list[dict[str, Any]]:
    return [
        {
            "option_id": o["option_id"],
            "text": o["text"],
            "vote_count": poll.counts.get(o["option_id"], 0),
        }
        for o in poll.options
    ]


class Polls:
    def __init__(
        self, store: PollStore, conversations: Conversations, publisher: Publisher, clock: Clock
    ) -> None:
        self.store = store
        self.conversations = conversations
        self.publisher = publisher
        self.clock = clock
        self.on_timer_scheduled: list[Any] = []

    async def create(
        self,
        caller: Caller,
        conversation_id: str,
        question: str,
        options: list[Any],
        multi_select: bool,
        expires_at: str | None,
    ) -> PollRecord:
        await self.conversations.require_member(caller, conversation_id)
        question = question.strip()
        if not question or len(question) > MAX_QUESTION:
            raise ValidationFailed(f"must be 1-{MAX_QUESTION} characters", path="$.data.question")
        if not 2 <= len(options) <= MAX_OPTIONS:
            raise ValidationFailed(f"2-{MAX_OPTIONS} options", path="$.data.options")
        texts = [_option_text(o, i) for i, o in enumerate(options)]
        now = self.clock.now_ms()
        due = None
        if expires_at is not None:
            try:
                due = parse_iso(expires_at)
            except ValueError:
                raise ValidationFailed("not an RFC 3339 time", path="$.data.expires_at") from None
            if not now < due <= now + MAX_LIFETIME_MS:
                raise ValidationFailed(
                    "must be in the future and within a year", path="$.data.expires_at"
                )
        poll = PollRecord(
            id=new_id(),
            conversation_id=conversation_id,
            creator_id=caller.user_id,
            question=question,
            options=[{"option_id": f"o{i + 1}", "text": t} for i, t in enumerate(texts)],
            multi_select=multi_select,
            expires_at=due,
            created_at=now,
        )
        data = {
            "poll_id": poll.id,
            "conversation_id": conversation_id,
            "creator_id": caller.user_id,
            "question": question,
            "options": poll.options,
            "multi_select": multi_select,
            "expires_at": iso(due) if due is not None else None,
            "created_at": iso(now),
        }
        stored = await self.store.create_poll(
            poll, event("c", conversation_id, "chat/polls", "PollCreated", data)
        )
        members = await self.conversations.audience(conversation_id)
        await self.publisher.event(stored, members, skip_conn=caller.conn_id)
        if due is not None:
            for cb in self.on_timer_scheduled:
                cb(due)
        return poll

    async def _poll_for(self, caller: Caller, poll_id: str, conversation_id: str) -> PollRecord:
        poll = await self.store.get_poll(poll_id) if len(poll_id) <= 64 else None
        if poll is None or poll.conversation_id != conversation_id:
            raise NotFound("poll not found")
        try:
            await self.conversations.require_member(caller, conversation_id)
        except NotFound:
            raise NotFound("poll not found") from None
        return poll

    async def vote(
        self, caller: Caller, poll_id: str, conversation_id: str, option_ids: list[str]
    ) -> dict[str, int]:
        poll = await self._poll_for(caller, poll_id, conversation_id)
        wanted = list(dict.fromkeys(option_ids))
        known = {o["option_id"] for o in poll.options}
        for i, oid in enumerate(option_ids):
            if oid not in known:
                raise ValidationFailed("no such option", path=f"$.data.selected_option_ids[{i}]")
        if not poll.multi_select and len(wanted) > 1:
            raise ValidationFailed("this poll takes one option", path="$.data.selected_option_ids")
        now = self.clock.now_ms()
        if poll.closed_at is not None or (poll.expires_at is not None and now >= poll.expires_at):
            raise Conflict("the poll is closed")

        def make(p: PollRecord, changed: dict[str, int]) -> list[NewEvent]:
            return [
                event(
                    "c",
                    conversation_id,
                    "chat/polls/votes",
                    "PollVoteUpdated",
                    {
                        "poll_id": poll_id,
                        "conversation_id": conversation_id,
                        "option_id": oid,
                        "vote_count": count,
                        "voter_id": caller.user_id,
                        "updated_at": iso(now),
                    },
                )
                for oid, count in changed.items()
            ]

        stored = await self.store.vote(poll_id, caller.user_id, wanted, now, make)
        if stored is None:
            raise Conflict("the poll is closed")
        if stored:
            members = await self.conversations.audience(conversation_id)
            for ev in stored:
                await self.publisher.event(ev, members)
        after = await self.store.get_poll(poll_id)
        return dict(after.counts) if after is not None else {}

    async def close(self, caller: Caller, poll_id: str, conversation_id: str) -> dict[str, Any]:
        poll = await self._poll_for(caller, poll_id, conversation_id)
        members = await self.conversations.members(conversation_id)
        if caller.user_id != poll.creator_id and members.get(caller.user_id) not in (
            "owner",
            "admin",
        ):
            raise Forbidden("only the poll's creator or a group admin can close it")
        closed = await self._close(poll_id, caller.user_id)
        if closed is None:  # closed already: the same outcome, told again
            poll = await self._poll_for(caller, poll_id, conversation_id)
            return self._closed_data(poll)
        return closed

    async def close_due(self, poll_id: str) -> bool:
        """The timer's handler: close at `expires_at`, once across the cluster."""
        return await self._close(poll_id, SYSTEM) is not None

    async def _close(self, poll_id: str, by: str) -> dict[str, Any] | None:
        now = self.clock.now_ms()
        result = await self.store.close_poll(
            poll_id,
            by,
            now,
            lambda p: event(
                "c",
                p.conversation_id,
                "chat/polls/status",
                "PollClosed",
                self._closed_data(p),
            ),
        )
        if result is None:
            return None
        poll, stored = result
        members = await self.conversations.audience(poll.conversation_id)
        await self.publisher.event(stored, members)
        return self._closed_data(poll)

    @staticmethod
    def _closed_data(poll: PollRecord) -> dict[str, Any]:
        return {
            "poll_id": poll.id,
            "conversation_id": poll.conversation_id,
            "closed_by": poll.closed_by,
            "closed_at": iso(poll.closed_at) if poll.closed_at is not None else None,
            "final_results": _results(poll),
        }
