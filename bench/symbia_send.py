"""What a Symbia REST send costs: `POST /api/conversations/{id}/messages`.

    python -m bench.symbia_send [--concurrency 20] [--messages 2000] [--db sqlite|postgres]
                                [--auth bearer|apikey] [--no-client-ids] [--json FILE]

Starts `python -m hubbub serve` the way the other benchmarks do
(`bench/targets.py`: SQLite in a temp dir or a fresh PostgreSQL database,
pinned to the server core), registers one account, signs it in, creates one
group conversation over `/api/conversations`, and (`--auth apikey`) makes an
API key for it. Then `--concurrency` keep-alive HTTP/1.1 connections send
`--messages` messages between them, each connection waiting for its 201
before the next request, as a client waits for its answer. Every message
carries a client `id` (a UUID: Symbia's idempotency key) unless
`--no-client-ids`.

The load side speaks HTTP/1.1 on raw asyncio streams (one prebuilt request
template, the response read by its `content-length`): httpx costs about a
millisecond of CPU per request, which on the one load core would be the
bottleneck before the server is.

Figures: sent msg/s (201 answers / first request -> last answer), latency
p50/p99 (request written -> answer read), server CPU ms per message (user +
system of every server thread from `/proc/<pid>/stat` over the run, / sent),
and PostgreSQL's own CPU per message with `--db postgres` (every `postgres`
process on the machine). A warm-up of 50 messages runs first, unmeasured.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.sysinfo import percentiles, plan_pinning, postgres_cpu_s, proc_cpu_s
from bench.targets import Hubbub

WARMUP = 50


class Conn:
    """One keep-alive HTTP/1.1 connection sending the same kind of request."""

    def __init__(self, host: str, port: int, head: str) -> None:
        self.host, self.port, self.head = host, port, head
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def post(self, body: bytes) -> tuple[int, bytes]:
        assert self.reader is not None and self.writer is not None
        self.writer.write(self.head.format(len(body)).encode() + body)
        status_line = await self.reader.readline()
        status = int(status_line.split(b" ", 2)[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()


async def _setup(base: str, auth: str) -> tuple[str, str]:
    """A signed-in account, its conversation, and the credential header line."""
    name = "sb" + uuid.uuid4().hex[:8]
    email = f"{name}@example.test"
    pw = "bench-password"
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        r = await http.post(
            "/v1/auth/register", json={"username": name, "password": pw, "email": email}
        )
        r.raise_for_status()
        r = await http.post("/api/auth/login", json={"email": email, "password": pw})
        r.raise_for_status()
        token = r.json()["token"]
        bearer = {"Authorization": f"Bearer {token}"}
        r = await http.post(
            "/api/conversations", json={"type": "group", "name": "bench"}, headers=bearer
        )
        r.raise_for_status()
        cid = r.json()["id"]
        if auth == "apikey":
            r = await http.post("/v1/api-keys", json={"name": "bench"}, headers=bearer)
            r.raise_for_status()
            return cid, f"X-API-Key: {r.json()['key']}"
    return cid, f"Authorization: Bearer {token}"


async def _send_all(
    conns: list[Conn], n: int, client_ids: bool, tag: str, latencies: list[int] | None
) -> int:
    """`n` messages over `conns` (each one request at a time); how many got 201."""
    counter = iter(range(n))
    ok = 0

    async def worker(conn: Conn) -> None:
        nonlocal ok
        for i in counter:
            msg: dict[str, Any] = {"content": f"{tag}{i}:" + "x" * 56}
            if client_ids:
                msg["id"] = str(uuid.uuid4())
            t0 = time.monotonic_ns()
            status, body = await conn.post(json.dumps(msg).encode())
            if latencies is not None:
                latencies.append(time.monotonic_ns() - t0)
            if status != 201:
                raise RuntimeError(f"send answered {status}: {body[:200]!r}")
            ok += 1

    await asyncio.gather(*(worker(c) for c in conns))
    return ok


async def run(args: argparse.Namespace) -> dict[str, Any]:
    pinning = plan_pinning(not args.no_pin)
    if pinning.load is not None:
        os.sched_setaffinity(0, pinning.load)
    target = Hubbub(db=args.db)
    with tempfile.TemporaryDirectory(prefix="hubbub-bench-symbia-") as tmp:
        await target.start(pinning, Path(tmp))
        try:
            srv = target.servers[0]
            base = srv.base_url
            cid, cred = await _setup(base, args.auth)
            host, port = base.removeprefix("http://").rsplit(":", 1)
            head = (
                f"POST /api/conversations/{cid}/messages HTTP/1.1\r\nHost: {host}\r\n"
                f"{cred}\r\nContent-Type: application/json\r\n"
                "Content-Length: {}\r\n\r\n"
            )
            conns = [Conn(host, int(port), head) for _ in range(args.concurrency)]
            await asyncio.gather(*(c.open() for c in conns))
            try:
                await _send_all(conns, WARMUP, not args.no_client_ids, "w", None)
                latencies: list[int] = []
                cpu0, pg0 = proc_cpu_s(srv.pid), postgres_cpu_s() if args.db == "postgres" else 0
                t0 = time.monotonic()
                sent = await _send_all(conns, args.messages, not args.no_client_ids, "m", latencies)
                seconds = time.monotonic() - t0
                cpu = proc_cpu_s(srv.pid) - cpu0
                pg = postgres_cpu_s() - pg0 if args.db == "postgres" else 0.0
            finally:
                for c in conns:
                    await c.close()
            lat = percentiles(latencies, 1e6)
            return {
                "db": args.db,
                "auth": args.auth,
                "client_ids": not args.no_client_ids,
                "concurrency": args.concurrency,
                "messages": sent,
                "seconds": round(seconds, 3),
                "msg_per_s": round(sent / seconds, 1),
                "server_cpu_ms_per_msg": round(cpu / sent * 1000, 3),
                "postgres_cpu_ms_per_msg": round(pg / sent * 1000, 3),
                "latency_ms": lat,
                "pinning": pinning.describe(),
                "server_problems": srv.log_problems(),
            }
        finally:
            await target.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--concurrency", type=int, default=20)
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--auth", choices=("bearer", "apikey"), default="bearer")
    ap.add_argument("--no-client-ids", action="store_true", help="send without a client `id`")
    ap.add_argument("--no-pin", action="store_true")
    ap.add_argument("--json", default="", help="append the result as one JSON line to FILE")
    args = ap.parse_args()
    row = asyncio.run(run(args))
    lat = row["latency_ms"]
    print(
        f"symbia send {row['db']:8} {row['auth']:6} c={row['concurrency']:<3}"
        f" {row['msg_per_s']:8.1f} msg/s  server {row['server_cpu_ms_per_msg']:.3f} CPU ms/msg"
        + (f"  postgres {row['postgres_cpu_ms_per_msg']:.3f}" if row["db"] == "postgres" else "")
        + f"  p50 {lat['p50']} ms  p99 {lat['p99']} ms  ({row['messages']} msgs)",
        flush=True,
    )
    if row["server_problems"]:
        print("  server logged: " + "; ".join(row["server_problems"]), file=sys.stderr)
    if args.json:
        with open(args.json, "a") as f:
            f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
