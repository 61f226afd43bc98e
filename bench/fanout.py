"""Fan-out benchmark: one group, N connected members, S senders.

    python -m bench.fanout [--members N] [--senders S] [--rate R | --max]
                           [--duration SECONDS] [--messages M]
                           [--db sqlite|postgres|both] [--workers W] [--json]

It starts its own `hubbub serve` process (SQLite in a temp dir, or a fresh
PostgreSQL database `hubbub_bench_<random>` that is dropped afterwards),
registers N users, connects them all, creates one group with every member,
then S of the members send plaintext messages, either at a fixed rate per
sender or as fast as acks allow (a bounded window of unacked sends each).
The other members are spread over W receiver processes, so the load generator
is not one Python process; the senders run in this (the parent) process.

Every message carries its send time (`time.monotonic_ns()`, CLOCK_MONOTONIC,
which is the same clock in every process on Linux), so receivers measure
send-to-receive latency. Every member counts what it got from each sender;
the run ends with a count check (`lost`), and a benchmark that loses a
message says so loudly. See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import re
import secrets
import shutil
import signal
import sys
import tempfile
import time
from array import array
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeVar

import httpx
import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

__all__ = ["Config", "Result", "main", "run"]

PG_ADMIN_URL = os.environ.get("HUBBUB_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
CLK_TCK = os.sysconf("SC_CLK_TCK")
T = TypeVar("T")

# Per-connection limits raised for the benchmark (server-wide env vars): the
# defaults (50 frames/s, burst 200) would rate-limit a sender running --max,
# and a queue of 1024 frames would cut receivers that lag behind a burst.
BENCH_SERVER_ENV = {
    "HUBBUB_RATE_PER_SECOND": "1000000",
    "HUBBUB_RATE_BURST": "1000000",
    "HUBBUB_SEND_QUEUE_LIMIT": "1000000",
}
FAST_ARGON = {"HUBBUB_ARGON2_TIME_COST": "1", "HUBBUB_ARGON2_MEMORY_KIB": "8192"}


# --------------------------------------------------------------------------- config / result
@dataclass
class Config:
    members: int = 200
    senders: int = 2
    rate: float | None = None  # messages/s per sender; None = as fast as acks allow
    duration: float = 10.0  # seconds of sending (ignored when `messages` is set)
    messages: int | None = None  # messages per sender
    db: str = "sqlite"  # sqlite | postgres
    workers: int = 2  # receiver processes
    window: int = 32  # unacked sends per sender
    payload: int = 64  # characters of message content
    deflate: bool = False  # offer permessage-deflate like a browser does
    connect_after_group: bool = False  # connect members after the group exists
    default_limits: bool = False  # keep the server's default rate/queue limits
    drain_timeout: float = 30.0  # max seconds to wait for deliveries after the last ack
    stall_timeout: float = 5.0  # give up draining after this long without progress
    pg_admin_url: str = PG_ADMIN_URL
    nodes: int = 1  # >1: that many servers on PostgreSQL + NATS, members spread over them
    nats_url: str = "nats://127.0.0.1:4222"


@dataclass
class Result:
    db: str
    members: int
    senders: int
    receivers_processes: int
    mode: str  # "max" or "rate"
    rate_per_sender: float | None
    window: int
    deflate: bool
    server_env: dict[str, str]
    # counts
    nodes: int = 1
    sent: int = 0  # acked (ChatMessageAccepted)
    send_errors: int = 0
    error_codes: dict[str, int] = field(default_factory=dict)
    expected: int = 0  # sent * (members - 1)
    delivered: int = 0  # ChatMessageReceived frames, all members
    lost: int = 0
    late_or_duplicate: int = 0
    seq_out_of_order: int = 0
    disconnects: int = 0
    close_reasons: dict[str, int] = field(default_factory=dict)
    frame_bytes: int = 0  # size of one ChatMessageReceived frame as received
    # time
    commits: int = 0  # group commits during the send phase (server metric)
    units_per_commit: float = 0.0  # writes per commit (server metric)
    slow_consumer_kicks: int = 0  # server metric
    connect_s: float = 0.0
    connect_failures: int = 0
    connect_errors: list[str] = field(default_factory=list)
    send_s: float = 0.0  # first send -> last ack
    active_s: float = 0.0  # first send -> last delivery
    drain_s: float = 0.0  # last ack -> last delivery
    sent_per_s: float = 0.0
    delivered_per_s: float = 0.0
    latency_ms: dict[str, float] = field(default_factory=dict)  # send -> receive
    ack_ms: dict[str, float] = field(default_factory=dict)  # send -> ack
    # memory
    rss_before_kib: int = 0
    rss_connected_kib: int = 0
    rss_per_conn_kib: float = 0.0
    rss_end_kib: int = 0
    # cpu, over the active window
    server_cpu_s: float = 0.0
    server_loop_cpu_s: float = 0.0  # the event-loop (main) thread alone
    server_cpu_pct: float = 0.0
    server_loop_cpu_pct: float = 0.0
    cpu_s_per_10k: float = 0.0  # server CPU seconds per 10,000 deliveries
    load_cpu_s: float = 0.0
    load_cpu_pct: dict[str, float] = field(default_factory=dict)
    machine_busy_cores: float = 0.0
    postgres_cpu_s: float = 0.0  # all processes named `postgres` on the machine
    other_cpu_s: float = 0.0  # neither server, load generator nor PostgreSQL
    background_cores: float = 0.0  # busy cores not ours, measured for 1 s before sending
    ncpu: int = 0
    saturated: str = ""
    server_log_problems: list[str] = field(default_factory=list)
    server_log: str = ""  # kept (copied out of the temp dir) when something went wrong
    server_source: str = ""  # where the server's `hubbub` package came from, and its commit
    ok: bool = False


# --------------------------------------------------------------------------- /proc readings
def proc_cpu_s(pid: int, tid: int | None = None) -> float:
    """utime + stime of a process (or one of its threads), in seconds."""
    path = f"/proc/{pid}/task/{tid}/stat" if tid is not None else f"/proc/{pid}/stat"
    try:
        text = Path(path).read_text()
    except OSError:
        return 0.0
    fields_ = text.rsplit(")", 1)[1].split()
    return (int(fields_[11]) + int(fields_[12])) / CLK_TCK


def proc_rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def machine_busy_s() -> float:
    """CPU seconds all cores spent not idle since boot."""
    vals = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = vals[3] + (vals[4] if len(vals) > 4 else 0)
    return (sum(vals[:8]) - idle) / CLK_TCK


def postgres_cpu_s() -> float:
    """CPU seconds of every `postgres` process (the backends serving the server)."""
    total = 0.0
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                text = (d / "stat").read_text()
                if text.split("(", 1)[1].startswith("postgres)"):
                    total += proc_cpu_s(int(d.name))
    return total


def server_source() -> str:
    """The `hubbub` package `python -m hubbub` would import, with its git commit."""
    import subprocess

    try:
        where = subprocess.run(
            [sys.executable, "-c", "import hubbub, os; print(os.path.dirname(hubbub.__file__))"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout.strip()
        git = ["git", "-C", where]
        head = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10
        )
        if head.returncode != 0:
            return where
        dirty = subprocess.run(
            [*git, "status", "--porcelain", "."], capture_output=True, text=True, timeout=10
        ).stdout.strip()
        return f"{where} @ {head.stdout.strip()}{' + uncommitted changes' if dirty else ''}"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"


def percentiles(values: Sequence[int], scale: float) -> dict[str, float]:
    if not values:
        return {"p50": 0.0, "p99": 0.0, "max": 0.0}
    s = sorted(values)
    n = len(s)

    def at(q: float) -> float:
        return round(s[min(n - 1, int(q * n))] / scale, 3)

    return {"p50": at(0.50), "p99": at(0.99), "max": round(s[-1] / scale, 3)}


# --------------------------------------------------------------------------- wire
class _Envelope(msgspec.Struct):
    type: str = ""
    ref: str | None = None
    seq: int | None = None
    data: msgspec.Raw = msgspec.Raw()


class _ChatData(msgspec.Struct):
    content: str


class _ErrorData(msgspec.Struct):
    code: str = "?"


_env = msgspec.json.Decoder(_Envelope)
_chat = msgspec.json.Decoder(_ChatData)
_err = msgspec.json.Decoder(_ErrorData)
_encode = msgspec.json.Encoder().encode


class Member:
    """One member connection's view: counts per sender, latencies, order checks."""

    def __init__(self, user_id: str, token: str, nsenders: int, lat: array[int]) -> None:
        self.user_id = user_id
        self.token = token
        self.ws: ClientConnection | None = None
        self.last = [-1] * nsenders  # highest message number seen per sender
        self.advancing = [0] * nsenders  # arrivals that advanced `last`
        self.received = 0
        self.late = 0  # n <= last: a duplicate or a reordered message
        self.seq_ooo = 0
        self.last_seq = 0
        self.lat = lat
        self.first_ns = 0
        self.last_ns = 0
        self.frame_bytes = 0
        self.closed: str | None = None
        self.authenticated = asyncio.Event()
        self.on_reply: Callable[[_Envelope, int], None] | None = None
        self.on_closed: Callable[[], None] | None = None

    async def open(self, url: str, deflate: bool) -> None:
        self.ws = await connect(
            url,
            additional_headers={
                "Authorization": f"Bearer {self.token}",
                "X-Device-Id": "bench-" + self.user_id[-8:],
            },
            compression="deflate" if deflate else None,
            max_size=None,
            max_queue=None,
            ping_interval=None,
            open_timeout=60,
            close_timeout=1,
        )

    async def read(self) -> None:
        assert self.ws is not None
        ws, on_frame = self.ws, self.on_frame
        try:
            while True:
                raw = await ws.recv(decode=False)
                on_frame(raw)
        except ConnectionClosed as exc:
            rcvd = exc.rcvd
            self.closed = f"{rcvd.code} {rcvd.reason}" if rcvd else "no close frame"
        except Exception as exc:  # keep counting what we have; report the cause
            self.closed = f"client error {type(exc).__name__}: {exc}"
        finally:
            self.authenticated.set()
            if self.on_closed is not None:
                self.on_closed()

    def on_frame(self, raw: bytes) -> None:
        now = time.monotonic_ns()
        env = _env.decode(raw)
        kind = env.type
        if kind == "ChatMessageReceived":
            content = _chat.decode(env.data).content
            sender_s, n_s, sent_s, _pad = content.split(":", 3)
            sender, n = int(sender_s), int(n_s)
            self.lat.append(now - int(sent_s))
            self.received += 1
            if n > self.last[sender]:
                self.last[sender] = n
                self.advancing[sender] += 1
            else:
                self.late += 1
            if env.seq is not None:
                if env.seq <= self.last_seq:
                    self.seq_ooo += 1
                self.last_seq = env.seq
            if not self.first_ns:
                self.first_ns = now
                self.frame_bytes = len(raw)
            self.last_ns = now
        elif env.ref is not None and self.on_reply is not None:
            self.on_reply(env, now)
        elif kind == "Authenticated":
            self.authenticated.set()

    def lost(self, expected: Sequence[int], own: int | None) -> int:
        return sum(
            max(0, exp - got)
            for i, (exp, got) in enumerate(zip(expected, self.advancing, strict=True))
            if i != own
        )

    def done(self, expected: Sequence[int], own: int | None) -> bool:
        return self.closed is not None or self.lost(expected, own) == 0


