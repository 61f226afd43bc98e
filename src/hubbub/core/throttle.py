"""Throttling of sign-in and registration, per client address and per account.

Every counter lives in the database (`auth_throttle`), so the limits hold
for the whole cluster, not per process. A sign-in attempt is counted as a
failure *before* the password is checked and forgiven once it succeeds: a
burst of parallel guesses cannot all slip through before the first failure
is written, and each attempt costs one atomic update.

    attempt --> begin_signin: locked? too soon? --yes--> rate_limited(retry_after_ms)
                     | count it (both keys)
                     v
                check password / code --ok--> signin_succeeded: forget the account's
                                               failures, forgive this one on the address,
                                               remember the address as known

Per key: the first `free` failures cost nothing; then the next attempt must
wait `delay_base_ms * 2^(n - free)` (capped at `delay_max_ms`); at
`lockout` failures the key is locked for `lockout_ms`. Attempts refused
while locked or waiting are not counted, so the lock ends when it says it
will; once served, the count starts again from zero. Failures older than
`failure_window_ms` are forgotten.

So that an attacker cannot keep a victim locked out by spending
`lockout` guesses per window from fresh addresses, the per-account lock and
slowdown do not apply from an address that signed in to that account
successfully in the last `known_address_ms` (its own per-address limits
still do). IPv6 addresses are counted per /64, what one host usually gets.
Registrations are counted per address in a fixed window. See
docs/security.md for the defaults and what each defends.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from hubbub.clock import Clock
from hubbub.core.ports.throttle import Counter, ThrottleStore
from hubbub.errors import RateLimited

__all__ = ["SignInAttempt", "Throttle", "ThrottlePolicy", "address_key", "client_address"]

# Counters idle this long (and not locked) are deleted, every so many updates.
_FORGET_EVERY = 500


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    enabled: bool = True
    account_free: int = 3
    account_lockout: int = 10
    address_free: int = 10
    address_lockout: int = 50
    delay_base_ms: int = 1_000
    delay_max_ms: int = 60_000
    lockout_ms: int = 15 * 60_000
    failure_window_ms: int = 60 * 60_000
    known_address_ms: int = 30 * 24 * 3600_000
    registrations_per_address: int = 5
    registration_window_ms: int = 60 * 60_000


@dataclass(frozen=True, slots=True)
class SignInAttempt:
    """What `begin_signin` counted, so success can forgive exactly that."""

    address_key: str
    account_key: str
    known_key: str
    counted: bool


def address_key(address: str) -> str:
    """The unit an address is counted in: itself for IPv4, its /64 for IPv6."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
    return str(ip)


def client_address(peer: str | None, forwarded_for: str | None, trusted: Iterable[str]) -> str:
    """The client's address: the peer's, unless the peer is a trusted proxy.

    Behind trusted proxies, `X-Forwarded-For` is read right to left and the
    first address that is not itself a trusted proxy is the client: anything
    left of it was written by the client and proves nothing.
    """
    nets = []
    for t in trusted:
        try:
            nets.append(ipaddress.ip_network(t, strict=False))
        except ValueError:
            continue

    def is_trusted(addr: str) -> bool:
        try:
            ip = ipaddress.ip_address(addr)
        except ValueError:
            return False
        return any(ip in n for n in nets)

    here = peer or "unknown"
    if not nets or not forwarded_for or not is_trusted(here):
        return here
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return here  # a malformed hop: trust nothing past it
        if not is_trusted(hop):
            return hop
        here = hop
    return here


def _delay(n: int, free: int, base: int, cap: int) -> int:
    if n < free:
        return 0
    return int(min(base * 2 ** min(n - free, 40), cap))


