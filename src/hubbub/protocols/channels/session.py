"""Per-connection state of a `/ws` client and its bounded send queue.

Replies and pushed events share one FIFO, so a client sees them in the order
the server produced them. The queue is bounded: a client that stops reading
is cut off (close 1013, "slow consumer") and resumes from its change feed,
rather than making the server buffer without bound.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hubbub.core.context import Caller
from hubbub.ids import new_id

if TYPE_CHECKING:
    from hubbub.runtime import Node

__all__ = ["Outbox", "Session", "TokenBucket"]


class TokenBucket:
    """Per-connection rate limit: `rate` frames/s with bursts up to `burst`."""

    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.tokens = float(burst)
        self.stamp = time.monotonic()

    def take(self) -> int:
        """0 if allowed, else milliseconds until a token is available."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0
        # Round up: a retry after exactly `retry_after_ms` must find a token.
        return max(1, math.ceil((1.0 - self.tokens) / self.rate * 1000))


class Outbox:
    """What the hub sees of a connection: push bytes, or kick it."""

    def __init__(self, user_id: str, token_hash: str, limit: int) -> None:
        self.id = new_id()
        self.user_id = user_id
        self.token_hash = token_hash
        self.limit = limit
        self.queue: deque[str] = deque()
        self.wake = asyncio.Event()
        self.closing: tuple[int, str] | None = None
        self.overflowed = False
        # Set by the connection: stops a writer blocked on a full socket, which
        # would otherwise never see `closing` (the peer is not reading).
        self.on_close: Callable[[], object] | None = None

    def push(self, frame: str) -> None:
        if self.closing is not None:
            return
        if len(self.queue) >= self.limit:
            self.overflowed = True
            self.kick(1013, "slow consumer: resume with SyncRequest")
            return
        self.queue.append(frame)
        self.wake.set()

    def kick(self, code: int, reason: str) -> None:
        if self.closing is None:
            self.closing = (code, reason)
            if self.on_close is not None:
                self.on_close()
        self.wake.set()


@dataclass
class Session:
    node: Node
    caller: Caller
    outbox: Outbox
    pending_sync: dict[str, int] = field(default_factory=dict)
    subscriptions: set[str] = field(default_factory=set)
