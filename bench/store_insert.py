"""Scenario (d): insert throughput of hubbub's store alone, through group commit.

No sockets: one process builds a hubbub node the way the server does
(`hubbub.runtime.Node`, the composition root) on SQLite or PostgreSQL, and
`producers` concurrent tasks insert messages into one group for `duration`
seconds, each waiting for its commit before the next insert, as a client
waits for its ack. Two paths are measured:

- `store`: `node.stores.messages.append_message` (idempotency check, event row, message
  row), queued to the group-commit writer: what the issue calls "the store
  alone";
- `service`: `node.messages.send_text`, the core send path a `/ws` frame
  takes after decoding (membership check, store, publish to the in-process
  bus, which has no connections to deliver to).

The process is pinned to the server cores, like a server. Figures: inserts/s,
insert latency (submit -> committed), units per commit, and the process's CPU
seconds per 10,000 inserts (its event loop and the database driver's thread).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import os
import secrets
import shutil
import signal
import tempfile
import time
from array import array
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bench.loadgen import uvloop_run
from bench.sysinfo import Pinning, percentiles, postgres_cpu_s, proc_cpu_s
from bench.targets import PG_ADMIN_URL, TargetUnavailable, pg_execute

__all__ = ["StoreResult", "run_store"]

PATHS = ("store", "service")


@dataclass
class StoreResult:
    db: str
    path: str  # "store" (append_message) or "service" (messages.send_text)
    producers: int
    seconds: float = 0.0
    inserts: int = 0
    inserts_per_s: float = 0.0
    insert_ms: dict[str, float] = field(default_factory=dict)  # submit -> committed
    commits: int = 0
    units_per_commit: float = 0.0
    cpu_s: float = 0.0
    cpu_pct: float = 0.0
    cpu_s_per_10k: float = 0.0
    postgres_cpu_s: float = 0.0
    errors: dict[str, int] = field(default_factory=dict)
    error: str = ""
    ok: bool = False


async def run_store(
    db: str,
    producers: int,
    duration: float,
    pinning: Pinning,
    pg_admin_url: str = PG_ADMIN_URL,
) -> list[StoreResult]:
    """Both paths on one database, in a child process pinned to the server cores."""
    tmp = Path(tempfile.mkdtemp(prefix="hubbub-bench-store-"))
    db_name = ""
    database_url = ""
    try:
        if db == "postgres":
            db_name = "hubbub_bench_" + secrets.token_hex(4)
            try:
                await pg_execute(pg_admin_url, f'CREATE DATABASE "{db_name}"')
            except Exception as exc:
                raise TargetUnavailable(f"PostgreSQL unreachable: {exc!r}") from exc
            database_url = pg_admin_url.rsplit("/", 1)[0] + "/" + db_name
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe()
        args = (db, database_url, str(tmp), producers, duration, pinning.server)
        proc = ctx.Process(target=_child, args=(child, args), daemon=True)
        proc.start()
        child.close()
        try:
            if not await asyncio.to_thread(parent.poll, duration * len(PATHS) + 300):
                raise RuntimeError("the store benchmark process did not answer")
            raw: list[dict[str, Any]] = parent.recv()
        except EOFError:
            raise RuntimeError("the store benchmark process died") from None
        finally:
            proc.join(30)
            if proc.is_alive():
                proc.kill()
            parent.close()
        return [StoreResult(**r) for r in raw]
    finally:
        if db_name:
            with contextlib.suppress(Exception):
                await pg_execute(pg_admin_url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        shutil.rmtree(tmp, ignore_errors=True)


def _child(pipe: Connection, args: tuple[Any, ...]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    cores: frozenset[int] | None = args[-1]
    if cores is not None:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, cores)  # before any thread: they inherit it
    try:
        results = uvloop_run(_bench(*args[:-1]))
        pipe.send([asdict(r) for r in results])
    except Exception as exc:
        db, producers = args[0], args[3]
        pipe.send([asdict(StoreResult(db, p, producers, error=repr(exc))) for p in PATHS])


async def _bench(
    db: str, database_url: str, data_dir: str, producers: int, duration: float
) -> list[StoreResult]:
    from hubbub.config import Settings
    from hubbub.core.context import Caller
    from hubbub.runtime import Node

    settings = Settings(
        data_dir=Path(data_dir),
        database_url=database_url,
        node_id="bench-store",
        argon2_time_cost=1,
        argon2_memory_kib=64,
    )
    node = Node(settings)
    await node.start()
    try:
        users = [
            (await node.accounts.register(f"store_{i}", "bench-password"))[0] for i in range(8)
        ]
        conv, _ = await node.groups.create_group(
            Caller(users[0], "bench"), "bench", users[1:], None
        )
        out = []
        for path in PATHS:
            out.append(await _measure(node, db, path, conv.id, users, producers, duration))
        return out
    finally:
        await node.close()


async def _measure(
    node: Any,
    db: str,
    path: str,
    conversation_id: str,
    users: list[str],
    producers: int,
    duration: float,
) -> StoreResult:
    from hubbub.clock import iso
    from hubbub.core.context import Caller
    from hubbub.core.frames import event
    from hubbub.core.model import MessageRecord
    from hubbub.ids import new_id

    res = StoreResult(db, path, producers)
    lat: array[int] = array("q")
    pad = "x" * 32

    async def via_store(user: str, cmid: str) -> None:
        now = node.clock.now_ms()
        mid = new_id()
        content = f"{cmid}:{pad}"
        data = {
            "message_id": mid,
            "conversation_id": conversation_id,
            "sender_id": user,
            "content": content,
            "type": "text",
            "timestamp": iso(now),
            "self_destruct": False,
            "expires_at": None,
        }
        record = MessageRecord(
            mid, conversation_id, user, "text", now, None, None, cmid, False, None
        )
        ev = event("c", conversation_id, "chat/messages", "ChatMessageReceived", data, mid)
        await node.stores.messages.append_message(
            record, {"content_type": "text", "content": content}, ev
        )

    async def via_service(user: str, cmid: str) -> None:
        caller = Caller(user, "bench")
        await node.messages.send_text(
            caller, conversation_id, f"{cmid}:{pad}", None, cmid, False, None
        )

    insert = via_store if path == "store" else via_service
    stop = time.monotonic() + duration

    async def producer(p: int) -> None:
        user, n = users[p % len(users)], 0
        while time.monotonic() < stop:
            t0 = time.monotonic_ns()
            try:
                await insert(user, f"{path}-{p}-{n}")
            except Exception as exc:
                key = type(exc).__name__
                res.errors[key] = res.errors.get(key, 0) + 1
            else:
                lat.append(time.monotonic_ns() - t0)
            n += 1

    registry = node.metrics.registry

    def sample(name: str) -> float:
        return float(registry.get_sample_value(name) or 0.0)

    b0, u0 = sample("hubbub_store_commit_batch_count"), sample("hubbub_store_commit_batch_sum")
    cpu0, pg0 = proc_cpu_s(os.getpid()), postgres_cpu_s()
    t0 = time.monotonic()
    await asyncio.gather(*(producer(p) for p in range(producers)))
    res.seconds = round(time.monotonic() - t0, 3)
    cpu, pg = proc_cpu_s(os.getpid()) - cpu0, postgres_cpu_s() - pg0
    res.commits = int(sample("hubbub_store_commit_batch_count") - b0)
    units = sample("hubbub_store_commit_batch_sum") - u0
    res.units_per_commit = round(units / res.commits, 1) if res.commits else 0.0
    res.inserts = len(lat)
    res.inserts_per_s = round(res.inserts / (res.seconds or 1e-9), 1)
    res.insert_ms = percentiles(lat, 1e6)
    res.cpu_s = round(cpu, 2)
    res.cpu_pct = round(100 * cpu / (res.seconds or 1e-9), 1)
    res.cpu_s_per_10k = round(cpu / res.inserts * 10_000, 4) if res.inserts else 0.0
    res.postgres_cpu_s = round(max(0.0, pg), 2) if db == "postgres" else 0.0
    res.ok = not res.errors and res.inserts > 0
    return res
