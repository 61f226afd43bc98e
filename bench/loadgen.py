"""Load-generator processes: they hold the connections and do all the sending.

The parent (the harness) only orchestrates; every connection, sender and
receiver lives in a worker process pinned to the load cores, so the parent's
own bookkeeping never competes with the measured traffic. A worker follows
orders from a pipe:

    connect  -> open these connections (url, headers, who they expect from)
    senders  -> these connections send into these rooms
    phase    -> reset the counters, send for one phase from a common start time
    expect   -> the senders' ack counts: wait until every member has them all
    status   -> how many connections are still open
    exit
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import os
import signal
import time
from array import array
from collections.abc import Coroutine, Sequence
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from bench.sysinfo import raise_nofile
from bench.wire import Conn, PhaseSpec, Proto, Sender, connect_all

__all__ = ["ConnSpec", "LoadGen", "uvloop_run"]

T = TypeVar("T")
# (connection index, url, headers, senders it should hear from)
ConnSpec = tuple[int, str, dict[str, str], tuple[int, ...]]


def uvloop_run(coro: Coroutine[Any, Any, T]) -> T:
    """The load generator runs on uvloop, as the issue asks (asyncio if missing)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on POSIX
        return asyncio.run(coro)
    return uvloop.run(coro)


# --------------------------------------------------------------------------- worker side
def worker_main(pipe: Connection, cores: frozenset[int] | None) -> None:
    """Entry point of a load process: pin, raise the fd limit, obey the pipe."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent cleans up on Ctrl-C
    if cores is not None:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, cores)
    raise_nofile()
    uvloop_run(_Worker(pipe).serve())


class _Worker:
    def __init__(self, pipe: Connection) -> None:
        self.pipe = pipe
        self.conns: list[Conn] = []
        self.senders: dict[int, Sender] = {}
        self.readers: set[asyncio.Task[None]] = set()
        self.lat: array[int] = array("q")
        self.ack_lat: array[int] = array("q")
        self.deflate = False

    async def serve(self) -> None:
        try:
            while True:
                msg = await asyncio.to_thread(self.pipe.recv)
                cmd = msg[0]
                if cmd == "exit":
                    return
                reply = await getattr(self, "do_" + cmd)(*msg[1:])
                self.pipe.send(reply)
        except EOFError:  # the parent went away
            return
        finally:
            for c in self.conns:
                if c.ws is not None:
                    c.ws.transport.abort()
            for task in self.readers:
                task.cancel()
            await asyncio.gather(*self.readers, return_exceptions=True)

    async def do_connect(self, specs: Sequence[ConnSpec], proto: Proto, deflate: bool) -> Any:
        t = time.monotonic()
        new = [Conn(i, url, hdrs, proto, exp, self.lat) for i, url, hdrs, exp in specs]
        self.conns += new
        errors = await connect_all(new, deflate, self.readers)
        return ("connected", len(errors), errors[:3], time.monotonic() - t)

    async def do_senders(self, rooms: dict[int, str]) -> Any:
        for c in self.conns:
            if c.idx in rooms:
                self.senders[c.idx] = Sender(c, rooms[c.idx], self.ack_lat)
        return ("senders", len(self.senders))

    async def do_phase(self, phase: PhaseSpec, start_ns: int, offsets: dict[int, int]) -> Any:
        self.lat, self.ack_lat = array("q"), array("q")
        for c in self.conns:
            c.reset(self.lat)
        for s in self.senders.values():
            s.ack_lat = self.ack_lat
        await asyncio.gather(
            *(s.run(phase, start_ns, offsets.get(i, 0)) for i, s in self.senders.items())
        )
        errors: dict[str, int] = {}
        for s in self.senders.values():
            for k, v in s.errors.items():
                errors[k] = errors.get(k, 0) + v
        firsts = [s.first_ns for s in self.senders.values() if s.first_ns]
        return (
            "sent",
            {i: s.acked for i, s in self.senders.items()},
            errors,
            min(firsts) if firsts else 0,
            max((s.last_ack_ns for s in self.senders.values()), default=0),
            self.ack_lat.tobytes(),
        )

    async def do_expect(self, acked: dict[int, int], timeout: float, stall: float) -> Any:
        members = [c for c in self.conns if c.expect_from]
        await _drain(members, acked, timeout, stall)
        closes: dict[str, int] = {}
        for c in self.conns:
            if c.closed is not None:
                closes[c.closed] = closes.get(c.closed, 0) + 1
        return (
            "result",
            {
                "delivered": sum(c.received for c in self.conns),
                "lost": sum(c.lost(acked) for c in members),
                "late": sum(c.late for c in self.conns),
                "seq_ooo": sum(c.seq_ooo for c in self.conns),
                "echoes": sum(c.echoes for c in self.conns),
                "closes": closes,
                "last_ns": max((c.last_ns for c in self.conns), default=0),
                "frame_bytes": max((c.frame_bytes for c in self.conns), default=0),
                "lat": self.lat.tobytes(),
            },
        )

    async def do_status(self) -> Any:
        closes: dict[str, int] = {}
        for c in self.conns:
            if c.closed is not None:
                closes[c.closed] = closes.get(c.closed, 0) + 1
        return ("status", sum(c.closed is None for c in self.conns), closes)


async def _drain(
    members: Sequence[Conn], acked: dict[int, int], timeout: float, stall: float
) -> None:
    """Until every member has every acked message, or nothing arrives for `stall` s."""
    deadline = time.monotonic() + timeout
    last_total, last_change = -1, time.monotonic()
    while time.monotonic() < deadline:
        if all(c.done(acked) for c in members):
            return
        total = sum(c.received for c in members)
        if total != last_total:
            last_total, last_change = total, time.monotonic()
        elif time.monotonic() - last_change > stall:
            return
        await asyncio.sleep(0.01)


# --------------------------------------------------------------------------- parent side
class LoadGen:
    """The worker processes and their pipes, seen from the harness."""

    def __init__(self, n: int, cores: frozenset[int] | None) -> None:
        ctx = mp.get_context("spawn")
        self.pipes: list[Connection] = []
        self.procs: list[mp.process.BaseProcess] = []
        for _ in range(n):
            parent, child = ctx.Pipe()
            p = ctx.Process(target=worker_main, args=(child, cores), daemon=True)
            p.start()
            child.close()
            self.pipes.append(parent)
            self.procs.append(p)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs if p.pid is not None]

    async def ask(self, msgs: Sequence[Any], timeout: float) -> list[Any]:
        """Send msgs[i] to worker i and wait for every answer."""

        async def one(pipe: Connection, msg: Any) -> Any:
            pipe.send(msg)
            if not await asyncio.to_thread(pipe.poll, timeout):
                raise RuntimeError(f"a load process did not answer {msg[0]!r} in {timeout:g}s")
            try:
                return pipe.recv()
            except EOFError:
                raise RuntimeError(f"a load process died during {msg[0]!r}") from None

        return list(
            await asyncio.gather(*(one(p, m) for p, m in zip(self.pipes, msgs, strict=True)))
        )

    async def ask_all(self, msg: Any, timeout: float) -> list[Any]:
        return await self.ask([msg] * len(self.pipes), timeout)

    def stop(self) -> None:
        for pipe in self.pipes:
            with contextlib.suppress(OSError):
                pipe.send(("exit",))
        for p in self.procs:
            p.join(10)
            if p.is_alive():
                p.kill()
                p.join(5)
        for pipe in self.pipes:
            pipe.close()
