"""The servers a scenario runs against: hubbub, and the bare peers it is compared to.

A target starts its server process(es), pinned to the server cores, and
tells the load generator how each connection reaches its room:

- hubbub: a registered user per connection, `/ws` with `Authorization:
  Bearer <token>`; a room of 2 is a direct conversation (REST), a bigger room
  a group (`CreateGroup`). Full persistence and auth, as in production, with
  the per-connection rate limit and send-queue bound lifted (a `--max` sender
  would otherwise be throttled at 50 frames/s).
- a peer (`bench/peers/`): no auth, no persistence; `ws://.../room/<id>`
  joins room `<id>`, a text frame goes to the room's other members as is and
  the sender gets `ack`. It is what a hand-written broadcast server costs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

from bench.sysinfo import Pinning, pin, proc_cpu_s
from bench.wire import Proto, bounded

__all__ = [
    "BENCH_SERVER_ENV",
    "PEERS_DIR",
    "PG_ADMIN_URL",
    "Hubbub",
    "Peer",
    "ServerProc",
    "Target",
    "TargetUnavailable",
    "wait_idle",
]

PEERS_DIR = Path(__file__).resolve().parent / "peers"
PG_ADMIN_URL = os.environ.get("HUBBUB_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
NATS_URL = os.environ.get("HUBBUB_BENCH_NATS", "nats://127.0.0.1:4222")

# Server-wide limits lifted for the benchmark: the defaults (50 frames/s, burst
# 200) would rate-limit a sender running --max, and a queue of 1024 frames
# would cut a receiver that lags behind a burst.
BENCH_SERVER_ENV = {
    "HUBBUB_RATE_PER_SECOND": "1000000",
    "HUBBUB_RATE_BURST": "1000000",
    "HUBBUB_SEND_QUEUE_LIMIT": "1000000",
}
# Set even with the default limits: thousands of users register from one
# address, which the registration policy and auth throttling exist to refuse
# (docs/security.md).
OPEN_DOORS = {"HUBBUB_REGISTRATION": "open", "HUBBUB_AUTH_RATE_LIMIT": "false"}
# Registering 10,000 users must not take minutes of password hashing; the
# benchmark authenticates connections with tokens, which argon2 never sees.
FAST_ARGON = {"HUBBUB_ARGON2_TIME_COST": "1", "HUBBUB_ARGON2_MEMORY_KIB": "64"}


class TargetUnavailable(Exception):
    """This target cannot run here (no node/npm, no PostgreSQL...): skip it, say why."""


async def wait_idle(pids: Sequence[int], timeout: float = 120.0) -> None:
    """Until the processes use under 5% of a core over a quarter second.

    Connect-time work (presence fan-out, allocations) must be over before
    memory is read or a phase starts.
    """
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        c0 = sum(proc_cpu_s(p) for p in pids)
        await asyncio.sleep(0.25)
        if sum(proc_cpu_s(p) for p in pids) - c0 < 0.0125 * len(pids):
            return


# --------------------------------------------------------------------------- processes
class ServerProc:
    """A server subprocess that prints `listening on <port|url>` when ready."""

    def __init__(self, argv: list[str], log_path: Path, env: dict[str, str] | None = None) -> None:
        self.argv = argv
        self.log_path = log_path
        self.env = env or {}
        self.proc: asyncio.subprocess.Process | None = None
        self.base_url = ""

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def ws_base(self) -> str:
        return self.base_url.replace("http://", "ws://", 1)

    async def start(self, cores: frozenset[int] | None, timeout: float = 60) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        log = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            self.proc = await asyncio.create_subprocess_exec(
                *self.argv, stdout=asyncio.subprocess.PIPE, stderr=log, env=env
            )
        finally:
            os.close(log)
        pin(self.pid, cores)  # before it starts threads: they inherit the mask
        assert self.proc.stdout is not None
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while line := await self.proc.stdout.readline():
                    if b"listening on" in line:
                        where = line.decode().split("listening on", 1)[1].strip()
                        self.base_url = where if "://" in where else f"http://127.0.0.1:{where}"
                        pin(self.pid, cores)  # every thread it has by now
                        return
        await self.stop()
        raise RuntimeError(f"{self.argv[:3]} did not start; log tail:\n{self.log_tail()}")

    def log_tail(self, n: int = 2000) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")[-n:]
        return ""

    def log_problems(self, limit: int = 5) -> list[str]:
        """Warning/error lines and tracebacks the server logged, shortened."""
        out: list[str] = []
        pattern = r'"level": ?"(warning|error|critical)"|Traceback|^\w*Error\b'
        with contextlib.suppress(OSError):
            for line in self.log_path.read_text(errors="replace").splitlines():
                if re.search(pattern, line):
                    out.append(_shorten(line))
        return out[:limit] + ([f"... {len(out) - limit} more"] if len(out) > limit else [])

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), 10)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


def _shorten(line: str) -> str:
    """A JSON log line as `level: event: last line of the exception`."""
    try:
        rec = json.loads(line)
    except ValueError:
        return line[:300]
    if not isinstance(rec, dict):
        return line[:300]
    exc = str(rec.get("exception", "")).strip().splitlines()
    tail = f": {exc[-1]}" if exc else ""
    return f"{rec.get('level', '?')}: {rec.get('event', '')}{tail}"[:300]


# --------------------------------------------------------------------------- targets
class Target:
    """What the traffic runner needs from a server under test."""

    name = "?"
    proto: Proto = "peer"

    def __init__(self) -> None:
        self.servers: list[ServerProc] = []

    @property
    def pids(self) -> list[int]:
        return [s.pid for s in self.servers if s.proc is not None]

    async def start(self, pinning: Pinning, tmp: Path) -> None:
        raise NotImplementedError

    async def conn_specs(
        self, n: int, rooms: Sequence[Sequence[int]]
    ) -> list[tuple[str, dict[str, str]]]:
        """URL and headers of each of `n` connections (room membership known upfront)."""
        raise NotImplementedError

    async def create_rooms(self, rooms: Sequence[Sequence[int]]) -> list[str]:
        """Make the rooms exist; returns the id a sender names in each message."""
        raise NotImplementedError

    async def open_connections(self) -> int | None:
        """The server's own count of open connections, when it has one."""
        return None

    async def counters(self) -> dict[str, float]:
        """Server-side counters (hubbub: group commits), for the run's details."""
        return {}

    def log_problems(self) -> list[str]:
        return [p for s in self.servers for p in s.log_problems()]

    def notes(self) -> list[str]:
        """Anything odd during setup (not a measured figure, but worth reading)."""
        return []

    async def stop(self) -> None:
        for s in reversed(self.servers):
            await s.stop()


