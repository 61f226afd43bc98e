"""Identifiers.

Ids are UUIDv7 strings (RFC 9562): 48 bits of Unix milliseconds, then 74
random bits. The random part keeps them unguessable (knowing one id proves
nothing about another) and never reused. The time prefix makes them sort by
creation, so a batch of new messages lands at the right edge of every index
keyed by id instead of on hundreds of random pages: with random UUID4 keys a
256-message commit dirtied ~2 MB of index pages and SQLite's insert rate fell
by half as the table grew (docs/performance.md). What the prefix reveals, the
creation time to the millisecond, is already in every message's `timestamp`.
`NewType`s keep user, conversation and message ids apart in signatures.
"""

from __future__ import annotations

import os
import time
from typing import NewType

__all__ = ["ConversationId", "MessageId", "UserId", "new_id", "plausible_id"]

UserId = NewType("UserId", str)
ConversationId = NewType("ConversationId", str)
MessageId = NewType("MessageId", str)


_VARIANT_VERSION = (0x7 << 76) | (0b10 << 62)
_RANDOM = (0xFFF << 64) | ((1 << 62) - 1)  # rand_a (12 bits) and rand_b (62 bits)


def new_id() -> str:
    ms = time.time_ns() // 1_000_000
    r = int.from_bytes(os.urandom(10), "big")
    v = (ms << 80) | _VARIANT_VERSION | (r & _RANDOM)
    h = f"{v:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def plausible_id(value: str) -> bool:
    """False for what cannot be an id (far too long, or holding NUL, which no query
    should carry): such a value is answered like an unknown id, without a lookup."""
    return 0 < len(value) <= 64 and "\x00" not in value
