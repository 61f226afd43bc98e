"""Chat events (spec 004): where they go, and the relay's view of the stream."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["ChatEvent", "ChatEventSink", "CommittedMessage", "RelayStore"]


@dataclass(slots=True)
class ChatEvent:
    """One event: the seed's envelope, and its payload under `payload_key`.

    `topic` is the seed's group of the event (`personalChat` or `chat`), used
    for the subject it is published on.
    """

    id: str
    name: str
    topic: str
    namespace: str
    timestamp: str
    user_id: str
    trace_id: str
    span_context: str
    payload_key: str
    payload: dict[str, Any]
    session_id: str = ""
    client_id: str = ""
    parent_namespace: str = ""
    version: int = 1


@dataclass(slots=True)
class CommittedMessage:
    """A chat message as the relay reads it back from the stream."""

    pos: int
    message_id: str
    sender_id: str
    conversation_id: str
    conversation_kind: str
    kind: str  # text | e2e
    content: str
    created_at: int
    trace_parent: str | None
    session_id: str | None
    client_id: str | None
    members: tuple[str, ...] = ()  # as of the commit, sender included, sorted


class ChatEventSink(Protocol):
    async def start(self) -> None: ...
    async def publish(self, events: Sequence[ChatEvent]) -> None:
        """Durable: returns once every event is stored (JetStream acked); raises if not."""
        ...

    def emit(self, event: ChatEvent) -> None:
        """Best effort, never blocks: connection and rate-limit events."""
        ...

    def consumed(self) -> bool:
        """Whether a published event reaches anyone now.

        False (the in-process sink with no subscriber) lets the relay move
        its cursor past committed messages without reading or encoding them.
        """
        ...

    async def close(self) -> None: ...


class RelayStore(Protocol):
    async def claim(self, name: str, owner: str, now: int, lease_ms: int) -> int | None:
        """Take or renew the relay's lease; its cursor if this owner holds it."""
        ...

    async def advance(self, name: str, owner: str, pos: int, now: int, lease_ms: int) -> bool:
        """Move the cursor (and renew the lease); False if the lease was lost."""
        ...

    async def release(self, name: str, owner: str) -> None: ...
    async def head(self) -> int: ...
    async def committed_messages(
        self, after: int, upto: int, limit: int
    ) -> list[CommittedMessage]: ...