class Peer(Target):
    """A bare broadcast server from bench/peers (Python `websockets` or Node `ws`)."""

    proto: Proto = "peer"

    def __init__(self, kind: str) -> None:
        super().__init__()
        if kind not in ("python", "node"):
            raise ValueError(f"unknown peer {kind!r}")
        self.kind = kind
        self.name = "py-websockets" if kind == "python" else "node-ws"

    async def start(self, pinning: Pinning, tmp: Path) -> None:
        if self.kind == "node":
            await asyncio.to_thread(ensure_node_modules)
            argv = ["node", str(PEERS_DIR / "node_ws_broadcast.js"), "0"]
        else:
            argv = [sys.executable, str(PEERS_DIR / "py_websockets_broadcast.py"), "0"]
        srv = ServerProc(argv, tmp / f"{self.name}.log")
        self.servers = [srv]
        await srv.start(pinning.server)

    async def conn_specs(
        self, n: int, rooms: Sequence[Sequence[int]]
    ) -> list[tuple[str, dict[str, str]]]:
        room_of = ["lobby"] * n
        for r, members in enumerate(rooms):
            for i in members:
                room_of[i] = f"r{r}"
        base = self.servers[0].ws_base
        return [(f"{base}/room/{room_of[i]}", {}) for i in range(n)]

    async def create_rooms(self, rooms: Sequence[Sequence[int]]) -> list[str]:
        return [f"r{r}" for r in range(len(rooms))]  # joining is the URL; nothing to create


def ensure_node_modules() -> None:
    """`npm ci` in bench/peers when node_modules is missing; unavailable without node/npm."""
    if shutil.which("node") is None:
        raise TargetUnavailable("node is not installed")
    if (PEERS_DIR / "node_modules" / "ws" / "package.json").exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise TargetUnavailable("npm is not installed (needed once for bench/peers/node_modules)")
    print("  .. npm ci in bench/peers (node_modules missing)", file=sys.stderr, flush=True)
    try:
        out = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=PEERS_DIR,
            capture_output=True,
            text=True,
            timeout=300,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise TargetUnavailable(f"npm ci failed: {exc}") from exc
    if out.returncode != 0 or not (PEERS_DIR / "node_modules" / "ws").exists():
        raise TargetUnavailable(f"npm ci failed: {(out.stderr or out.stdout).strip()[-300:]}")


