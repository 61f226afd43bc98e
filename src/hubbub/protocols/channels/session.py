"""Per-connection state of a `/ws` client: rate limit, outbox, open syncs.

The outbox (`realtime/outbox.py`) is the bounded FIFO that replies and pushed
events share.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hubbub.core.context import Caller
from hubbub.realtime.outbox import Outbox

if TYPE_CHECKING:
    from hubbub.runtime import Node

__all__ = ["Session", "TokenBucket"]


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


@dataclass
class Session:
    node: Node
    caller: Caller
    outbox: Outbox
    pending_sync: dict[str, int] = field(default_factory=dict)
    subscriptions: set[str] = field(default_factory=set)
