"""Published end-to-end public keys."""

from __future__ import annotations

from typing import Protocol

from hubbub.core.model import NewEvent, StoredEvent

__all__ = ["KeyStore"]


class KeyStore(Protocol):
    async def publish_key(
        self, user_id: str, key_id: str, public_key: str, algorithm: str, now: int, event: NewEvent
    ) -> StoredEvent: ...
    async def list_keys(self, user_id: str) -> list[dict[str, object]]: ...
