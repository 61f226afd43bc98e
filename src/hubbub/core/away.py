"""Away messages and greetings: automatic replies in direct conversations.

A user's away message and greeting are their own settings (`SetAwayMessage`
on `user/away`, the greeting a hubbub field of it): every device of that user
hears `AwayMessageUpdated` (scope `u`, live and through `SyncRequest`),
nobody else. Contacts learn of an away message only by getting it as an
automatic reply; it is not broadcast. The same settings again write nothing.

While the away message is enabled, a message *to* that user in a direct
conversation gets one automatic reply there per `REPLY_WINDOW_MS` (counted
from the last reply, atomically across nodes in `away_replies`): a real
message from the away user, stored and delivered to every device of both
members like any other, its `type` `"away"`. Never in groups, never in a
conversation frozen by a block, and never to an automatic message (a reply
is posted with `_automatic` set, and the hook skips while it is: two away
users do not answer each other forever).

A greeting goes to whoever sends the first message in a direct conversation
with its owner, created after the greeting was set (an old contact is no
first contact): `GreetingMessageReceived` (`first_contact: true`), a
durable event for the recipient's devices (scope `u`), once per
conversation (`greetings`); the recipient's `AcknowledgeGreetingReceived`
is stored once (a repeat answers `first: false`).

Sending stays cheap (docs/performance.md): each node reads once, at its
first message, which users have anything automatic (`_users`); a message to
anyone else costs a set lookup. A change of settings puts its user in that
set on every node before and after it commits (`Publisher.invalidate` with
`away:<user_id>`, the bus message member caches use); a read that finds
nothing automatic for a user takes them out again, unless a change was
announced meanwhile. Past `AUTOMATIC_MAX` such users, every direct message
reads the recipient's settings (correct, slower).
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Iterable
from typing import Any

from hubbub.clock import Clock, iso
from hubbub.core.context import Caller
from hubbub.core.conversations import Conversations
from hubbub.core.frames import event
from hubbub.core.messages import Messages
from hubbub.core.ports import AwaySettings, AwayStore
from hubbub.core.publisher import Publisher
from hubbub.errors import NotFound, ValidationFailed
from hubbub.ids import new_id

__all__ = [
    "AUTO_REPLY_TYPE",
    "CHANNEL",
    "GREETINGS",
    "INVALIDATE_PREFIX",
    "MAX_TEXT",
    "REPLY_WINDOW_MS",
    "Away",
]

CHANNEL = "user/away"
GREETINGS = "chat/greetings"
AUTO_REPLY_TYPE = "away"  # the `type` of an automatic reply's ChatMessageReceived
MAX_TEXT = 1000  # characters of an away message or a greeting
REPLY_WINDOW_MS = 24 * 3600 * 1000
AUTOMATIC_MAX = 100_000  # users with automatic replies kept in memory
INVALIDATE_PREFIX = "away:"  # bus invalidation keys naming a user, not a conversation

# Set while this task posts an automatic reply: its own after-send hook skips it.
_automatic: contextvars.ContextVar[bool] = contextvars.ContextVar("away_automatic", default=False)


def _check_text(value: str | None, path: str) -> None:
    if value is not None and len(value) > MAX_TEXT:
        raise ValidationFailed(f"at most {MAX_TEXT} characters", path=path)


def _check_id(value: str, path: str) -> None:
    if not value or len(value) > 64:
        raise ValidationFailed("must be 1-64 characters", path=path)


class Away:
    def __init__(
        self,
        store: AwayStore,
        messages: Messages,
        conversations: Conversations,
        publisher: Publisher,
        clock: Clock,
    ) -> None:
        self.store = store
        self.messages = messages
        self.conversations = conversations
        self.publisher = publisher
        self.clock = clock
        # Users who may have an enabled away message or a greeting: read at the
        # first message, then kept up to date by `_may_have`. None while not
        # read (or being read), and when there were more than AUTOMATIC_MAX.
        self._users: set[str] | None = None
        self._loading: asyncio.Future[None] | None = None
        self._added: set[str] = set()  # announced while the set was being read
        self._too_many = False
        self._generation = 0  # a bus gap: what was being read may be stale
        self._announced = 0  # changes announced so far (see `on_sent`)

    # --- the in-memory set ---------------------------------------------------

    def _may_have(self, user_ids: Iterable[str]) -> None:
        ids = set(user_ids)
        self._announced += 1
        if self._users is not None:
            self._users.update(ids)
            if len(self._users) > AUTOMATIC_MAX:
                self._users = None  # read again: the store knows who is left
        elif self._loading is not None:
            self._added.update(ids)

    def forget(self, keys: list[str]) -> None:
        """Bus invalidations: those naming a user (`away:<id>`) may have changed."""
        users = [k[len(INVALIDATE_PREFIX) :] for k in keys if k.startswith(INVALIDATE_PREFIX)]
        if users:
            self._may_have(users)

    def forget_all(self) -> None:
        """Notifications may have been lost: read everything again."""
        self._generation += 1
        self._users = None
        self._loading = None
        self._too_many = False

    async def _changing(self, user_id: str) -> None:
        self._may_have([user_id])
        await self.publisher.invalidate([INVALIDATE_PREFIX + user_id])

    async def _known(self) -> set[str] | None:
        while self._users is None and not self._too_many:
            if self._loading is None:
                self._loading = asyncio.ensure_future(self._load())
            loading = self._loading
            try:
                await asyncio.shield(loading)
            finally:
                if self._loading is loading and loading.done():
                    self._loading = None  # failed: the next message tries again
        return self._users

    async def _load(self) -> None:
        generation = self._generation
        self._added = set()
        ids = await self.store.automatic_users(AUTOMATIC_MAX + 1)
        if generation != self._generation:
            return
        if len(ids) > AUTOMATIC_MAX:
            self._too_many = True
        else:
            self._users = set(ids) | self._added
        self._added = set()

    # --- settings ------------------------------------------------------------

    def _data(self, user_id: str, s: AwaySettings) -> dict[str, Any]:
        return {
            "user_id": user_id,
            "enabled": s.enabled,
            "message": s.message,
            "updated_at": iso(s.updated_at),
            "greeting": s.greeting,
        }

    async def set_away(
        self, caller: Caller, enabled: bool, message: str | None, greeting: str | None
    ) -> tuple[dict[str, Any], bool]:
        """Change the caller's settings: (the `AwayMessageUpdated` data, changed).

        `message` or `greeting` None keeps the stored text; `greeting` "" has
        none. Enabling needs a message (given, or stored from before)."""
        _check_text(message, "$.data.message")
        _check_text(greeting, "$.data.greeting")
        now = self.clock.now_ms()
        old = await self.store.settings_of(caller.user_id)
        text = message if message is not None else (old.message if old else "")
        if enabled and not text.strip():
            raise ValidationFailed("an away message is needed to enable it", path="$.data.message")
        hello = greeting if greeting is not None else (old.greeting if old else "")
        hello_at = old.greeting_at if old else None
        if hello and (old is None or hello != old.greeting):
            hello_at = now
        new = AwaySettings(enabled, text, hello, hello_at, now)
        uid = caller.user_id
        if new.automatic:
            self._may_have([uid])
        result, stored = await self.store.set_settings(
            uid, new, lambda s: event("u", uid, CHANNEL, "AwayMessageUpdated", self._data(uid, s))
        )
        if stored is not None:
            await self._changing(uid)
            await self.publisher.event(stored, [uid])
        return self._data(uid, result), stored is not None

    # --- after each message --------------------------------------------------

    async def on_sent(self, conversation_id: str, sender_id: str) -> None:
        """A message was sent: reply or greet for its recipient, if they want."""
        if _automatic.get():
            return
        known = self._users if self._users is not None else await self._known()
        if known is not None and not known:
            return
        members = await self.conversations.members(conversation_id)
        if len(members) != 2 or sender_id not in members:
            return
        other = next(u for u in members if u != sender_id)
        if known is not None and other not in known:
            return
        announced = self._announced
        settings = await self.store.settings_of(other)
        if settings is None or not settings.automatic:
            if known is not None and self._users is known and self._announced == announced:
                known.discard(other)
            return
        chat = await self.store.direct_chat(conversation_id)
        if chat is None or await self.conversations.blockers(conversation_id):
            return
        now = self.clock.now_ms()
        if settings.greeting and settings.greeting_at is not None:
            if chat.created_at >= settings.greeting_at:
                await self._greet(conversation_id, other, sender_id, settings.greeting, now)
        if settings.enabled and settings.message:
            if await self.store.claim_reply(other, conversation_id, now, now - REPLY_WINDOW_MS):
                token = _automatic.set(True)
                try:
                    await self.messages.post_system(
                        conversation_id, other, settings.message, AUTO_REPLY_TYPE
                    )
                finally:
                    _automatic.reset(token)

    async def _greet(
        self, conversation_id: str, owner_id: str, recipient_id: str, content: str, now: int
    ) -> None:
        gid = new_id()
        data = {
            "greeting_id": gid,
            "conversation_id": conversation_id,
            "sender_id": owner_id,
            "content": content,
            "timestamp": iso(now),
            "first_contact": True,
        }
        ev = event("u", recipient_id, GREETINGS, "GreetingMessageReceived", data)
        stored = await self.store.send_greeting(
            gid, conversation_id, owner_id, recipient_id, now, ev
        )
        if stored is not None:
            await self.publisher.event(stored, [recipient_id])

    async def acknowledge(
        self, caller: Caller, greeting_id: str, conversation_id: str, timestamp: str | None
    ) -> bool:
        """Store the recipient's acknowledgement; whether it was the first.

        A greeting that is not the caller's is `not_found`, like one that
        does not exist."""
        _check_id(greeting_id, "$.data.greeting_id")
        _check_id(conversation_id, "$.data.conversation_id")
        if timestamp is not None and len(timestamp) > 64:
            raise ValidationFailed("at most 64 characters", path="$.data.timestamp")
        first = await self.store.ack_greeting(
            greeting_id, conversation_id, caller.user_id, timestamp, self.clock.now_ms()
        )
        if first is None:
            raise NotFound("greeting not found")
        return first