async def bounded(n: int, coros: Sequence[Awaitable[T]]) -> list[T | BaseException]:
    sem = asyncio.Semaphore(n)

    async def one(c: Awaitable[T]) -> T:
        async with sem:
            return await c

    return await asyncio.gather(*(one(c) for c in coros), return_exceptions=True)


async def connect_all(members: Sequence[Member], url: str, deflate: bool) -> list[str]:
    """Connect and wait for `Authenticated`; returns the failures (those count as lost)."""

    async def one(m: Member) -> None:
        try:
            await m.open(url, deflate)
            task = asyncio.get_running_loop().create_task(m.read())
            _readers.add(task)
            await asyncio.wait_for(m.authenticated.wait(), 60)
        except Exception as exc:
            m.closed = m.closed or f"connect failed: {type(exc).__name__} {exc}"
            raise
        if m.closed is not None:
            raise RuntimeError(f"closed before Authenticated: {m.closed}")

    results = await bounded(64, [one(m) for m in members])
    return [repr(r) for r in results if isinstance(r, BaseException)]


_readers: set[asyncio.Task[None]] = set()


async def close_all(members: Sequence[Member]) -> None:
    for m in members:
        if m.ws is not None:
            m.ws.transport.abort()
    for task in list(_readers):
        task.cancel()
    await asyncio.gather(*_readers, return_exceptions=True)
    _readers.clear()


