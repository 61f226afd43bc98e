"""W3C trace context (https://www.w3.org/TR/trace-context/): `traceparent`.

A request that carries a valid `traceparent` (a header on the upgrade, or a
field of the frame) continues that trace; any other gets a new one, so every
chat event (spec 004) has a `traceId` and a `spanContext`, and an event
re-published after a crash carries the same ones (they are stored with the
message).
"""

from __future__ import annotations

import os
import re

__all__ = ["new_traceparent", "trace_id_of", "traceparent_or_new", "valid_traceparent"]

_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


def valid_traceparent(value: str | None) -> str | None:
    """`value` if it is a usable version-00-style traceparent, else None."""
    if not value or len(value) > 64:
        return None
    m = _TRACEPARENT.match(value.strip().lower())
    if m is None or m.group(1) == "ff":
        return None
    if m.group(2) == "0" * 32 or m.group(3) == "0" * 16:
        return None  # all-zero ids are invalid by the spec
    return m.group(0)


def new_traceparent() -> str:
    """A fresh W3C traceparent; made for every message sent without one, so one
    `os.urandom` read for both ids (`secrets.token_hex` twice is 6 calls more)."""
    ids = os.urandom(24).hex()
    return f"00-{ids[:32]}-{ids[32:]}-01"


def traceparent_or_new(value: str | None) -> str:
    return valid_traceparent(value) or new_traceparent()


def trace_id_of(traceparent: str) -> str:
    return traceparent.split("-")[1]