class Hubbub(Target):
    """`python -m hubbub serve`, one or more nodes, SQLite or PostgreSQL (+ NATS)."""

    proto: Proto = "hubbub"

    def __init__(
        self,
        *,
        db: str = "sqlite",
        nodes: int = 1,
        nats: bool | None = None,
        name: str = "hubbub",
        pg_admin_url: str = PG_ADMIN_URL,
        nats_url: str = NATS_URL,
        default_limits: bool = False,
    ) -> None:
        super().__init__()
        if db not in ("sqlite", "postgres"):
            raise ValueError("db must be sqlite or postgres")
        self.nats = nodes > 1 if nats is None else nats
        if self.nats and db != "postgres":
            raise ValueError("a cluster (NATS) needs PostgreSQL")
        self.db, self.nodes, self.name = db, nodes, name
        self.pg_admin_url, self.nats_url = pg_admin_url, nats_url
        self.server_env = {} if default_limits else dict(BENCH_SERVER_ENV)
        self.db_name = ""
        self.nats_prefix = ""  # this run's subjects and JetStream names contain it
        self.users: list[tuple[str, str]] = []  # (user_id, token) per connection
        self.retries: dict[str, int] = {}  # setup requests retried, by path and cause

    async def start(self, pinning: Pinning, tmp: Path) -> None:
        database_url = ""
        if self.db == "postgres":
            name = "hubbub_bench_" + secrets.token_hex(4)
            try:
                await pg_execute(self.pg_admin_url, f'CREATE DATABASE "{name}"')
            except Exception as exc:
                raise TargetUnavailable(f"PostgreSQL unreachable: {exc!r}") from exc
            self.db_name = name
            database_url = self.pg_admin_url.rsplit("/", 1)[0] + "/" + name
        env = {**FAST_ARGON, **OPEN_DOORS, "HUBBUB_LOG_FORMAT": "json", **self.server_env}
        if self.nats:
            self.nats_prefix = "hubbub_bench_" + secrets.token_hex(4)
            env["HUBBUB_NATS_URL"] = self.nats_url
            env["HUBBUB_NATS_PREFIX"] = self.nats_prefix
        for i in range(self.nodes):
            data = tmp / f"{self.name.replace(' ', '_')}-data{i}"
            data.mkdir()
            argv = [sys.executable, "-m", "hubbub", "serve", "--port", "0"]
            argv += ["--data-dir", str(data)]
            if database_url:
                argv += ["--database-url", database_url]
            srv = ServerProc(argv, data / "server.log", {**env, "HUBBUB_NODE_ID": f"n{i}"})
            self.servers.append(srv)
            await srv.start(pinning.server)

    async def stop(self) -> None:
        await super().stop()
        if self.nats_prefix:
            with contextlib.suppress(Exception):
                await nats_delete_streams(self.nats_url, self.nats_prefix)
        if self.db_name:
            with contextlib.suppress(Exception):
                await pg_execute(
                    self.pg_admin_url, f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)'
                )

    def _http(self, node: int = 0) -> httpx.AsyncClient:
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        return httpx.AsyncClient(base_url=self.servers[node].base_url, timeout=120, limits=limits)

    async def conn_specs(
        self, n: int, rooms: Sequence[Sequence[int]]
    ) -> list[tuple[str, dict[str, str]]]:
        self.users = await self._register(n)
        return [
            (
                self.servers[i % len(self.servers)].ws_base + "/ws",
                {"Authorization": f"Bearer {tok}", "X-Device-Id": f"bench-{i}"},
            )
            for i, (_uid, tok) in enumerate(self.users)
        ]

    async def _post(
        self, http: httpx.AsyncClient, path: str, body: dict[str, Any], token: str = ""
    ) -> tuple[httpx.Response, bool]:
        """POST, retrying dropped connections and 5xx answers; (response, retried).

        Setup is not what is measured, but a server that fails setup requests
        under load is worth knowing: every retry is counted in `notes`.
        """
        headers = {"Authorization": f"Bearer {token}"} if token else None
        why = ""
        for attempt in range(6):
            try:
                r = await http.post(path, json=body, headers=headers)
            except httpx.TransportError as exc:
                why = f"{type(exc).__name__}"
            else:
                if r.status_code < 500:
                    return r, attempt > 0
                why = f"{r.status_code}"
            self.retries[f"{path} {why}"] = self.retries.get(f"{path} {why}", 0) + 1
            await asyncio.sleep(0.1 * 2**attempt)
        raise RuntimeError(f"{path} failed 6 times, last: {why}")

    async def _register(self, n: int) -> list[tuple[str, str]]:
        prefix = "b" + secrets.token_hex(3)
        async with self._http() as http:

            async def one(i: int) -> tuple[str, str]:
                body = {"username": f"{prefix}_{i}", "password": "bench-password"}
                r, retried = await self._post(http, "/v1/auth/register", body)
                if r.status_code == 409 and retried:  # an attempt that failed did commit
                    r, _ = await self._post(http, "/v1/auth/login", body)
                if r.status_code not in (200, 201):
                    raise RuntimeError(f"register failed: {r.status_code} {r.text[:200]}")
                got = r.json()
                return str(got["user_id"]), str(got["token"])

            # More in flight does not register faster (the server writes users one
            # transaction each) and makes SQLite time out on its write lock.
            results = await bounded(8, [one(i) for i in range(n)])
        out: list[tuple[str, str]] = []
        for r in results:
            if isinstance(r, BaseException):
                raise r
            out.append(r)
        return out

    async def create_rooms(self, rooms: Sequence[Sequence[int]]) -> list[str]:
        async with self._http() as http:

            async def one(members: Sequence[int]) -> str:
                if len(members) == 2:
                    return await self._direct(http, members[0], members[1])
                return await self._group(members)

            results = await bounded(16, [one(m) for m in rooms])
        ids: list[str] = []
        for r in results:
            if isinstance(r, BaseException):
                raise r
            ids.append(r)
        return ids

    async def _direct(self, http: httpx.AsyncClient, a: int, b: int) -> str:
        body = {"user_id": self.users[b][0]}
        r, _ = await self._post(http, "/v1/conversations/direct", body, self.users[a][1])
        if r.status_code not in (200, 201):
            raise RuntimeError(f"open direct failed: {r.status_code} {r.text[:200]}")
        return str(r.json()["conversation_id"])

    async def _group(self, members: Sequence[int]) -> str:
        """CreateGroup over a short-lived extra connection of the room's first member."""
        creator = self.users[members[0]]
        frame = {
            "id": "create",
            "channel": "chat/groups",
            "type": "CreateGroup",
            "data": {
                "name": "bench",
                "member_ids": [self.users[i][0] for i in members[1:]],
                "client_request_id": "bench-" + secrets.token_hex(4),
            },
        }
        headers = {"Authorization": f"Bearer {creator[1]}", "X-Device-Id": "bench-setup"}
        async with connect(
            self.servers[0].ws_base + "/ws",
            additional_headers=headers,
            max_size=None,
            open_timeout=60,
            compression=None,
        ) as ws:
            await ws.send(json.dumps(frame))
            async with asyncio.timeout(120):
                while True:
                    env: dict[str, Any] = json.loads(await ws.recv())
                    if env.get("ref") == "create":
                        break
        if env.get("type") != "CreateGroupAck":
            raise RuntimeError(f"CreateGroup failed: {env}")
        return str(env["data"]["group_id"])

    def notes(self) -> list[str]:
        return [f"setup request retried {n}x: {why}" for why, n in self.retries.items()]

    async def open_connections(self) -> int | None:
        total = 0
        for i in range(len(self.servers)):
            async with self._http(i) as http:
                total += int((await metrics(http)).get("hubbub_ws_connections", 0))
        return total

    async def counters(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for i in range(len(self.servers)):
            async with self._http(i) as http:
                for k, v in (await metrics(http)).items():
                    out[k] = out.get(k, 0.0) + v
        return out


async def metrics(http: httpx.AsyncClient) -> dict[str, float]:
    """hubbub's own Prometheus samples (unlabelled ones only)."""
    text = (await http.get("/metrics")).text
    return {
        m.group(1): float(m.group(2)) for m in re.finditer(r"^(hubbub_[a-z_]+) (\S+)$", text, re.M)
    }


async def nats_delete_streams(url: str, prefix: str) -> None:
    """Delete the JetStream streams (the presence KV bucket) a run's nodes created."""
    import nats

    nc = await nats.connect(url, connect_timeout=5, max_reconnect_attempts=0)
    try:
        js = nc.jetstream(timeout=5)
        for info in await js.streams_info():
            name = info.config.name or ""
            if prefix in name:
                await js.delete_stream(name)
    finally:
        await nc.close()


async def pg_execute(admin_url: str, sql: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(admin_url, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()