async def drain(
    members: Sequence[Member],
    expected: Sequence[int],
    own: Sequence[int | None],
    timeout: float,
    stall: float,
) -> None:
    """Wait until every member got every expected message, or progress stops."""
    deadline = time.monotonic() + timeout
    last_total, last_change = -1, time.monotonic()
    while time.monotonic() < deadline:
        if all(m.done(expected, o) for m, o in zip(members, own, strict=True)):
            return
        total = sum(m.received for m in members)
        if total != last_total:
            last_total, last_change = total, time.monotonic()
        elif time.monotonic() - last_change > stall:
            return
        await asyncio.sleep(0.01)


def summarize(
    members: Sequence[Member], expected: Sequence[int], own: Sequence[int | None]
) -> dict[str, Any]:
    closes: dict[str, int] = {}
    for m in members:
        if m.closed is not None:
            closes[m.closed] = closes.get(m.closed, 0) + 1
    firsts = [m.first_ns for m in members if m.first_ns]
    return {
        "delivered": sum(m.received for m in members),
        "lost": sum(m.lost(expected, o) for m, o in zip(members, own, strict=True)),
        "late": sum(m.late for m in members),
        "seq_ooo": sum(m.seq_ooo for m in members),
        "closes": closes,
        "first_ns": min(firsts) if firsts else 0,
        "last_ns": max((m.last_ns for m in members), default=0),
        "frame_bytes": max((m.frame_bytes for m in members), default=0),
    }


# --------------------------------------------------------------------------- receiver process
def _uvloop_run(coro: Coroutine[Any, Any, T]) -> T:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on POSIX
        return asyncio.run(coro)
    return uvloop.run(coro)


def receiver_main(pipe: Connection) -> None:
    """Entry point of a receiver process: it only follows the parent's orders."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent cleans up on Ctrl-C
    _uvloop_run(_receiver(pipe))


async def _receiver(pipe: Connection) -> None:
    msg = await asyncio.to_thread(pipe.recv)
    if msg[0] != "connect":
        return
    _cmd, url, creds, nsenders, deflate = msg
    lat: array[int] = array("q")
    members = [Member(uid, tok, nsenders, lat) for uid, tok in creds]
    t = time.monotonic()
    errors = await connect_all(members, url, deflate)
    pipe.send(("connected", len(members) - len(errors), errors, time.monotonic() - t))
    try:
        cmd, expected, timeout, stall = await asyncio.to_thread(pipe.recv)
        if cmd != "expect":
            return
        own = [None] * len(members)
        await drain(members, expected, own, timeout, stall)
        summary = summarize(members, expected, own)
        summary["lat"] = lat.tobytes()
        summary["cpu_s"] = proc_cpu_s(os.getpid())
        pipe.send(("result", summary))
        await asyncio.to_thread(pipe.recv)  # "exit"
    finally:
        await close_all(members)


# --------------------------------------------------------------------------- server process
class Server:
    def __init__(self, data_dir: Path, database_url: str, env: dict[str, str]) -> None:
        self.data_dir = data_dir
        self.database_url = database_url
        self.env = env
        self.log_path = data_dir / "server.log"
        self.proc: asyncio.subprocess.Process | None = None
        self.base_url = ""

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/ws"

    async def start(self) -> None:
        env = {**os.environ, **FAST_ARGON, "HUBBUB_LOG_FORMAT": "json", **self.env}
        env["PYTHONUNBUFFERED"] = "1"
        cmd = [sys.executable, "-m", "hubbub", "serve", "--port", "0"]
        cmd += ["--data-dir", str(self.data_dir)]
        if self.database_url:
            cmd += ["--database-url", self.database_url]
        log = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            self.proc = await asyncio.create_subprocess_exec(
                *cmd, stdout=asyncio.subprocess.PIPE, stderr=log, env=env
            )
        finally:
            os.close(log)
        assert self.proc.stdout is not None
        try:
            async with asyncio.timeout(60):
                while line := await self.proc.stdout.readline():
                    if b"listening on" in line:
                        self.base_url = line.decode().strip().rsplit(" ", 1)[-1]
                        return
        except TimeoutError:
            pass
        await self.stop()
        raise RuntimeError(f"server did not start; log tail:\n{self.log_tail()}")

    def log_tail(self, n: int = 2000) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")[-n:]
        return ""

    def log_problems(self, limit: int = 5) -> list[str]:
        """Warning/error lines (and tracebacks) the server logged during the run."""
        out: list[str] = []
        with contextlib.suppress(OSError):
            for line in self.log_path.read_text(errors="replace").splitlines():
                if re.search(r'"level": ?"(warning|error|critical)"|Traceback', line):
                    out.append(line[:400])
        return out[:limit] + ([f"... {len(out) - limit} more"] if len(out) > limit else [])

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), 5)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


async def wait_idle(pid: int, timeout: float = 120.0) -> None:
    """Until the process uses under 5% of a core over a quarter second."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        c0 = proc_cpu_s(pid)
        await asyncio.sleep(0.25)
        if proc_cpu_s(pid) - c0 < 0.0125:
            return


