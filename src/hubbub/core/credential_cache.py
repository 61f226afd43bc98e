"""Who a credential is, remembered for a moment: one lookup, not two, per request.

Symbia's REST clients (agents, services) send a request per message with the
same bearer token or API key. Resolving it is two reads (the token or key,
then the account), which cost more than the message's own commit. This
cache keeps the resolved (credential, account) pair by the credential's
hash, for active accounts only, and forgets it:

- at once on this node, when a revocation is published (logout, a device
  signed out, a key revoked, a password change or reset, a deactivation:
  every one goes through `Publisher.revoke`, which tells this cache before
  the bus);
- as soon as another node's revocation arrives over the bus (the same
  notification that closes that credential's connections here);
- everything, when the bus reports a gap (notifications may be lost);
- in any case `TTL_MS` after the lookup: the bound for changes nobody
  publishes to this node (an operator's offline command in another process,
  a lost notification). docs/symbia.md states it.

A lookup that started before a revocation is not stored (a generation
counter), so a revoked credential cannot be put back by a read that raced
its revocation, and no request arriving after it joins that lookup.
Concurrent misses of one credential share one lookup. Failed lookups are
never cached: an unknown credential reads the database every time, as
before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace

from hubbub.clock import Clock
from hubbub.core.accounts import hash_token
from hubbub.core.model import TokenInfo, User

__all__ = ["KINDS", "MAX_ENTRIES", "TTL_MS", "CredentialCache"]

KINDS = ("token", "api_key")

TTL_MS = 2_000
MAX_ENTRIES = 10_000

Lookup = Callable[[], Awaitable[tuple[TokenInfo, User]]]


class CredentialCache:
    def __init__(self, clock: Clock, ttl_ms: int = TTL_MS) -> None:
        self.clock = clock
        self.ttl_ms = ttl_ms
        # (kind, credential hash) -> (expires at, the credential, its account)
        self._entries: dict[tuple[str, str], tuple[int, TokenInfo, User]] = {}
        self._generation = 0
        self._pending: dict[tuple[str, str], asyncio.Future[tuple[TokenInfo, User]]] = {}
        self.hits = 0
        self.misses = 0

    async def resolve(self, kind: str, secret: str, lookup: Lookup) -> tuple[TokenInfo, User]:
        """The credential and its account, from the cache or from `lookup`
        (which raises for a bad credential or an inactive account). `kind` is
        one of `KINDS`, as a revocation names neither."""
        key = (kind, hash_token(secret))
        now = self.clock.now_ms()
        found = self._entries.get(key)
        if found is not None:
            expires, info, user = found
            if now < expires:
                self.hits += 1
                return info, user
            del self._entries[key]
        self.misses += 1
        # Concurrent requests with one credential share one lookup: when an
        # entry lapses, every connection of a busy client misses at once.
        pending = self._pending.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._fill(key, now, lookup))
            self._pending[key] = pending
            pending.add_done_callback(lambda p: self._done(key, p))
        return await asyncio.shield(pending)

    async def _fill(self, key: tuple[str, str], now: int, lookup: Lookup) -> tuple[TokenInfo, User]:
        generation = self._generation
        info, user = await lookup()
        user = replace(user, password_hash="")  # not needed to say who is calling
        if generation == self._generation and user.deactivated_at is None:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (now + self.ttl_ms, info, user)
        return info, user

    def _done(self, key: tuple[str, str], task: asyncio.Future[tuple[TokenInfo, User]]) -> None:
        if self._pending.get(key) is task:
            del self._pending[key]
        if not task.cancelled():
            task.exception()  # retrieved: a failed lookup is each waiter's error

    def forget(self, credential_hash: str) -> None:
        """A credential was revoked (by this node or another)."""
        self._generation += 1
        for kind in KINDS:  # an entry's hash is its credential's `token_hash`
            self._entries.pop((kind, credential_hash), None)
            # A request arriving from now on must not join a lookup begun before.
            self._pending.pop((kind, credential_hash), None)

    def clear(self) -> None:
        self._generation += 1
        self._entries.clear()
        self._pending.clear()
