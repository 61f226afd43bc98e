"""API keys: long-lived credentials of a user for scripts and bots."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["ApiKey", "ApiKeyStore"]


@dataclass(slots=True)
class ApiKey:
    """A key as stored: never the key, only its hash."""

    id: str
    user_id: str
    name: str
    read_only: bool
    created_at: int
    last_used_at: int | None = None
    revoked_at: int | None = None


class ApiKeyStore(Protocol):
    async def create_key(self, key: ApiKey, key_hash: str, max_live: int) -> bool:
        """False (nothing stored) when the user already has `max_live` live keys."""
        ...

    async def list_keys(self, user_id: str) -> list[ApiKey]: ...
    async def revoke_key(self, user_id: str, key_id: str, now: int) -> str | None:
        """Revoke one of `user_id`'s live keys; its hash, or None if none matched."""
        ...

    async def lookup_key(self, key_hash: str) -> ApiKey | None:
        """A live key of an active account."""
        ...

    async def touch_key(self, key_hash: str, now: int) -> None: ...
