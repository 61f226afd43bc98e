"""Chat events (spec 004): what the core tells the outside world.

    any protocol --connect/close/rate limit--> ChatEvents.emit --> sink (best effort)
    commit of a chat message --> events table --> ChatRelay --> sink (durable)

`personalChatSent` is not emitted by the code that sends a message: the
relay reads committed messages back from the event stream after a durable
cursor (`relay_cursors`), publishes them, waits for the sink's
acknowledgement, and only then moves the cursor. So a node killed between
a commit and its publish loses nothing: at restart, or on another node once
the lease (`LEASE_MS`) runs out, the relay starts again from the cursor.
That is at-least-once: an event published but not yet past the cursor is
published again, with the same `id`, which JetStream drops as a duplicate
within its window (`Nats-Msg-Id`) and consumers can dedupe on beyond it.
One node relays at a time (it holds the lease); the cursor row is created
by the migration at the stream head, so every message committed since the
feature exists is covered.

When the sink says nobody consumes its events (`ChatEventSink.consumed`:
the in-process sink without a subscriber), the relay moves the cursor to
the head without reading the messages back or building their events, and
is not woken per commit (it looks every `skip_idle_s`, 1 s): a server
without NATS whose events nobody reads pays one head read and at most one
cursor write per second, instead of a read, a member lookup and an event per
message (docs/performance.md, "Chat event relay"); connection and
rate-limit events are not built either. What a subscriber that attaches
later gets is in protocols/chatevents/inprocess.py.

Each message carries its origin (the request's W3C `traceparent`, or the
trace started for it; the connection; the device), stored with it, so a
re-published event has the same `traceId` and `spanContext`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable

from hubbub.clock import Clock, iso
from hubbub.core.ports.chatevents import ChatEvent, ChatEventSink, CommittedMessage, RelayStore
from hubbub.core.tracing import new_traceparent, trace_id_of, traceparent_or_new
from hubbub.ids import new_id

__all__ = ["RELAY_NAME", "ChatEvents", "ChatRelay", "event_id_of_message"]

log = logging.getLogger("hubbub.chatevents")

RELAY_NAME = "chatevents"
LEASE_MS = 10_000
BATCH = 256
_IDS = uuid.UUID("8f4b1c1e-4a52-4d6e-9a57-3f0d2b9c6a11")  # namespace of derived event ids


def event_id_of_message(message_id: str) -> str:
    """The `id` of a message's personalChatSent: the same on every re-publish."""
    return str(uuid.uuid5(_IDS, "personalChatSent:" + message_id))


class ChatEvents:
    """Builds the envelope; connection and rate-limit events go out from here."""

    def __init__(self, sink: ChatEventSink, clock: Clock, namespace: str) -> None:
        self.sink = sink
        self.clock = clock
        self.namespace = namespace

    def envelope(
        self,
        name: str,
        topic: str,
        user_id: str,
        payload_key: str,
        payload: dict[str, object],
        *,
        event_id: str | None = None,
        at_ms: int | None = None,
        trace_parent: str | None = None,
        session_id: str = "",
        client_id: str = "",
    ) -> ChatEvent:
        tp = traceparent_or_new(trace_parent)
        return ChatEvent(
            id=event_id or new_id(),
            name=name,
            topic=topic,
            namespace=self.namespace,
            timestamp=iso(at_ms if at_ms is not None else self.clock.now_ms()),
            user_id=user_id,
            trace_id=trace_id_of(tp),
            span_context=tp,
            payload_key=payload_key,
            payload=payload,
            session_id=session_id,
            client_id=client_id,
        )

    def connected(
        self, user_id: str, session_id: str, client_id: str, trace_parent: str | None
    ) -> None:
        if not self.sink.consumed():  # nobody to tell: not even built
            return
        self.sink.emit(
            self.envelope(
                "userConnected",
                "chat",
                user_id,
                "userConnected",
                {},
                trace_parent=trace_parent,
                session_id=session_id,
                client_id=client_id,
            )
        )

    def disconnected(
        self,
        user_id: str,
        session_id: str,
        client_id: str,
        trace_parent: str | None,
        *,
        code: int,
        reason: str,
        forced: bool,
    ) -> None:
        if not self.sink.consumed():
            return
        self.sink.emit(
            self.envelope(
                "userDisconnected",
                "chat",
                user_id,
                "userDisconnected",
                {"reason": reason, "code": code, "forced": forced},
                trace_parent=trace_parent,
                session_id=session_id,
                client_id=client_id,
            )
        )

    def rate_limited(
        self,
        user_id: str,
        session_id: str,
        client_id: str,
        trace_parent: str | None,
        retry_after_ms: int,
    ) -> None:
        """Under the seed's (mistaken) payload key `userDisconnected`, on purpose."""
        if not self.sink.consumed():
            return
        self.sink.emit(
            self.envelope(
                "userChatRateLimited",
                "chat",
                user_id,
                "userDisconnected",
                {
                    "reason": f"rate limited: retry after {retry_after_ms} ms",
                    "code": 429,
                    "forced": False,
                },
                trace_parent=trace_parent,
                session_id=session_id,
                client_id=client_id,
            )
        )

    def personal_chat_sent(self, m: CommittedMessage) -> ChatEvent:
        sender = m.sender_id
        recipients = [u for u in m.members if u != sender]
        direct = m.conversation_kind == "direct"
        target = recipients[0] if direct and recipients else m.conversation_id
        return self.envelope(
            "personalChatSent",
            "personalChat",
            m.sender_id,
            "personalChatSent",
            {
                "message_id": m.message_id,
                "sender_id": m.sender_id,
                "target_id": target,
                "payload": m.content,
                "target_type": "user" if direct else "group",
                "target_members": recipients,
            },
            event_id=event_id_of_message(m.message_id),
            at_ms=m.created_at,
            # A message stored before origins were kept gets a trace derived
            # from nothing: new, but then the same on every re-publish is lost.
            trace_parent=m.trace_parent or new_traceparent(),
            session_id=m.session_id or "",
            client_id=m.client_id or "",
        )