async def pg_execute(admin_url: str, sql: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(admin_url, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def server_metrics(http: httpx.AsyncClient) -> dict[str, float]:
    """The server's own Prometheus counters (unlabelled samples only)."""
    text = (await http.get("/metrics")).text
    return {
        m.group(1): float(m.group(2)) for m in re.finditer(r"^(hubbub_[a-z_]+) (\S+)$", text, re.M)
    }


async def connections_open(http: httpx.AsyncClient) -> int:
    return int((await server_metrics(http)).get("hubbub_ws_connections", -1))


async def register(http: httpx.AsyncClient, n: int) -> list[tuple[str, str]]:
    prefix = "bench" + secrets.token_hex(3)

    async def one(i: int) -> tuple[str, str]:
        r = await http.post(
            "/v1/auth/register", json={"username": f"{prefix}{i}", "password": "bench-password"}
        )
        if r.status_code != 201:
            raise RuntimeError(f"register failed: {r.status_code} {r.text}")
        body = r.json()
        return str(body["user_id"]), str(body["token"])

    results = await bounded(16, [one(i) for i in range(n)])
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return [r for r in results if not isinstance(r, BaseException)]


# --------------------------------------------------------------------------- senders
class Sender:
    def __init__(self, idx: int, member: Member, cfg: Config, conversation_id: str) -> None:
        self.idx = idx
        self.m = member
        self.cfg = cfg
        self.conversation_id = conversation_id
        self.window = asyncio.Semaphore(cfg.window)
        self.outstanding: dict[str, int] = {}
        self.all_acked = asyncio.Event()
        self.all_acked.set()
        self.sent = 0  # frames written
        self.acked = 0
        self.errors: dict[str, int] = {}
        self.ack_lat: array[int] = array("q")
        self.first_ns = 0
        self.last_ack_ns = 0
        self.pad = "x" * max(0, cfg.payload - 30)
        member.on_reply = self.on_reply
        member.on_closed = self.on_closed

    def on_reply(self, env: _Envelope, now: int) -> None:
        sent_at = self.outstanding.pop(env.ref or "", None)
        if sent_at is None:
            return
        if env.type == "ChatMessageAccepted":
            self.acked += 1
            self.ack_lat.append(now - sent_at)
        else:
            code = _err.decode(env.data).code if env.type == "Error" else env.type
            self.errors[code] = self.errors.get(code, 0) + 1
        self.last_ack_ns = now
        self.window.release()
        if not self.outstanding:
            self.all_acked.set()

    async def run(self, start_ns: int) -> None:
        ws = self.m.ws
        assert ws is not None
        cfg, window, outstanding = self.cfg, self.window, self.outstanding
        limit = cfg.messages
        stop_ns = start_ns + int(cfg.duration * 1e9) if limit is None else 0
        interval_ns = int(1e9 / cfg.rate) if cfg.rate else 0
        head = '{"channel":"chat/messages/ack","type":"SendChatMessageWithClientId","id":"'
        n = 0
        while True:
            if limit is not None and n >= limit:
                break
            if interval_ns:
                delay = start_ns + n * interval_ns - time.monotonic_ns()
                if delay > 0:
                    await asyncio.sleep(delay / 1e9)
            await window.acquire()
            now = time.monotonic_ns()
            if self.m.closed is not None:
                break
            if stop_ns and now >= stop_ns:
                window.release()
                break
            ref = f"{self.idx}-{n}"
            body = _encode(
                {
                    "client_message_id": ref,
                    "conversation_id": self.conversation_id,
                    "content": f"{self.idx}:{n}:{now}:{self.pad}",
                }
            )
            outstanding[ref] = now
            self.all_acked.clear()
            if not self.first_ns:
                self.first_ns = now
            await ws.send(f'{head}{ref}","data":{body.decode()}}}')
            n += 1
            self.sent = n
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.all_acked.wait(), 60)

    def on_closed(self) -> None:
        """The connection dropped: unblock `run`; what is outstanding stays unacked."""
        for _ in range(self.cfg.window):
            self.window.release()
        self.all_acked.set()


# --------------------------------------------------------------------------- one run
class _Workers:
    """Receiver processes and their pipes."""

    def __init__(self, n: int) -> None:
        ctx = mp.get_context("spawn")
        self.pipes: list[Connection] = []
        self.procs: list[mp.process.BaseProcess] = []
        for _ in range(n):
            parent, child = ctx.Pipe()
            p = ctx.Process(target=receiver_main, args=(child,), daemon=True)
            p.start()
            child.close()
            self.pipes.append(parent)
            self.procs.append(p)

    async def recv_all(self, timeout: float) -> list[Any]:
        async def one(pipe: Connection) -> Any:
            ready = await asyncio.to_thread(pipe.poll, timeout)
            if not ready:
                raise RuntimeError("a receiver process did not answer in time")
            return pipe.recv()

        return list(await asyncio.gather(*(one(p) for p in self.pipes)))

    def send_all(self, msg: Any) -> None:
        for pipe in self.pipes:
            with contextlib.suppress(OSError):
                pipe.send(msg)

    def stop(self) -> None:
        self.send_all(("exit",))
        for p in self.procs:
            p.join(10)
            if p.is_alive():
                p.kill()
                p.join(5)
        for pipe in self.pipes:
            pipe.close()


def _log(msg: str, quiet: bool) -> None:
    if not quiet:
        print(f"  .. {msg}", file=sys.stderr, flush=True)


async def run(cfg: Config, *, quiet: bool = False) -> Result:
    """One benchmark run against a fresh server; returns the figures."""
    if cfg.db not in ("sqlite", "postgres"):
        raise ValueError("db must be sqlite or postgres")
    if not 1 <= cfg.senders < cfg.members:
        raise ValueError("need 1 <= senders < members")
    nworkers = max(1, min(cfg.workers, cfg.members - cfg.senders))
    server_env = {} if cfg.default_limits else dict(BENCH_SERVER_ENV)
    res = Result(
        db=cfg.db,
        members=cfg.members,
        senders=cfg.senders,
        receivers_processes=nworkers,
        mode="rate" if cfg.rate else "max",
        rate_per_sender=cfg.rate,
        window=cfg.window,
        deflate=cfg.deflate,
        server_env=server_env,
        ncpu=os.cpu_count() or 1,
        server_source=await asyncio.to_thread(server_source),
    )
    tmp = Path(tempfile.mkdtemp(prefix="hubbub-bench-"))
    db_name = ""
    database_url = ""
    if cfg.db == "postgres":
        db_name = "hubbub_bench_" + secrets.token_hex(4)
        await pg_execute(cfg.pg_admin_url, f'CREATE DATABASE "{db_name}"')
        database_url = cfg.pg_admin_url.rsplit("/", 1)[0] + "/" + db_name
    if cfg.nodes > 1 and cfg.db != "postgres":
        raise SystemExit("--nodes > 1 needs --db postgres (and NATS)")
    res.nodes = cfg.nodes
    cluster_env = dict(server_env)
    if cfg.nodes > 1:
        cluster_env["HUBBUB_NATS_URL"] = cfg.nats_url
        cluster_env["HUBBUB_NATS_PREFIX"] = "hubbub_bench_" + secrets.token_hex(4)
    servers = [
        Server(tmp / f"data{i}", database_url, {**cluster_env, "HUBBUB_NODE_ID": f"n{i}"})
        for i in range(cfg.nodes)
    ]
    server = servers[0]
    workers: _Workers | None = None
    senders: list[Member] = []
    try:
        for srv in servers:
            srv.data_dir.mkdir()
        workers = _Workers(nworkers)  # they start (import) while the server starts
        for srv in servers:
            await srv.start()
            _log(f"server {srv.base_url} pid {srv.pid} ({cfg.db})", quiet)
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
            res = await _run(cfg, res, servers, http, workers, senders, quiet)
        return res
    finally:
        await close_all(senders)
        for srv in servers[1:]:
            await srv.stop()
        await server.stop()
        res.server_log_problems = server.log_problems()
        if res.server_log_problems or not res.ok:
            kept = Path(tempfile.gettempdir()) / f"{tmp.name}-server.log"
            with contextlib.suppress(OSError):
                shutil.copyfile(server.log_path, kept)
                res.server_log = str(kept)
        if workers is not None:
            workers.stop()
        if db_name:
            with contextlib.suppress(Exception):
                await pg_execute(
                    cfg.pg_admin_url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'
                )
        shutil.rmtree(tmp, ignore_errors=True)


async def _run(
    cfg: Config,
    res: Result,
    servers: list[Server],
    http: httpx.AsyncClient,
    workers: _Workers,
    sender_members: list[Member],
    quiet: bool,
) -> Result:
    server = servers[0]
    pids = [srv.pid for srv in servers]

    def rss_kib() -> int:
        return sum(proc_rss_kib(pid) for pid in pids)

    async def open_total() -> int:
        total = 0
        for srv in servers:
            async with httpx.AsyncClient(base_url=srv.base_url, timeout=60) as h:
                total += await connections_open(h)
        return total

    users = await register(http, cfg.members)
    _log(f"registered {len(users)} users", quiet)
    s_users, r_users = users[: cfg.senders], users[cfg.senders :]
    nw = len(workers.pipes)
    shares = [r_users[i::nw] for i in range(nw)]
    parent_lat: array[int] = array("q")
    sender_members.extend(Member(u, t, cfg.senders, parent_lat) for u, t in s_users)
    creator = sender_members[0]

    async def create_group() -> str:
        assert creator.ws is not None
        got: asyncio.Future[_Envelope] = asyncio.get_running_loop().create_future()

        def on_reply(env: _Envelope, _now: int) -> None:
            if not got.done():
                got.set_result(env)

        creator.on_reply = on_reply
        frame = {
            "id": "create",
            "channel": "chat/groups",
            "type": "CreateGroup",
            "data": {
                "name": "bench",
                "member_ids": [u for u, _ in users[1:]],
                "client_request_id": "bench-" + secrets.token_hex(4),
            },
        }
        await creator.ws.send(_encode(frame).decode())
        env = await asyncio.wait_for(got, 60)
        if env.type != "CreateGroupAck":
            raise RuntimeError(f"CreateGroup failed: {msgspec.json.decode(env.data)}")
        return str(msgspec.json.decode(env.data)["group_id"])

    async def connect_everyone() -> None:
        t = time.monotonic()
        for w, share in enumerate(shares):
            url = servers[(w + 1) % len(servers)].ws_url  # senders stay on node 0
            workers.pipes[w].send(("connect", url, share, cfg.senders, cfg.deflate))
        errors = await connect_all(
            [m for m in sender_members if m.ws is None], server.ws_url, cfg.deflate
        )
        for reply in await workers.recv_all(300):
            errors += reply[2]
        res.connect_s = round(time.monotonic() - t, 3)
        res.connect_failures = len(errors)
        res.connect_errors = errors[:3]
        if errors:
            _log(f"!!! {len(errors)} connections failed, e.g. {errors[:3]}", quiet)
        for _ in range(300):  # the server's own count, up to 30 s
            if await open_total() == cfg.members - len(errors):
                break
            await asyncio.sleep(0.1)
        # Connect-time work (presence fan-out) may still run: wait for an idle server.
        for pid in pids:
            await wait_idle(pid)
        # What else keeps this (shared) machine busy while we are idle: 1 s sample.
        ours = [*pids, os.getpid(), *[p.pid for p in workers.procs if p.pid is not None]]
        b0, o0 = machine_busy_s(), sum(proc_cpu_s(pid) for pid in ours)
        await asyncio.sleep(1.0)
        b1, o1 = machine_busy_s(), sum(proc_cpu_s(pid) for pid in ours)
        res.background_cores = round(max(0.0, (b1 - b0) - (o1 - o0)), 2)

    if cfg.connect_after_group:
        await connect_all([creator], server.ws_url, cfg.deflate)
        group_id = await create_group()
        res.rss_before_kib = rss_kib()
        await connect_everyone()
        per_conn = cfg.members - 1
    else:
        res.rss_before_kib = rss_kib()
        await connect_everyone()
        per_conn = cfg.members
        group_id = await create_group()
    res.rss_connected_kib = rss_kib()
    res.rss_per_conn_kib = round((res.rss_connected_kib - res.rss_before_kib) / per_conn, 1)
    _log(
        f"{cfg.members} members connected in {res.connect_s:.1f}s, "
        f"server RSS {res.rss_before_kib} -> {res.rss_connected_kib} KiB",
        quiet,
    )

    snd = [Sender(i, m, cfg, group_id) for i, m in enumerate(sender_members)]
    load_pids = [os.getpid(), *[p.pid for p in workers.procs if p.pid is not None]]
    cpu0_server = sum(proc_cpu_s(pid) for pid in pids)
    cpu0_loop = proc_cpu_s(server.pid, server.pid)
    cpu0_load = {pid: proc_cpu_s(pid) for pid in load_pids}
    m0 = await server_metrics(http)
    busy0, pg0 = machine_busy_s(), postgres_cpu_s()
    start_ns = time.monotonic_ns()
    what = f"{cfg.rate:g} msg/s per sender" if cfg.rate else f"max (window {cfg.window})"
    span = f"{cfg.messages} messages each" if cfg.messages else f"{cfg.duration:g}s"
    _log(f"{cfg.senders} senders sending, {what}, {span}", quiet)
    await asyncio.gather(*(s.run(start_ns) for s in snd))
    acked = [s.acked for s in snd]
    _log(f"sent {sum(acked)} (acked); draining deliveries", quiet)

    workers.send_all(("expect", acked, cfg.drain_timeout, cfg.stall_timeout))
    own: list[int | None] = list(range(cfg.senders))
    await drain(sender_members, acked, own, cfg.drain_timeout, cfg.stall_timeout)
    parent = summarize(sender_members, acked, own)
    replies = await workers.recv_all(cfg.drain_timeout + 60)
    cpu_server = sum(proc_cpu_s(pid) for pid in pids) - cpu0_server
    cpu_loop = proc_cpu_s(server.pid, server.pid) - cpu0_loop
    busy, pg = machine_busy_s() - busy0, postgres_cpu_s() - pg0
    m1 = await server_metrics(http)

    def delta(name: str) -> float:
        return m1.get(name, 0.0) - m0.get(name, 0.0)

    res.commits = int(delta("hubbub_store_commit_batch_count"))
    res.units_per_commit = round(delta("hubbub_store_commit_batch_sum") / (res.commits or 1), 2)
    res.slow_consumer_kicks = int(delta("hubbub_ws_slow_consumer_disconnects_total"))
    load_cpu = {"senders": proc_cpu_s(os.getpid()) - cpu0_load[os.getpid()]}
    summaries = [parent]
    lat = array("q", parent_lat)
    for i, (_tag, summary) in enumerate(replies):
        summaries.append(summary)
        chunk: array[int] = array("q")
        chunk.frombytes(summary["lat"])
        lat.extend(chunk)
        pid = load_pids[i + 1]
        load_cpu[f"receivers{i}"] = summary["cpu_s"] - cpu0_load[pid]

    # ---- figures
    res.sent = sum(acked)
    errors: dict[str, int] = {}
    for s in snd:
        for k, v in s.errors.items():
            errors[k] = errors.get(k, 0) + v
    res.error_codes = errors
    res.send_errors = sum(errors.values())
    res.expected = res.sent * (cfg.members - 1)
    res.delivered = sum(int(s["delivered"]) for s in summaries)
    res.lost = sum(int(s["lost"]) for s in summaries)
    res.late_or_duplicate = sum(int(s["late"]) for s in summaries)
    res.seq_out_of_order = sum(int(s["seq_ooo"]) for s in summaries)
    for summary in summaries:
        for k, v in summary["closes"].items():
            res.close_reasons[k] = res.close_reasons.get(k, 0) + v
    res.disconnects = sum(res.close_reasons.values())
    res.frame_bytes = max(int(s["frame_bytes"]) for s in summaries)
    first_ns = min(s.first_ns for s in snd if s.first_ns) if res.sent else start_ns
    last_ack = max(s.last_ack_ns for s in snd)
    last_delivery = max(int(s["last_ns"]) for s in summaries) or last_ack
    res.send_s = round((last_ack - first_ns) / 1e9, 3)
    active = max(last_ack, last_delivery) - first_ns
    res.active_s = round(active / 1e9, 3)
    res.drain_s = round(max(0, last_delivery - last_ack) / 1e9, 3)
    res.sent_per_s = round(res.sent / (res.send_s or 1e-9), 1)
    res.delivered_per_s = round(res.delivered / (res.active_s or 1e-9), 1)
    res.latency_ms = percentiles(lat, 1e6)
    ack_all: array[int] = array("q")
    for s in snd:
        ack_all.extend(s.ack_lat)
    res.ack_ms = percentiles(ack_all, 1e6)
    res.rss_end_kib = rss_kib()
    res.server_cpu_s = round(cpu_server, 2)
    res.server_loop_cpu_s = round(cpu_loop, 2)
    wall = res.active_s or 1e-9
    res.server_cpu_pct = round(100 * cpu_server / wall, 1)
    res.server_loop_cpu_pct = round(100 * cpu_loop / wall, 1)
    res.cpu_s_per_10k = round(cpu_server / res.delivered * 10_000, 3) if res.delivered else 0.0
    res.load_cpu_s = round(sum(load_cpu.values()), 2)
    res.load_cpu_pct = {k: round(100 * v / wall, 1) for k, v in load_cpu.items()}
    res.machine_busy_cores = round(busy / wall, 2)
    res.postgres_cpu_s = round(max(0.0, pg), 2)  # other users' backends may exit meanwhile
    res.other_cpu_s = round(max(0.0, busy - cpu_server - sum(load_cpu.values()) - pg), 2)
    res.saturated = verdict(res)
    res.ok = res.lost == 0 and res.late_or_duplicate == 0 and res.send_errors == 0
    res.ok = res.ok and res.disconnects == 0 and res.delivered == res.expected
    res.ok = res.ok and res.connect_failures == 0
    return res


def verdict(r: Result) -> str:
    """Which side ran out of CPU, from the CPU shares over the active window."""
    busiest_load = max(r.load_cpu_pct.items(), key=lambda kv: kv[1], default=("none", 0.0))
    wall = r.active_s or 1e-9
    parts = [
        f"server {r.server_cpu_pct:.0f}% (event loop {r.server_loop_cpu_pct:.0f}%)",
        f"busiest load process {busiest_load[0]} {busiest_load[1]:.0f}%",
        f"postgres {100 * r.postgres_cpu_s / wall:.0f}%",
        f"other {100 * r.other_cpu_s / wall:.0f}%",
        f"machine {r.machine_busy_cores:.2f}/{r.ncpu} cores busy",
    ]
    detail = ", ".join(parts)
    if r.server_loop_cpu_pct >= 80:
        who = "server (event loop at one core)"
    elif busiest_load[1] >= 80:
        who = f"load generator ({busiest_load[0]})"
    elif r.machine_busy_cores >= 0.9 * r.ncpu:
        who = "machine (all cores busy)"
    elif r.mode == "rate":
        who = "nothing (fixed rate below capacity)"
    else:
        who = "nothing CPU-bound (latency/window bound)"
    return f"{who}: {detail}"


# --------------------------------------------------------------------------- output
def render(r: Result) -> str:
    rate = f"{r.rate_per_sender:g} msg/s per sender" if r.rate_per_sender else "max"
    lat, ack = r.latency_ms, r.ack_ms
    lines = [
        f"== hubbub fan-out: {r.db}, {r.members} members, {r.senders} senders, {rate}"
        f" (window {r.window}), {r.receivers_processes} receiver processes"
        f"{', permessage-deflate' if r.deflate else ''}",
        f"   server limits raised for the benchmark: {r.server_env or 'no (server defaults)'}",
        f"   sent (acked)        {r.sent:>10}   {r.sent_per_s:>10.1f} msg/s  over {r.send_s:.2f}s",
        f"   delivered           {r.delivered:>10}   {r.delivered_per_s:>10.1f} frames/s"
        f" over {r.active_s:.2f}s (drain {r.drain_s:.2f}s after last ack)",
        f"   send->receive ms    p50 {lat['p50']:.2f}  p99 {lat['p99']:.2f}  max {lat['max']:.2f}",
        f"   send->ack ms        p50 {ack['p50']:.2f}  p99 {ack['p99']:.2f}  max {ack['max']:.2f}",
        f"   server RSS KiB      before {r.rss_before_kib}  connected {r.rss_connected_kib}"
        f"  => {r.rss_per_conn_kib:.1f} KiB per idle connection; end {r.rss_end_kib}",
        f"   connect             {r.members} members in {r.connect_s:.2f}s",
        f"   server CPU          {r.server_cpu_s:.2f}s ({r.server_cpu_pct:.0f}% of a core),"
        f" {r.cpu_s_per_10k:.3f} CPU-s per 10k deliveries",
        f"   load CPU            {r.load_cpu_s:.2f}s "
        + " ".join(f"{k}={v:.0f}%" for k, v in r.load_cpu_pct.items()),
        f"   saturated           {r.saturated}",
        f"   frame size          {r.frame_bytes} bytes",
        f"   group commits       {r.commits} ({r.units_per_commit:.2f} writes per commit)",
        f"   server code         {r.server_source}",
    ]
    other = r.other_cpu_s / (r.active_s or 1e-9)
    if r.background_cores >= 0.2 or other >= 0.2:
        lines.append(
            f"   WARNING: the machine was busy with other work ({r.background_cores:.2f} cores"
            f" before sending, {other:.2f} during); figures are disturbed"
        )
    problems = []
    if r.lost or r.delivered != r.expected:
        problems.append(f"LOST {r.lost} of {r.expected} expected deliveries ({r.delivered} got)")
    if r.late_or_duplicate:
        problems.append(f"{r.late_or_duplicate} duplicate or reordered deliveries")
    if r.seq_out_of_order:
        problems.append(f"{r.seq_out_of_order} frames with non-increasing seq")
    if r.send_errors:
        problems.append(f"{r.send_errors} send errors: {r.error_codes}")
    if r.connect_failures:
        problems.append(f"{r.connect_failures} connections failed: {r.connect_errors}")
    if r.slow_consumer_kicks:
        problems.append(f"server cut {r.slow_consumer_kicks} connections as slow consumers")
    if r.disconnects:
        problems.append(f"{r.disconnects} connections closed: {r.close_reasons}")
    if problems:
        lines.append("   !!!!!!!! BENCHMARK FOUND A PROBLEM !!!!!!!!")
        lines += [f"   !!! {p}" for p in problems]
    else:
        lines.append(f"   lost: 0 (every member got all {r.sent} messages, in order)")
    if r.server_log_problems:
        lines.append("   server logged warnings/errors:")
        lines += [f"     {p}" for p in r.server_log_problems]
    if r.server_log:
        lines.append(f"   server log kept: {r.server_log}")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> tuple[list[Config], bool]:
    d = Config()
    p = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__.split("\n")[0])
    p.add_argument("--members", type=int, default=d.members, help="group size, senders included")
    p.add_argument("--senders", type=int, default=d.senders)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--rate", type=float, help="messages/s per sender")
    g.add_argument("--max", action="store_true", help="as fast as acks allow (default)")
    p.add_argument("--duration", type=float, default=d.duration, help="seconds of sending")
    p.add_argument("--messages", type=int, help="messages per sender (instead of --duration)")
    p.add_argument("--db", choices=("sqlite", "postgres", "both"), default=d.db)
    p.add_argument("--workers", type=int, default=d.workers, help="receiver processes")
    p.add_argument("--window", type=int, default=d.window, help="unacked sends per sender")
    p.add_argument("--payload", type=int, default=d.payload, help="content characters")
    p.add_argument("--deflate", action="store_true", help="negotiate permessage-deflate")
    p.add_argument(
        "--connect-after-group",
        action="store_true",
        help="connect members after the group exists (measures the presence storm)",
    )
    p.add_argument(
        "--default-limits", action="store_true", help="keep the server's rate/queue limits"
    )
    p.add_argument("--drain-timeout", type=float, default=d.drain_timeout)
    p.add_argument("--pg", default=PG_ADMIN_URL, help="PostgreSQL admin URL")
    p.add_argument(
        "--nodes", type=int, default=1, help="cluster nodes (>1 needs --db postgres and NATS)"
    )
    p.add_argument("--nats", default="nats://127.0.0.1:4222", help="NATS URL for --nodes > 1")
    p.add_argument("--json", action="store_true", help="one JSON object per run on stdout")
    ns = p.parse_args(argv)
    dbs = ["sqlite", "postgres"] if ns.db == "both" else [ns.db]
    cfgs = [
        Config(
            members=ns.members,
            senders=ns.senders,
            rate=ns.rate,
            duration=ns.duration,
            messages=ns.messages,
            db=db,
            workers=ns.workers,
            window=ns.window,
            payload=ns.payload,
            deflate=ns.deflate,
            connect_after_group=ns.connect_after_group,
            default_limits=ns.default_limits,
            drain_timeout=ns.drain_timeout,
            pg_admin_url=ns.pg,
            nodes=ns.nodes,
            nats_url=ns.nats,
        )
        for db in dbs
    ]
    return cfgs, bool(ns.json)


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
    cfgs, as_json = parse_args(argv)
    out: list[dict[str, Any]] = []
    for cfg in cfgs:
        r = _uvloop_run(run(cfg, quiet=as_json))
        out.append(asdict(r))
        if as_json:
            print(json.dumps(asdict(r)), flush=True)
        else:
            print(render(r), flush=True)
    return out


if __name__ == "__main__":
    results = main()
    sys.exit(0 if all(r["ok"] for r in results) else 1)
