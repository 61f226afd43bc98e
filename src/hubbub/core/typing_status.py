"""Typing indicators: ephemeral, per (conversation, user), gone on their own.

Spec 002 (Symbia) has `typing:start` / `typing:stop`; hubbub makes them a
core capability so `/ws` clients get them too (`chat/typing`,
`TypingStarted` / `TypingStopped`, docs/protocol.md). An indicator is state,
not history: it is pushed (no `seq`, never stored) through the bus like
presence, to the conversation's members except the typist, on whichever node
they are connected.

A start while already typing only extends the deadline (no second push), so
a client that repeats `typing:start` on every keystroke costs one event. If
no stop comes, the indicator lapses `ttl_ms` after the last start: `sweep`
(driven by the node's timer, `due_in_ms` says when; tests call it with an
injected clock) announces `TypingStopped` with `expired: true`. The table of
live indicators is bounded (`MAX_ACTIVE`): a node full of them refuses new
ones rather than grow. Indicators are kept by the node that heard the start;
a stop heard on another node (the user's other connection) is announced all
the same, and the first node's entry later lapses with a second
`TypingStopped`: receivers treat a stop as idempotent.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass

from hubbub.clock import Clock, iso
from hubbub.core.context import Caller
from hubbub.core.conversations import Conversations
from hubbub.core.publisher import Publisher
from hubbub.errors import Unavailable, ValidationFailed

__all__ = ["CHANNEL", "MAX_ACTIVE", "STARTED", "STOPPED", "TypingStatus"]

CHANNEL = "chat/typing"
STARTED = "TypingStarted"
STOPPED = "TypingStopped"
MAX_ACTIVE = 100_000
MAX_ID = 64


@dataclass(slots=True)
class _Typing:
    deadline_ms: int  # renewed by every start
    queued_ms: int  # the deadline its one entry in the heap carries


class TypingStatus:
    def __init__(
        self, conversations: Conversations, publisher: Publisher, clock: Clock, ttl_ms: int
    ) -> None:
        self.conversations = conversations
        self.publisher = publisher
        self.clock = clock
        self.ttl_ms = max(1, ttl_ms)
        self._active: dict[tuple[str, str], _Typing] = {}
        # (deadline, conversation, user), one per live indicator (a renewal
        # moves it when it comes up) plus stopped ones that have not come up yet.
        self._deadlines: list[tuple[int, str, str]] = []
        # Told when a new indicator starts (the node's sweeper recomputes its wait).
        self.on_scheduled: list[Callable[[], None]] = []

    def is_typing(self, conversation_id: str, user_id: str) -> bool:
        return (conversation_id, user_id) in self._active

    async def _audience(self, caller: Caller, conversation_id: str) -> list[str]:
        if not conversation_id or len(conversation_id) > MAX_ID:
            raise ValidationFailed(f"must be 1-{MAX_ID} characters", path="$.data.conversation_id")
        # Only members may, and only those who may write there (a block freezes it).
        members = await self.conversations.require_member(caller, conversation_id)
        return [u for u in members if u != caller.user_id]

    def _data(
        self, conversation_id: str, user_id: str, now: int, *, expires: int | None = None
    ) -> dict[str, object]:
        data: dict[str, object] = {
            "conversation_id": conversation_id,
            "user_id": user_id,
            "timestamp": iso(now),
        }
        if expires is not None:
            data["expires_at"] = iso(expires)
        return data

    async def start(self, caller: Caller, conversation_id: str) -> str:
        """Mark the caller typing; returns when it lapses unless renewed (ISO 8601)."""
        audience = await self._audience(caller, conversation_id)
        now = self.clock.now_ms()
        deadline = now + self.ttl_ms
        key = (conversation_id, caller.user_id)
        entry = self._active.get(key)
        if entry is not None:
            entry.deadline_ms = deadline
            return iso(deadline)
        if len(self._active) >= MAX_ACTIVE:
            raise Unavailable("too many typing indicators on this node; try again")
        self._active[key] = _Typing(deadline, deadline)
        heapq.heappush(self._deadlines, (deadline, *key))
        for hook in self.on_scheduled:
            hook()
        data = self._data(conversation_id, caller.user_id, now, expires=deadline)
        await self.publisher.ephemeral(CHANNEL, STARTED, data, audience)
        return iso(deadline)

    async def stop(self, caller: Caller, conversation_id: str) -> None:
        """Announced even if this node did not hear the start (another node may have)."""
        audience = await self._audience(caller, conversation_id)
        self._active.pop((conversation_id, caller.user_id), None)
        data = self._data(conversation_id, caller.user_id, self.clock.now_ms())
        data["expired"] = False
        await self.publisher.ephemeral(CHANNEL, STOPPED, data, audience)

    def _settle_top(self) -> tuple[int, str, str] | None:
        """The heap's first entry that is live and current (stale ones dropped,
        renewed ones moved to their new deadline)."""
        heap = self._deadlines
        while heap:
            deadline, cid, uid = heap[0]
            entry = self._active.get((cid, uid))
            if entry is None or entry.queued_ms != deadline:
                heapq.heappop(heap)  # stopped (and maybe restarted) since
            elif entry.deadline_ms != deadline:
                entry.queued_ms = entry.deadline_ms
                heapq.heapreplace(heap, (entry.deadline_ms, cid, uid))
            else:
                return heap[0]
        return None

    def due_in_ms(self) -> int | None:
        """Milliseconds until the next indicator may lapse (None: none live)."""
        top = self._settle_top()
        return None if top is None else max(0, top[0] - self.clock.now_ms())

    async def sweep(self) -> int:
        """Announce every indicator whose deadline passed; returns how many."""
        now = self.clock.now_ms()
        lapsed: list[tuple[str, str]] = []
        while (top := self._settle_top()) is not None and top[0] <= now:
            _, cid, uid = heapq.heappop(self._deadlines)
            del self._active[(cid, uid)]
            lapsed.append((cid, uid))
        for cid, uid in lapsed:
            members = await self.conversations.members(cid)
            data = self._data(cid, uid, now)
            data["expired"] = True
            await self.publisher.ephemeral(CHANNEL, STOPPED, data, [u for u in members if u != uid])
        return len(lapsed)
