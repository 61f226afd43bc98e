"""Test support: a real server process and real WebSocket/HTTP clients.

Nothing here mocks hubbub: `ServerProcess` runs `python -m hubbub serve` on an
ephemeral port, `Client` speaks the `/ws` protocol over a real socket.
Waiting is always on a condition with a timeout, never a bare sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import msgspec
from websockets.asyncio.client import ClientConnection, connect

# Test-only argon2 cost (as bench/ uses): a 64 KiB hash takes ~0.05 ms where the
# default 64 MiB x 3 takes ~200 ms, and the suite registers and signs in
# thousands of users. The hashes are still argon2id; production keeps the defaults.
FAST_ARGON = {"HUBBUB_ARGON2_TIME_COST": "1", "HUBBUB_ARGON2_MEMORY_KIB": "64"}
# Test servers register many users from one address: registration is open and
# auth throttling off unless a test's `extra_env` says otherwise
# (tests/integration/test_operators.py, test_throttle.py do).
OPEN_DOORS = {"HUBBUB_REGISTRATION": "open", "HUBBUB_AUTH_RATE_LIMIT": "false"}
DEFAULT_TIMEOUT = 10.0


class ServerProcess:
    # Set by conftest when the suite runs against PostgreSQL + NATS.
    default_database_url = ""
    default_nats_url = ""

    def __init__(
        self,
        data_dir: Path,
        *,
        database_url: str = "",
        nats_url: str = "",
        extra_env: dict[str, str] | None = None,
        log_path: Path | None = None,
        port: int = 0,
    ) -> None:
        self.data_dir = data_dir
        self.database_url = database_url or ServerProcess.default_database_url
        self.nats_url = nats_url or ServerProcess.default_nats_url
        self.extra_env = extra_env or {}
        self.log_path = log_path or data_dir / "server.log"
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None
        self.base_url = ""

    def start(self, timeout: float = 30.0) -> ServerProcess:
        env = dict(os.environ)
        env.update(FAST_ARGON)
        env.update(OPEN_DOORS)
        env.update({"HUBBUB_LOG_FORMAT": "json", "PYTHONUNBUFFERED": "1"})
        env.update(self.extra_env)
        cmd = [sys.executable, "-m", "hubbub", "serve", "--port", str(self.port)]
        cmd += ["--data-dir", str(self.data_dir)]
        if self.database_url:
            cmd += ["--database-url", self.database_url]
        if self.nats_url:
            cmd += ["--nats-url", self.nats_url]
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, env=env)
        log.close()
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        line = b""
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            if b"listening on" in line:
                self.base_url = line.decode().strip().rsplit(" ", 1)[-1]
                self.port = int(self.base_url.rsplit(":", 1)[-1])
                return self
        self.stop()
        raise RuntimeError(
            f"server did not start: {line!r}; log: {self.log_path.read_text()[-2000:]}"
        )

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/ws"

    def kill9(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
            self.proc = None


async def hubbub_cli(server: ServerProcess, *args: str, stdin: str = "") -> str:
    """Run `hubbub ARGS` on `server`'s database (as an operator would, while it
    runs); its standard output. Fails the test if the command fails."""
    cmd = [sys.executable, "-m", "hubbub", *args, "--data-dir", str(server.data_dir)]
    if server.database_url:
        cmd += ["--database-url", server.database_url]
    env = dict(os.environ)
    env.update(FAST_ARGON)
    env.update({"HUBBUB_LOG_FORMAT": "json", **server.extra_env})
    proc = await asyncio.create_subprocess_exec(
        *cmd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    out, err = await asyncio.wait_for(proc.communicate(stdin.encode()), 60)
    if proc.returncode != 0:
        raise AssertionError(f"hubbub {' '.join(args)} failed: {err.decode()[-2000:]}")
    return out.decode()


class ProtocolError(AssertionError):
    pass


class Client:
    """One device of one user, connected to `/ws`.

    Every other client negotiates permessage-deflate (as browsers do) and the
    others do not (as most native apps and bots): the server writes frames to
    the two kinds by different paths (`protocols/wsserver.py`), and every
    test with two clients or more exercises both.
    """

    _ids = itertools.count(1)
    _made = itertools.count()

    def __init__(self, server: ServerProcess, user_id: str, token: str, device_id: str) -> None:
        self.server = server
        self.user_id = user_id
        self.token = token
        self.device_id = device_id
        self.ws: ClientConnection | None = None
        self.frames: list[dict[str, Any]] = []
        self._changed = asyncio.Condition()
        self._reader: asyncio.Task[None] | None = None
        self.closed: tuple[int | None, str | None] | None = None
        self.deflate = next(self._made) % 2 == 0

    async def connect(
        self,
        *,
        header_auth: bool = True,
        wait_ready: bool = True,
        headers: dict[str, str] | None = None,
    ) -> Client:
        headers = {"X-Device-Id": self.device_id, **(headers or {})}
        if header_auth:
            headers["Authorization"] = f"Bearer {self.token}"
        self.ws = await connect(
            self.server.ws_url,
            additional_headers=headers,
            max_size=2**24,
            compression="deflate" if self.deflate else None,
        )
        self.closed = None
        self._reader = asyncio.create_task(self._read())
        if header_auth and wait_ready:
            await self.wait_for(lambda f: f.get("type") == "Authenticated")
        return self

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for raw in self.ws:
                frame = msgspec.json.decode(raw)
                async with self._changed:
                    self.frames.append(frame)
                    self._changed.notify_all()
        except Exception:
            pass
        finally:
            async with self._changed:
                self.closed = (self.ws.close_code, self.ws.close_reason)
                self._changed.notify_all()

    async def wait_for(
        self, pred: Callable[[dict[str, Any]], bool], timeout: float = DEFAULT_TIMEOUT
    ) -> dict[str, Any]:
        async def check() -> dict[str, Any]:
            async with self._changed:
                while True:
                    for f in self.frames:
                        if pred(f):
                            return f
                    if self.closed is not None:
                        raise ProtocolError(f"connection closed {self.closed} while waiting")
                    await self._changed.wait()

        return await asyncio.wait_for(check(), timeout)

    async def wait_closed(self, timeout: float = DEFAULT_TIMEOUT) -> tuple[int | None, str | None]:
        async def check() -> tuple[int | None, str | None]:
            async with self._changed:
                while self.closed is None:
                    await self._changed.wait()
                return self.closed

        return await asyncio.wait_for(check(), timeout)

    async def events(
        self, type_: str, n: int = 1, timeout: float = DEFAULT_TIMEOUT, **match: Any
    ) -> list[dict[str, Any]]:
        """Wait until `n` frames of `type_` whose data matches `match` have arrived."""

        def matching() -> list[dict[str, Any]]:
            return [
                f
                for f in self.frames
                if f.get("type") == type_
                and all(f.get("data", {}).get(k) == v for k, v in match.items())
            ]

        await self.wait_for(lambda _f: len(matching()) >= n, timeout)
        return matching()

    async def send_raw(self, payload: str | bytes) -> None:
        assert self.ws is not None
        await self.ws.send(payload)

    async def request(
        self, channel: str, type_: str, data: dict[str, Any], timeout: float = DEFAULT_TIMEOUT
    ) -> dict[str, Any]:
        fid = f"r{next(self._ids)}"
        await self.send_raw(
            msgspec.json.encode(
                {"id": fid, "channel": channel, "type": type_, "data": data}
            ).decode()
        )
        return await self.wait_for(lambda f: f.get("ref") == fid, timeout)

    async def ok(self, channel: str, type_: str, data: dict[str, Any]) -> dict[str, Any]:
        reply = await self.request(channel, type_, data)
        if reply["type"] == "Error":
            raise ProtocolError(f"{channel} {type_} failed: {reply['data']}")
        return reply

    def max_seq(self) -> int:
        return max((f["seq"] for f in self.frames if f.get("seq") is not None), default=0)

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._reader, 5)
        self.ws = None


class Api:
    """REST helper bound to one server."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.http = httpx.AsyncClient(base_url=server.base_url, timeout=DEFAULT_TIMEOUT)

    async def register(
        self, name: str | None = None, password: str = "correct horse battery", **extra: Any
    ) -> tuple[str, str, str]:
        username = name or "u" + secrets.token_hex(6)
        r = await self.http.post(
            "/v1/auth/register", json={"username": username, "password": password, **extra}
        )
        assert r.status_code == 201, r.text
        body = r.json()
        return body["user_id"], body["token"], username

    async def direct(self, token: str, other: str) -> str:
        r = await self.http.post(
            "/v1/conversations/direct",
            json={"user_id": other},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code in (200, 201), r.text
        return str(r.json()["conversation_id"])

    async def user(self, count: int = 1) -> list[tuple[str, str, str]]:
        return [await self.register() for _ in range(count)]

    async def client(self, user: tuple[str, str, str], device: str = "") -> Client:
        uid, token, _ = user
        c = Client(self.server, uid, token, device or "dev-" + secrets.token_hex(3))
        return await c.connect()

    async def aclose(self) -> None:
        await self.http.aclose()


async def full_resume(client: Client, tag: str = "full") -> list[dict[str, Any]]:
    """Every change of the user's feed: `SyncRequest` pages until `has_more` is false."""
    changes: list[dict[str, Any]] = []
    since = 0
    while True:
        resp = await client.ok(
            "sync/request", "SyncRequest", {"request_id": f"{tag}{since}", "since_sequence": since}
        )
        changes += resp["data"]["changes"]
        if not resp["data"]["has_more"]:
            return changes
        since = resp["data"]["to_sequence"]
