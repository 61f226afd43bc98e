"""Time, injected.

Everything that schedules or stamps takes a `Clock` so tests and benchmarks
can control time; the server uses `SystemClock`. Times are integer
milliseconds since the epoch internally and ISO 8601 UTC strings on the wire.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["Clock", "SystemClock", "iso", "parse_iso"]


class Clock(Protocol):
    def now_ms(self) -> int: ...


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_second: list[tuple[int, str]] = [(0, "1970-01-01T00:00:00.")]


def iso(ms: int) -> str:
    """Milliseconds -> `2026-11-23T11:18:36.123Z`.

    Every message and reply carries a timestamp or two, and `strftime` is
    most of the cost; the text up to the second is kept for the current one.
    """
    sec = ms // 1000
    last, prefix = _second[0]
    if sec != last:
        prefix = datetime.fromtimestamp(sec, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        _second[0] = (sec, prefix)
    return f"{prefix}{ms - sec * 1000:03d}Z"


def parse_iso(text: str) -> int:
    """ISO 8601 -> milliseconds; raises ValueError on garbage."""
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    # Integer arithmetic: `timestamp() * 1000` is a float and lost a millisecond
    # on some values (545493907476 came back as ...475).
    return (dt - _EPOCH) // timedelta(milliseconds=1)
