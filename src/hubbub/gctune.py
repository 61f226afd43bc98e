"""The cyclic garbage collector, tuned for a process that holds many connections.

A full collection walks every tracked object, and a node holding thousands of
connections has hundreds of thousands (each connection's protocol objects,
parser, tasks and session). With CPython's default thresholds (700, 10, 10)
every object alive across two young collections, a millisecond or two at a
few thousand messages per second (any message waiting for its commit), is
promoted to the oldest generation, and those promotions trigger full
collections: with 2,000 DM connections the profile showed 23 full collections
in 30 s, up to 418 ms each, 6.4 s in all, stalling every connection at once
(docs/performance.md). With a young threshold of 50,000 allocations almost
every per-message object dies before its first collection, so little is
promoted; full collections become rare rather than disabled, and cycles
that outlive the young generations are still reclaimed.

What start-up built (modules, tables, compiled statements) lives as long as
the process: `gc.freeze()` takes it out of every later collection.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

__all__ = ["parse_thresholds", "tune", "watch_pauses"]

DEFAULT = "50000,20,100"


def parse_thresholds(text: str) -> tuple[int, int, int]:
    parts = [int(p) for p in text.replace(" ", "").split(",")]
    if len(parts) != 3 or parts[0] < 1 or parts[1] < 1 or parts[2] < 1:
        raise ValueError(f"gc thresholds must be three positive integers, got {text!r}")
    return parts[0], parts[1], parts[2]


def tune(thresholds: tuple[int, int, int]) -> None:
    gc.freeze()
    gc.set_threshold(*thresholds)


def watch_pauses(observe: Callable[[int, float], None]) -> Callable[[str, dict[str, Any]], None]:
    """Report each collection's generation and pause (seconds) to `observe`."""
    started = [0.0]

    def callback(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            observe(int(info["generation"]), time.perf_counter() - started[0])

    gc.callbacks.append(callback)
    return callback