class ChatRelay:
    """Publishes `personalChatSent` for every committed message, from a durable cursor."""

    def __init__(
        self,
        store: RelayStore,
        events: ChatEvents,
        clock: Clock,
        owner: str,
        *,
        idle_s: float = 0.2,
        skip_idle_s: float = 1.0,
        lease_ms: int = LEASE_MS,
        on_error: Callable[[], object] | None = None,
    ) -> None:
        self.store = store
        self.events = events
        self.clock = clock
        self.owner = owner
        self.idle_s = idle_s
        # Between looks while nobody consumes: the cursor only keeps up with
        # the head, and a commit wakes the relay once someone subscribes.
        self.skip_idle_s = skip_idle_s
        self.lease_ms = lease_ms
        self.published = 0
        self.skipped = 0  # steps that passed messages while nobody consumed events
        self._cursor: int | None = None  # while this node holds the lease
        self._renew_at = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._on_error = on_error

    @property
    def cursor(self) -> int | None:
        """The stream position relayed up to, while this node holds the lease."""
        return self._cursor

    def wake(self) -> None:
        """A message committed on this node: look now rather than at the next poll.

        Not while nobody consumes events: the next poll skips them all at once.
        """
        if self.events.sink.consumed():
            self._wake.set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
            with contextlib.suppress(Exception):
                await self.store.release(RELAY_NAME, self.owner)
            self._cursor = None  # the lease is given up: a later step claims it again

    async def _idle(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    async def _run(self) -> None:
        while True:
            try:
                moved = await self.step()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("chat event relay failed; retrying", exc_info=True)
                if self._on_error is not None:
                    self._on_error()
                await asyncio.sleep(1.0)
                continue
            if moved is None:  # another node relays: check its lease now and then
                await self._idle(self.lease_ms / 3000)
            elif not moved:
                consumed = self.events.sink.consumed()
                await self._idle(self.idle_s if consumed else self.skip_idle_s)

    async def step(self) -> bool | None:
        """One batch: None if another node holds the lease, else whether it relayed
        (a skip moves the cursor but relays nothing: False).

        The lease is renewed (a write) only when half of it has run, or with
        the cursor when a batch moved it; an idle relay only reads the head.
        """
        now = self.clock.now_ms()
        if self._cursor is None or now >= self._renew_at:
            cursor = await self.store.claim(RELAY_NAME, self.owner, now, self.lease_ms)
            self._cursor = cursor
            if cursor is None:
                return None
            self._renew_at = now + self.lease_ms // 2
        cursor = self._cursor
        assert cursor is not None
        head = await self.store.head()
        if head <= cursor:
            return False
        # Asked after reading the head: a subscriber that attached before a
        # message committed is seen here, so that message is not skipped.
        skipping = not self.events.sink.consumed()
        if skipping:
            upto = head
            self.skipped += 1
        else:
            batch = await self.store.committed_messages(cursor, head, BATCH)
            upto = head if len(batch) < BATCH else batch[-1].pos
            if batch:
                await self.events.sink.publish([self.events.personal_chat_sent(m) for m in batch])
                self.published += len(batch)
        now = self.clock.now_ms()
        if not await self.store.advance(RELAY_NAME, self.owner, upto, now, self.lease_ms):
            log.warning("chat event relay lost its lease")
            self._cursor = None
            return None
        self._cursor = upto
        self._renew_at = now + self.lease_ms // 2
        # A skip reports "nothing relayed": the loop then waits `skip_idle_s` (or a
        # wake-up, which only comes once someone consumes) instead of stepping
        # again at once. Under steady traffic an immediate step always finds
        # new messages, so it would read the head and write the cursor once
        # per group commit, competing with the sends it passes over
        # (docs/performance.md, "issue 13").
        return not skipping
