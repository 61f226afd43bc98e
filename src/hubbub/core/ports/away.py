"""Away messages and greetings: each user's automatic-reply settings and what they sent."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from hubbub.core.model import NewEvent, StoredEvent

__all__ = ["AwaySettings", "AwayStore", "DirectChat"]


@dataclass(frozen=True, slots=True)
class AwaySettings:
    enabled: bool
    message: str
    greeting: str  # "" is none
    greeting_at: int | None  # when the greeting was last set
    updated_at: int

    @property
    def automatic(self) -> bool:
        """Whether a message to this user may produce anything automatic."""
        return self.enabled or bool(self.greeting)


@dataclass(frozen=True, slots=True)
class DirectChat:
    """A direct conversation, as the automatic replies need it."""

    created_at: int


class AwayStore(Protocol):
    async def settings_of(self, user_id: str) -> AwaySettings | None: ...

    async def set_settings(
        self,
        user_id: str,
        new: AwaySettings,
        event_of: Callable[[AwaySettings], NewEvent],
    ) -> tuple[AwaySettings, StoredEvent | None]:
        """Store `new` and append `event_of(it)`, unless it equals what is stored
        (then nothing is written and the event is None)."""
        ...

    async def automatic_users(self, limit: int) -> list[str]:
        """Up to `limit` users with an enabled away message or a greeting (one read)."""
        ...

    async def direct_chat(self, conversation_id: str) -> DirectChat | None:
        """The conversation if it is a direct one (None: a group, or no such)."""
        ...

    async def claim_reply(self, user_id: str, conversation_id: str, now: int, since: int) -> bool:
        """Whether `user_id` may auto-reply in the conversation now: true (and
        recorded, atomically across nodes) if its last reply there is older
        than `since` or there was none."""
        ...

    async def send_greeting(
        self,
        greeting_id: str,
        conversation_id: str,
        owner_id: str,
        recipient_id: str,
        now: int,
        event: NewEvent,
    ) -> StoredEvent | None:
        """Record the owner's greeting in the conversation and append `event`;
        None (nothing written) if the owner already greeted there."""
        ...

    async def ack_greeting(
        self,
        greeting_id: str,
        conversation_id: str,
        recipient_id: str,
        received_at: str | None,
        now: int,
    ) -> bool | None:
        """Mark a greeting acknowledged by its recipient: True the first time,
        False for a repeat, None if there is no such greeting for them."""
        ...
