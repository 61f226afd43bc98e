"""One traffic run: a `Plan` (connections, rooms, senders, phases) against a `Target`.

The same plan runs unchanged against hubbub and against each peer; only the
target differs, so the figures are comparable and their ratio means
something. One run:

1. start the target's server(s) (pinned) and the load processes (pinned);
2. get a URL per connection (hubbub: register a user each), wait until the
   server is idle and read its RSS;
3. open every connection (authenticated, for hubbub), wait until the server
   counts them all and is idle again, read its RSS: the difference divided by
   the connections is the memory per idle connection;
4. create the rooms (hubbub: direct conversations and groups);
5. optionally hold the connections idle for a while and count who is still
   open (the idle-capacity scenario);
6. per phase: every sender sends from a common start time, at a fixed rate or
   as fast as its window allows; then every member waits until it has every
   acknowledged message from every sender in its room (or progress stops).
   Server CPU is read from /proc over first send -> last delivery.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.loadgen import ConnSpec, LoadGen
from bench.sysinfo import (
    Pinning,
    machine_busy_s,
    percentiles,
    proc_cpu_s,
    proc_rss_kib,
    raise_nofile,
)
from bench.targets import Target, TargetUnavailable, wait_idle
from bench.wire import PhaseSpec

__all__ = ["Phase", "PhaseResult", "Plan", "RunResult", "run"]

Log = Callable[[str], None]


@dataclass(frozen=True)
class Phase:
    label: str
    rate: float | None = None  # messages/s per sender; None = as fast as the window allows
    window: int = 32  # unacked messages per sender
    duration: float = 10.0
    messages: int | None = None  # per sender, instead of `duration`


@dataclass
class Plan:
    conns: int
    rooms: list[list[int]] = field(default_factory=list)  # connection indices per room
    senders: list[int] = field(default_factory=list)  # each sends into its (first) room
    phases: list[Phase] = field(default_factory=list)
    payload: int = 64
    hold_s: float = 0.0  # keep every connection idle this long, then count them
    rooms_first: bool = False  # create rooms before connecting (a reconnecting group)
    deflate: bool = False  # clients offer permessage-deflate, like browsers
    drain_timeout: float = 60.0
    stall_timeout: float = 5.0


@dataclass
class PhaseResult:
    label: str
    senders: int
    rate_per_sender: float | None
    window: int
    sent: int = 0  # acknowledged by the server
    send_errors: int = 0
    error_codes: dict[str, int] = field(default_factory=dict)
    expected: int = 0  # acked x (room size - 1), over every sender
    delivered: int = 0
    lost: int = 0
    late_or_duplicate: int = 0
    seq_out_of_order: int = 0
    echoed_to_sender: int = 0  # a sender's own message pushed back to its connection
    disconnects: int = 0
    close_reasons: dict[str, int] = field(default_factory=dict)
    send_s: float = 0.0  # first send -> last ack
    active_s: float = 0.0  # first send -> last delivery
    drain_s: float = 0.0  # last ack -> last delivery
    sent_per_s: float = 0.0
    delivered_per_s: float = 0.0
    latency_ms: dict[str, float] = field(default_factory=dict)  # send -> receive
    ack_ms: dict[str, float] = field(default_factory=dict)  # send -> ack
    frame_bytes: int = 0
    server_cpu_s: float = 0.0
    server_cpu_pct: float = 0.0  # of one core, busiest server process
    cpu_s_per_10k: float = 0.0  # server CPU seconds per 10,000 deliveries
    load_cpu_pct: dict[str, float] = field(default_factory=dict)
    machine_busy_cores: float = 0.0
    other_cpu_cores: float = 0.0  # neither server nor load generator (PostgreSQL, NATS...)
    commits: int = 0  # hubbub: group commits in this phase
    frames_per_write: float = 0.0  # hubbub: frames per socket write in this phase
    units_per_commit: float = 0.0
    limit: str = ""
    ok: bool = False


@dataclass
class RunResult:
    target: str
    conns: int
    pinning: str
    skipped: str = ""  # why this target did not run
    error: str = ""  # the run failed
    connect_s: float = 0.0
    connect_failures: int = 0
    connect_errors: list[str] = field(default_factory=list)
    setup_s: float = 0.0  # registering users (hubbub)
    rss_before_kib: int = 0
    rss_connected_kib: int = 0
    rss_per_conn_kib: float = 0.0
    rss_end_kib: int = 0
    held: int = 0  # connections open after the hold (client view)
    server_held: int | None = None  # the server's own count, when it has one
    hold_close_reasons: dict[str, int] = field(default_factory=dict)
    phases: list[PhaseResult] = field(default_factory=list)
    server_log_problems: list[str] = field(default_factory=list)
    server_log: str = ""  # kept (copied out of the temp dir) when something went wrong
    notes: list[str] = field(default_factory=list)  # setup oddities (retried requests)
    ok: bool = False


def _room_of(plan: Plan) -> dict[int, int]:
    room_of: dict[int, int] = {}
    for r, members in enumerate(plan.rooms):
        for i in members:
            room_of.setdefault(i, r)
    return room_of


def _expect_from(plan: Plan) -> list[tuple[int, ...]]:
    """Per connection, the senders sharing a room with it (itself excluded)."""
    senders_in: dict[int, list[int]] = {}
    room_of = _room_of(plan)
    for s in plan.senders:
        senders_in.setdefault(room_of[s], []).append(s)
    out: list[tuple[int, ...]] = [()] * plan.conns
    for r, members in enumerate(plan.rooms):
        ss = senders_in.get(r, [])
        for i in members:
            out[i] = tuple(s for s in ss if s != i)
    return out


async def run(
    target: Target, plan: Plan, pinning: Pinning, workers: int, log: Log | None = None
) -> RunResult:
    """Run `plan` against a fresh `target`; never raises for a failed run (see `error`)."""
    say: Log = log or (lambda _m: None)
    raise_nofile()  # the servers and load processes inherit it
    res = RunResult(target=target.name, conns=plan.conns, pinning=pinning.describe())
    tmp = Path(tempfile.mkdtemp(prefix="hubbub-bench-"))
    load: LoadGen | None = None
    try:
        load = LoadGen(max(1, min(workers, plan.conns)), pinning.load)  # imports meanwhile
        await target.start(pinning, tmp)
        say(f"{target.name}: server pid {', '.join(map(str, target.pids))}")
        await _run(target, plan, load, res, say)
    except TargetUnavailable as exc:
        res.skipped = str(exc)
        say(f"{target.name}: skipped: {exc}")
    except Exception as exc:
        res.error = f"{type(exc).__name__}: {exc}"
        say(f"{target.name}: run failed: {res.error}")
    finally:
        with contextlib.suppress(Exception):
            res.rss_end_kib = sum(proc_rss_kib(p) for p in target.pids)
        if load is not None:
            load.stop()
            # Let the server see every disconnect before it is told to stop, so
            # its graceful shutdown does not have thousands of them in flight.
            with contextlib.suppress(Exception):
                await wait_idle(target.pids, timeout=30)
        await target.stop()
        res.server_log_problems = target.log_problems()
        res.notes = target.notes()
        res.ok = res.ok and not res.error
        if res.server_log_problems or (not res.ok and not res.skipped):
            kept = Path(tempfile.gettempdir()) / f"{tmp.name}-{target.name.replace(' ', '_')}.log"
            with contextlib.suppress(OSError, IndexError):
                shutil.copyfile(target.servers[0].log_path, kept)
                res.server_log = str(kept)
        shutil.rmtree(tmp, ignore_errors=True)
    return res


async def _run(target: Target, plan: Plan, load: LoadGen, res: RunResult, say: Log) -> None:
    pids = target.pids
    t = time.monotonic()
    urls = await target.conn_specs(plan.conns, plan.rooms)
    res.setup_s = round(time.monotonic() - t, 2)
    expect = _expect_from(plan)
    room_ids: list[str] = []
    if plan.rooms_first and plan.rooms:
        room_ids = await target.create_rooms(plan.rooms)
    await wait_idle(pids)
    res.rss_before_kib = sum(proc_rss_kib(p) for p in pids)

    # ---- connect, spread round-robin over the load processes
    nw = len(load.pipes)
    shares: list[list[ConnSpec]] = [[] for _ in range(nw)]
    for i, (url, headers) in enumerate(urls):
        shares[i % nw].append((i, url, headers, expect[i]))
    say(f"{target.name}: connecting {plan.conns} (setup {res.setup_s:.1f}s)")
    t = time.monotonic()
    replies = await load.ask([("connect", s, target.proto, plan.deflate) for s in shares], 900)
    res.connect_s = round(time.monotonic() - t, 2)
    res.connect_failures = sum(r[1] for r in replies)
    res.connect_errors = [e for r in replies for e in r[2]][:3]
    want = plan.conns - res.connect_failures
    for _ in range(300):  # the server's own count, when it keeps one (up to 30 s)
        if (await target.open_connections()) in (None, want):
            break
        await asyncio.sleep(0.1)
    await wait_idle(pids)
    res.rss_connected_kib = sum(proc_rss_kib(p) for p in pids)
    res.rss_per_conn_kib = round((res.rss_connected_kib - res.rss_before_kib) / plan.conns, 1)
    say(
        f"{target.name}: {want}/{plan.conns} connected in {res.connect_s:.1f}s, "
        f"RSS {res.rss_before_kib} -> {res.rss_connected_kib} KiB "
        f"({res.rss_per_conn_kib:.1f} KiB per connection)"
    )
    if plan.rooms and not plan.rooms_first:
        room_ids = await target.create_rooms(plan.rooms)
        await wait_idle(pids)

    if plan.hold_s:
        await asyncio.sleep(plan.hold_s)
        statuses = await load.ask_all(("status",), 60)
        res.held = sum(s[1] for s in statuses)
        for s in statuses:
            for k, v in s[2].items():
                res.hold_close_reasons[k] = res.hold_close_reasons.get(k, 0) + v
        res.server_held = await target.open_connections()
        say(f"{target.name}: {res.held} connections held after {plan.hold_s:g}s idle")

    if plan.senders:
        room_of = _room_of(plan)
        rooms = {s: room_ids[room_of[s]] for s in plan.senders}
        await load.ask(
            [("senders", {i: r for i, r in rooms.items() if i % nw == w}) for w in range(nw)], 60
        )
    for number, phase in enumerate(plan.phases):
        pr = await _phase(target, plan, load, number, phase)
        res.phases.append(pr)
        lat = pr.latency_ms
        say(
            f"{target.name}: {phase.label}: {pr.delivered_per_s:,.0f} delivered/s, "
            f"p50/p99 {lat['p50']:.1f}/{lat['p99']:.1f} ms, lost {pr.lost}, {pr.limit}"
        )

    res.ok = (
        res.connect_failures == 0
        and all(p.ok for p in res.phases)
        and (not plan.hold_s or (res.held == plan.conns and res.server_held in (None, plan.conns)))
    )


async def _phase(
    target: Target, plan: Plan, load: LoadGen, number: int, phase: Phase
) -> PhaseResult:
    pids, nw = target.pids, len(load.pipes)
    pr = PhaseResult(phase.label, len(plan.senders), phase.rate, phase.window)
    spec = PhaseSpec(number, phase.rate, phase.window, phase.duration, phase.messages, plan.payload)
    interval = int(1e9 / phase.rate) if phase.rate else 0
    # Senders on a fixed schedule start staggered over one interval, not in lockstep.
    offsets = {s: k * interval // len(plan.senders) for k, s in enumerate(plan.senders)}
    c0 = await target.counters()
    spies = _start_spies(target, number)
    cpu0 = {p: proc_cpu_s(p) for p in [*pids, *load.pids]}
    busy0, wall0 = machine_busy_s(), time.monotonic()
    start_ns = time.monotonic_ns() + 150_000_000  # every load process starts together
    timeout = phase.duration + 120 if phase.messages is None else 600
    msgs = [
        ("phase", spec, start_ns, {s: o for s, o in offsets.items() if s % nw == w})
        for w in range(nw)
    ]
    sent = await load.ask(msgs, timeout)
    acked: dict[int, int] = {}
    for _tag, per_sender, errors, _first, _last, _lat in sent:
        acked.update(per_sender)
        for k, v in errors.items():
            pr.error_codes[k] = pr.error_codes.get(k, 0) + v
    results = await load.ask_all(
        ("expect", acked, plan.drain_timeout, plan.stall_timeout), plan.drain_timeout + 60
    )
    cpu = {p: proc_cpu_s(p) - cpu0[p] for p in cpu0}
    busy, busy_wall = machine_busy_s() - busy0, time.monotonic() - wall0
    _stop_spies(spies)
    c1 = await target.counters()

    room_of = _room_of(plan)
    pr.sent = sum(acked.values())
    pr.send_errors = sum(pr.error_codes.values())
    pr.expected = sum(n * (len(plan.rooms[room_of[s]]) - 1) for s, n in acked.items())
    summaries = [r[1] for r in results]
    pr.delivered = sum(int(s["delivered"]) for s in summaries)
    pr.lost = sum(int(s["lost"]) for s in summaries)
    pr.late_or_duplicate = sum(int(s["late"]) for s in summaries)
    pr.seq_out_of_order = sum(int(s["seq_ooo"]) for s in summaries)
    pr.echoed_to_sender = sum(int(s["echoes"]) for s in summaries)
    for s in summaries:
        for k, v in s["closes"].items():
            pr.close_reasons[k] = pr.close_reasons.get(k, 0) + v
    pr.disconnects = sum(pr.close_reasons.values())
    pr.frame_bytes = max(int(s["frame_bytes"]) for s in summaries)
    firsts = [r[3] for r in sent if r[3]]
    first_ns = min(firsts) if firsts else start_ns
    last_ack = max(r[4] for r in sent) or first_ns
    last_delivery = max(int(s["last_ns"]) for s in summaries) or last_ack
    pr.send_s = round((last_ack - first_ns) / 1e9, 3)
    pr.active_s = round((max(last_ack, last_delivery) - first_ns) / 1e9, 3)
    pr.drain_s = round(max(0, last_delivery - last_ack) / 1e9, 3)
    pr.sent_per_s = round(pr.sent / (pr.send_s or 1e-9), 1)
    pr.delivered_per_s = round(pr.delivered / (pr.active_s or 1e-9), 1)
    pr.latency_ms = percentiles(_merge(s["lat"] for s in summaries), 1e6)
    pr.ack_ms = percentiles(_merge(r[5] for r in sent), 1e6)

    wall = pr.active_s or 1e-9
    server_cpu = sum(cpu[p] for p in pids)
    pr.server_cpu_s = round(server_cpu, 2)
    pr.server_cpu_pct = round(100 * max((cpu[p] for p in pids), default=0.0) / wall, 1)
    pr.cpu_s_per_10k = round(server_cpu / pr.delivered * 10_000, 4) if pr.delivered else 0.0
    load_cpu = {f"load{w}": cpu[p] for w, p in enumerate(load.pids)}
    pr.load_cpu_pct = {k: round(100 * v / wall, 1) for k, v in load_cpu.items()}
    # Over the whole measured window (start delay and drain included), not `wall`.
    pr.machine_busy_cores = round(busy / busy_wall, 2)
    others = busy - server_cpu - sum(load_cpu.values())
    pr.other_cpu_cores = round(max(0.0, others) / busy_wall, 2)
    commits = c1.get("hubbub_store_commit_batch_count", 0.0) - c0.get(
        "hubbub_store_commit_batch_count", 0.0
    )
    units = c1.get("hubbub_store_commit_batch_sum", 0.0) - c0.get(
        "hubbub_store_commit_batch_sum", 0.0
    )
    pr.commits = int(commits)
    pr.units_per_commit = round(units / commits, 2) if commits else 0.0
    writes = c1.get("hubbub_ws_socket_writes_total", 0.0) - c0.get(
        "hubbub_ws_socket_writes_total", 0.0
    )
    frames = c1.get("hubbub_ws_frames_out_total", 0.0) - c0.get("hubbub_ws_frames_out_total", 0.0)
    pr.frames_per_write = round(frames / writes, 2) if writes else 0.0
    pr.limit = limit(pr)
    pr.ok = (
        pr.lost == 0
        and pr.late_or_duplicate == 0
        and pr.seq_out_of_order == 0
        and pr.send_errors == 0
        and pr.disconnects == 0
        and pr.delivered == pr.expected
    )
    return pr


def _start_spies(target: Target, number: int) -> list[subprocess.Popen[bytes]]:
    """py-spy on every server process for one phase, when HUBBUB_BENCH_PYSPY names a dir."""
    where = os.environ.get("HUBBUB_BENCH_PYSPY")
    if not where:
        return []
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    out: list[subprocess.Popen[bytes]] = []
    for pid in target.pids:
        path = Path(where) / f"{target.name.replace(' ', '_')}-{pid}-phase{number}.txt"
        argv = [exe, "record", "--pid", str(pid), "--format", "raw", "-o", str(path)]
        out.append(subprocess.Popen([*argv, "--nonblocking", "--rate", "200"]))
    return out


def _stop_spies(spies: list[subprocess.Popen[bytes]]) -> None:
    for spy in spies:
        spy.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
    for spy in spies:
        with contextlib.suppress(subprocess.TimeoutExpired):
            spy.wait(30)


def _merge(chunks: Any) -> array[int]:
    out: array[int] = array("q")
    for raw in chunks:
        out.frombytes(raw)
    return out


def limit(pr: PhaseResult) -> str:
    """What ran out first, from CPU shares over the active window."""
    load = max(pr.load_cpu_pct.values(), default=0.0)
    ncpu = os.cpu_count() or 1
    if pr.server_cpu_pct >= 85:
        return f"server CPU ({pr.server_cpu_pct:.0f}%)"
    if load >= 85:
        return f"load generator CPU ({load:.0f}%)"
    if pr.machine_busy_cores >= 0.9 * ncpu:
        return (
            f"machine ({pr.machine_busy_cores:.1f}/{ncpu} cores, {pr.other_cpu_cores:.1f} not ours)"
        )
    what = "fixed rate" if pr.rate_per_sender else "window"
    return f"{what} (server {pr.server_cpu_pct:.0f}%, load {load:.0f}%)"
