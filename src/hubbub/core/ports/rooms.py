"""The public room of spec 001: its conversation, who has been in it, its history."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol

__all__ = ["JoinOutcome", "RoomStore", "RoomUser"]


@dataclass(slots=True)
class RoomUser:
    """Someone who has been in the room: `handle` is the client's `id`."""

    handle: str
    user_id: str
    username: str
    account_bound: bool
    last_active: int


class JoinOutcome(Enum):
    JOINED = "joined"  # first time in the room: a new member of its conversation
    RETURNED = "returned"
    HANDLE_BOUND = "handle_bound"  # the handle belongs to an account (or to another one)
    ACCOUNT_ELSEWHERE = "account_elsewhere"  # the account joined under another handle


class RoomStore(Protocol):
    async def ensure_room(self, key: str, name: str, conversation_id: str, now: int) -> str:
        """The id of the room's conversation, created on first call."""
        ...

    async def join_room(
        self,
        room_id: str,
        handle: str,
        user_id: str,
        username: str,
        account_bound: bool,
        now: int,
    ) -> tuple[JoinOutcome, RoomUser | None]:
        """Record a join: a new handle becomes a member with `user_id`; a known
        one keeps its own user id and takes `username`. Refusals change nothing."""
        ...

    async def room_user(self, room_id: str, handle: str) -> RoomUser | None: ...
    async def named(self, room_id: str, username_key: str) -> list[RoomUser]:
        """Everyone who has used this (casefolded) name in the room."""
        ...

    async def room_users(self, room_id: str, limit: int) -> list[RoomUser]:
        """The most recently active first."""
        ...

    async def touch(self, room_id: str, user_id: str, now: int) -> None: ...
    async def recent_messages(self, room_id: str, limit: int) -> list[bytes]:
        """Event data of the room's last `limit` chat messages, oldest first."""
        ...
