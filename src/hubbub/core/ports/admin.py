"""What the admin surfaces read beyond one account: the user directory."""

from __future__ import annotations

from typing import Protocol

from hubbub.core.model import User

__all__ = ["AdminStore"]


class AdminStore(Protocol):
    async def list_users(
        self, *, prefix: str | None, admins_only: bool, after: str | None, limit: int
    ) -> list[User]:
        """Users by username (ascending), after `after`, whose username,
        email or id starts with `prefix`."""
        ...
