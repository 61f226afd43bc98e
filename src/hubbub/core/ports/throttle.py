"""Counters of failed sign-ins and of registrations, shared by every node."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

__all__ = ["Counter", "Step", "ThrottleStore"]

R = TypeVar("R")


@dataclass(slots=True)
class Counter:
    count: int
    next_at: int  # no attempt before this (ms); registrations: the window's start
    locked_until: int  # locked out until this (ms); known addresses: valid until
    updated_at: int


Step = Callable[[dict[str, Counter]], tuple[dict[str, Counter | None], R]]
"""Given the current counters of some keys (absent = none), the counters to
write (None = delete) and a result."""


class ThrottleStore(Protocol):
    async def update_counters(self, keys: list[str], step: Step[R]) -> R:
        """Run `step` atomically across the cluster: no other update of these
        keys interleaves between its read and its write."""
        ...

    async def forget_counters(self, idle_before: int, now: int) -> int:
        """Delete counters idle since `idle_before` that hold no lock; how many."""
        ...
