"""The flusher: one socket write per connection per flush, and a rest after a long one."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from hubbub.realtime.outbox import MAX_REST_S, Flusher, Out, Outbox


class SlowWire:
    """A transport that takes `cost_s` of CPU per write, as a big fan-out's writes do."""

    def __init__(self, cost_s: float) -> None:
        self.writable = asyncio.Event()
        self.writable.set()
        self.cost_s = cost_s
        self.writes: list[list[bytes]] = []

    def open(self) -> bool:
        return True

    def write_frames(self, outs: Sequence[Out]) -> None:
        self.writes.append([o.payload for o in outs])
        end = time.monotonic() + self.cost_s
        while time.monotonic() < end:
            pass


async def until(check: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0)


def outbox(flusher: Flusher, wire: SlowWire) -> Outbox:
    return Outbox("u", "t", 1024, flusher, wire)


async def test_frames_of_one_turn_share_one_write() -> None:
    wire = SlowWire(0.0)
    box = outbox(Flusher(), wire)
    for p in (b"a", b"b", b"c"):
        box.push(Out(p))
    await until(lambda: wire.writes)
    assert wire.writes == [[b"a", b"b", b"c"]]


async def test_after_a_long_flush_frames_wait_and_then_go_out_together_in_order() -> None:
    wire = SlowWire(MAX_REST_S)  # longer than the 1 ms that earns a rest
    box = outbox(Flusher(), wire)
    box.push(Out(b"first"))
    await until(lambda: wire.writes)
    box.push(Out(b"second"))
    box.push(Out(b"third"))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert wire.writes == [[b"first"]]  # resting: not written at the end of the turn
    await until(lambda: len(wire.writes) == 2)
    assert wire.writes[1] == [b"second", b"third"]
    assert not box.queue


async def test_a_short_flush_earns_no_rest() -> None:
    wire = SlowWire(0.0)
    box = outbox(Flusher(busy_s=1.0), wire)
    box.push(Out(b"1"))
    await until(lambda: len(wire.writes) == 1)
    box.push(Out(b"2"))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert wire.writes == [[b"1"], [b"2"]]