class Throttle:
    def __init__(self, store: ThrottleStore, clock: Clock, policy: ThrottlePolicy) -> None:
        self.store = store
        self.clock = clock
        self.policy = policy
        self._updates = 0

    def _fresh(self, c: Counter | None, now: int) -> Counter:
        p = self.policy
        if c is None:
            return Counter(0, 0, 0, now)
        if 0 < c.locked_until <= now or now - c.updated_at > p.failure_window_ms:
            return Counter(0, 0, 0, now)  # a served lock, or failures long past
        return Counter(c.count, c.next_at, c.locked_until, c.updated_at)

    async def _maybe_forget(self, now: int) -> None:
        self._updates += 1
        if self._updates % _FORGET_EVERY == 0:
            p = self.policy
            await self.store.forget_counters(
                now - max(p.failure_window_ms, p.registration_window_ms, p.lockout_ms), now
            )

    async def begin_signin(self, address: str, account: str) -> SignInAttempt:
        """Refuse (`RateLimited` with `retry_after_ms`) or count this attempt."""
        a_key, u_key = "la:" + address_key(address), "lu:" + account[:100]
        k_key = f"ok:{account[:100]}:{address_key(address)}"
        if not self.policy.enabled:
            return SignInAttempt(a_key, u_key, k_key, False)
        p, now = self.policy, self.clock.now_ms()
        limits = {
            a_key: (p.address_free, p.address_lockout),
            u_key: (p.account_free, p.account_lockout),
        }

        def step(rows: dict[str, Counter]) -> tuple[dict[str, Counter | None], int]:
            known = k_key in rows and rows[k_key].locked_until > now
            wait = 0
            fresh = {k: self._fresh(rows.get(k), now) for k in limits}
            for key, c in fresh.items():
                if key == u_key and known:
                    continue
                if c.locked_until > now:
                    wait = max(wait, c.locked_until - now)
                elif c.next_at > now:
                    wait = max(wait, c.next_at - now)
            if wait:
                return {}, wait
            changes: dict[str, Counter | None] = {}
            for key, c in fresh.items():
                free, lockout = limits[key]
                n = c.count + 1
                if n >= lockout:
                    changes[key] = Counter(n, 0, now + p.lockout_ms, now)
                else:
                    changes[key] = Counter(
                        n, now + _delay(n, free, p.delay_base_ms, p.delay_max_ms), 0, now
                    )
            return changes, 0

        wait = await self.store.update_counters([a_key, u_key, k_key], step)
        await self._maybe_forget(now)
        if wait:
            raise RateLimited("too many sign-in attempts, retry later", retry_after_ms=max(1, wait))
        return SignInAttempt(a_key, u_key, k_key, True)

    async def signin_succeeded(self, attempt: SignInAttempt) -> None:
        """The credentials were right: forget the account's failures, forgive
        this attempt on the address and remember the address as known."""
        if not attempt.counted:
            return
        p, now = self.policy, self.clock.now_ms()

        def step(rows: dict[str, Counter]) -> tuple[dict[str, Counter | None], None]:
            changes: dict[str, Counter | None] = {
                attempt.account_key: None,
                attempt.known_key: Counter(0, 0, now + p.known_address_ms, now),
            }
            a = rows.get(attempt.address_key)
            if a is not None:
                n = max(0, a.count - 1)
                locked = a.locked_until if n >= p.address_lockout else 0
                wait = _delay(n, p.address_free, p.delay_base_ms, p.delay_max_ms)
                changes[attempt.address_key] = Counter(
                    n, min(a.next_at, now + wait), locked, a.updated_at
                )
            return changes, None

        await self.store.update_counters(
            [attempt.account_key, attempt.known_key, attempt.address_key], step
        )

    async def begin_registration(self, address: str) -> None:
        """Count a registration attempt from `address`, or refuse it."""
        p = self.policy
        if not p.enabled:
            return
        key, now = "ra:" + address_key(address), self.clock.now_ms()

        def step(rows: dict[str, Counter]) -> tuple[dict[str, Counter | None], int]:
            c = rows.get(key)
            if c is None or now - c.next_at >= p.registration_window_ms:
                return {key: Counter(1, now, 0, now)}, 0
            if c.count >= p.registrations_per_address:
                return {}, c.next_at + p.registration_window_ms - now
            return {key: Counter(c.count + 1, c.next_at, 0, now)}, 0

        wait = await self.store.update_counters([key], step)
        await self._maybe_forget(now)
        if wait:
            raise RateLimited(
                "too many registrations from this address, retry later",
                retry_after_ms=max(1, wait),
            )
