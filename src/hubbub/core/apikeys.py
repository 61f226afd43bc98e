"""API keys: a user's long-lived credentials for scripts and bots.

A key is `hbk_` + 256 random bits, shown once at creation; only its SHA-256
is stored, with a label, the creation and last-use times and an optional
read-only scope. It authenticates REST (`X-API-Key`) and WebSocket
connections of every protocol that accepts that header, as the user who
owns it. Revoking it (or deactivating the account) closes the connections
made with it on every node, through the same bus path as a token
revocation: a key's hash is its connections' credential hash.

Keys cannot manage keys, sessions, passwords or two-factor: those need a
signed-in session (a token), so a leaked key cannot entrench itself.
Read-only keys may only read: REST `GET`, and on `/ws` the sync and status
requests (`protocols/channels/endpoint.py`).
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets

from hubbub.clock import Clock
from hubbub.core.accounts import hash_token
from hubbub.core.audit import Audit
from hubbub.core.context import Caller
from hubbub.core.model import TokenInfo
from hubbub.core.ports.apikeys import ApiKey, ApiKeyStore
from hubbub.core.publisher import Publisher
from hubbub.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from hubbub.ids import new_id, plausible_id

__all__ = ["KEY_PREFIX", "MAX_LIVE_KEYS", "ApiKeys", "require_session"]

log = logging.getLogger("hubbub.apikeys")

KEY_PREFIX = "hbk_"
MAX_LIVE_KEYS = 50
TOUCH_EVERY_MS = 60_000
_NAME = re.compile(r"^[^\x00-\x1f\x7f]{1,64}$")


def require_session(caller: Caller) -> None:
    """Refuse an API key where a signed-in session is needed."""
    if caller.kind != "token":
        raise Forbidden("this needs a signed-in session, not an API key")


class ApiKeys:
    def __init__(
        self, store: ApiKeyStore, publisher: Publisher, audit: Audit, clock: Clock
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.audit = audit
        self.clock = clock
        self._touching: set[asyncio.Task[None]] = set()

    async def create(
        self,
        user_id: str,
        name: str,
        *,
        read_only: bool = False,
        actor: str | None = None,
        address: str | None = None,
    ) -> tuple[str, ApiKey]:
        """A new key for `user_id` (the key itself is returned only here)."""
        if not _NAME.match(name):
            raise ValidationFailed("name must be 1-64 printable characters", path="$.name")
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        record = ApiKey(new_id(), user_id, name, read_only, self.clock.now_ms())
        if not await self.store.create_key(record, hash_token(key), MAX_LIVE_KEYS):
            raise Conflict(f"at most {MAX_LIVE_KEYS} live API keys per account")
        await self.audit.record(
            "api_key.create",
            actor=actor,
            target=record.id,
            address=address,
            owner=user_id,
            read_only=read_only,
            name=name,
        )
        return key, record

    async def list(self, caller: Caller) -> list[ApiKey]:
        return await self.store.list_keys(caller.user_id)

    async def revoke(self, caller: Caller, key_id: str, address: str | None = None) -> None:
        """Revoke one of the caller's keys; its live connections close on every node."""
        h = None
        if plausible_id(key_id):
            h = await self.store.revoke_key(caller.user_id, key_id, self.clock.now_ms())
        if h is None:
            raise NotFound("API key not found")
        await self.publisher.revoke(h)
        await self.audit.record(
            "api_key.revoke", actor=caller.user_id, target=key_id, address=address
        )

    async def authenticate(self, key: str) -> TokenInfo:
        if not key.startswith(KEY_PREFIX) or len(key) > 256:
            raise Unauthorized("invalid API key")
        h = hash_token(key)
        found = await self.store.lookup_key(h)
        if found is None:
            raise Unauthorized("invalid API key")
        now = self.clock.now_ms()
        if found.last_used_at is None or now - found.last_used_at >= TOUCH_EVERY_MS:
            self._touch(h, now)
        return TokenInfo(
            found.user_id,
            "api-key-" + found.id,
            h,
            found.id,
            found.created_at,
            found.last_used_at,
            kind="api_key",
            read_only=found.read_only,
        )

    async def is_live(self, key_hash: str) -> bool:
        return await self.store.lookup_key(key_hash) is not None

    def _touch(self, key_hash: str, now: int) -> None:
        if len(self._touching) >= 1024:
            return
        task = asyncio.get_running_loop().create_task(self._do_touch(key_hash, now))
        self._touching.add(task)
        task.add_done_callback(self._touching.discard)

    async def _do_touch(self, key_hash: str, now: int) -> None:
        try:
            await self.store.touch_key(key_hash, now)
        except Exception as exc:
            log.warning("API key last-use update failed", extra={"error": type(exc).__name__})

    async def close(self) -> None:
        if self._touching:
            await asyncio.wait(list(self._touching), timeout=5)
