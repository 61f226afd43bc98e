"""Broadcasts: channels, publishers, durable subscriptions, the broadcasts
themselves (one event each) and their acknowledgements."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from hubbub.core.model import NewEvent, StoredEvent

__all__ = ["BroadcastChannel", "BroadcastRecord", "BroadcastStore", "MakeBroadcastEvent"]


@dataclass(frozen=True, slots=True)
class BroadcastChannel:
    id: str
    title: str
    created_by: str
    created_at: int


@dataclass(frozen=True, slots=True)
class BroadcastRecord:
    id: str
    pos: int
    audience: str  # the event's target: "all", "seg:<name>" or "ch:<channel id>"
    sender_id: str
    expires_at: int | None
    created_at: int
    reply: bytes  # the event's data as first committed (what a retry returns)


# Builds the event from the new broadcast's id.
MakeBroadcastEvent = Callable[[str], NewEvent]


class BroadcastStore(Protocol):
    async def put_channel(self, channel_id: str, title: str, by: str, now: int) -> bool:
        """Create or retitle a channel; True when it was created."""
        ...

    async def get_channel(self, channel_id: str) -> BroadcastChannel | None: ...
    async def list_channels(self) -> list[BroadcastChannel]: ...
    async def set_publisher(
        self, channel_id: str, user_id: str, by: str, now: int, allowed: bool
    ) -> None: ...
    async def is_publisher(self, channel_id: str, user_id: str) -> bool: ...
    async def publish(
        self,
        sender_id: str,
        client_request_id: str | None,
        audience: str,
        expires_at: int | None,
        now: int,
        make_event: MakeBroadcastEvent,
    ) -> tuple[BroadcastRecord, StoredEvent | None]:
        """Append the broadcast's one event; a known (sender, client id) returns
        the first broadcast and no event."""
        ...

    async def get_broadcast(self, message_id: str) -> BroadcastRecord | None: ...
    async def broadcast_at(self, pos: int) -> BroadcastRecord | None:
        """The broadcast whose event is at `pos`."""
        ...

    async def subscribe(self, channel_id: str, user_id: str, now: int) -> int:
        """Subscribe (kept if already): the stream position the feed starts after."""
        ...

    async def unsubscribe(self, channel_id: str, user_id: str) -> bool: ...
    async def subscription(self, channel_id: str, user_id: str) -> int | None: ...
    async def subscribers(self, channel_id: str) -> list[str]: ...
    async def subscriptions_of(self, user_id: str) -> list[str]:
        """The channels `user_id` is subscribed to."""
        ...

    async def active_admins(self) -> list[str]: ...
    async def set_segment_member(
        self, segment: str, user_id: str, by: str, now: int, member: bool
    ) -> None: ...
    async def segment_members(self, segment: str) -> list[str]: ...
    async def in_segment(self, segment: str, user_id: str) -> bool: ...
    async def acknowledge(
        self, message_id: str, user_id: str, status: str | None, received_at: int | None, now: int
    ) -> bool:
        """Record the user's acknowledgement once; True the first time."""
        ...
