"""Resource limits: what a hostile or broken client can make the server hold.

Each test runs its own server process and reports the server's RSS before the
load, at its peak (the kernel's high-water mark, reset just before the load,
and a sampler as a fallback) and after, in MiB:

- near-limit frames: many frames just under the WebSocket size limit;
- compression bombs: small permessage-deflate frames that inflate far beyond it;
- slowloris: many handshakes trickled a byte at a time or never finished;
- never-reading clients: 20 connections flooded while they read nothing, and
  cut-off readers released by the server although they keep not reading;
- a flood from one user: rate-limited, while other users are still served.

Findings and fixes: docs/reliability-notes.md.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import secrets
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tests.reliability.conftest import Figure, scale
from tests.reliability.rawws import OP_CONT, OP_TEXT, RawWS, build_frame
from tests.support import Api, Client, ServerProcess

MiB = 1024 * 1024
FAST = {"HUBBUB_RATE_PER_SECOND": "100000", "HUBBUB_RATE_BURST": "100000"}


# -- measuring the server -------------------------------------------------------


def _status(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {key} for {pid}")


def rss_mib(pid: int) -> float:
    return _status(pid, "VmRSS")


def sockets(pid: int) -> int:
    """Open sockets of the process (its files, e.g. SQLite's, come and go with the pool)."""
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            n += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
    return n


class Rss:
    """RSS before, at the peak of, and after a load, in MiB."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.before = self.peak = self.after = 0.0
        self._hwm = False
        self._task: asyncio.Task[None] | None = None

    async def _sample(self) -> None:
        while True:
            self.peak = max(self.peak, rss_mib(self.pid))
            await asyncio.sleep(0.02)  # a sampling period, not a wait for anything

    def start(self) -> None:
        self.before = self.peak = rss_mib(self.pid)
        try:  # "5" resets the peak RSS (VmHWM) to the current RSS.
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
            self._hwm = True
        except OSError:
            self._hwm = False
        self._task = asyncio.create_task(self._sample())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self._hwm:
            self.peak = max(self.peak, _status(self.pid, "VmHWM"))
        self.peak = max(self.peak, rss_mib(self.pid))
        self.after = rss_mib(self.pid)

    @property
    def growth(self) -> float:
        return self.peak - self.before

    def text(self) -> str:
        return f"RSS {self.before:.1f} / {self.peak:.1f} / {self.after:.1f} MiB"

    def numbers(self) -> dict[str, float]:
        return {
            "rss_before_mib": round(self.before, 1),
            "rss_peak_mib": round(self.peak, 1),
            "rss_after_mib": round(self.after, 1),
        }


def log_errors(srv: ServerProcess) -> list[str]:
    out = []
    for line in srv.log_path.read_text().splitlines():
        if line.startswith("{") and json.loads(line).get("level") in (
            "error",
            "critical",
            "exception",
        ):
            out.append(line[:300])
    return out


@contextlib.asynccontextmanager
async def running(tmp_path: Path, env: dict[str, str]) -> AsyncIterator[tuple[ServerProcess, Api]]:
    srv = ServerProcess(tmp_path / "srv", extra_env=env).start()
    api = Api(srv)
    try:
        yield srv, api
    finally:
        await api.aclose()
        srv.stop()


def pid_of(srv: ServerProcess) -> int:
    assert srv.proc is not None
    return srv.proc.pid


async def round_trip(c: Client, rid: str = "ping") -> None:
    reply = await c.request("status/response", "RequestStatus", {"request_id": rid})
    assert reply["type"] == "StatusResponseReceived", reply


async def healthy(api: Api) -> None:
    """A fresh normal client connects and gets a reply."""
    c = await api.client(await api.register())
    try:
        await round_trip(c, "healthy")
    finally:
        await c.close()


async def metric(api: Api, name: str) -> float:
    r = await api.http.get("/metrics")
    assert r.status_code == 200
    for line in r.text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"metric {name} not exposed")


async def until(cond: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    """Poll an external condition (server state seen from outside) until true."""

    async def loop() -> None:
        while not await cond():  # noqa: ASYNC110 - polls state outside this process
            await asyncio.sleep(0.05)

    try:
        await asyncio.wait_for(loop(), timeout)
    except TimeoutError:
        raise AssertionError(f"timed out after {timeout} s waiting for {what}") from None


def ws_max(max_frame_bytes: int) -> int:
    """The WebSocket layer's message limit for a given --max-frame-bytes (see cli.py)."""
    return max_frame_bytes * 4 + 1024


def padded(fid: str, size: int) -> bytes:
    """A valid JSON frame of exactly `size` bytes."""
    head = msgspec.json.encode(
        {"id": fid, "channel": "sync/request", "type": "SyncRequest", "data": {"pad": ""}}
    )
    pad = size - len(head)
    assert pad >= 0
    return head[:-3] + b"x" * pad + head[-3:]


# -- (a) near-limit frames ------------------------------------------------------


async def test_near_limit_frames_keep_rss_bounded(tmp_path: Path, figure: Figure) -> None:
    """Frames just under the WebSocket limit (each refused as `too_large`) and just
    under --max-frame-bytes (each served) from several connections at once.

    Bound: uvicorn pauses reading after each message until the app takes it, so
    a connection holds at most a few messages (socket buffer, parser, decoded
    str): growth < connections x 4 x limit + 48 MiB.
    """
    max_frame = 256 * 1024
    limit = ws_max(max_frame)
    conns, per_conn = 4, scale(60, 1500)
    async with running(tmp_path, FAST) as (srv, api):
        pid = pid_of(srv)
        users = await api.user(conns)
        socks = [await RawWS.connect(srv.ws_url, u[1]) for u in users]
        for s in socks:
            await s.wait_ready()
        await healthy(api)
        rss = Rss(pid)
        rss.start()

        async def drive(i: int, s: RawWS) -> tuple[int, int]:
            big, small = 0, 0
            for n in range(per_conn):
                near_ws = n % 2 == 0
                fid = f"c{i}-{n}"
                size = limit - 16 if near_ws else max_frame - 16
                await s.send(OP_TEXT, padded(fid, size))
                reply = await s.recv_json(lambda f, fid=fid: f.get("ref") == fid, timeout=30)
                if near_ws:
                    assert reply["type"] == "Error", reply
                    assert reply["data"]["code"] == "too_large"
                    big += 1
                else:
                    assert reply["type"] == "SyncResponse", reply
                    small += 1
            return big, small

        counts = await asyncio.gather(*(drive(i, s) for i, s in enumerate(socks)))
        await healthy(api)
        rss.stop()
        for s in socks:
            await s.close()
        sent_mib = sum(b * limit + m * max_frame for b, m in counts) / MiB
        bound = conns * 4 * limit / MiB + 48
        assert rss.growth < bound, (rss.text(), bound)
        assert log_errors(srv) == []
    figure(
        "Resource limits: near-limit frames",
        f"{conns} connections x {per_conn} frames alternating just under the WebSocket limit "
        f"({limit} B, refused as too_large) and just under --max-frame-bytes ({max_frame} B, "
        "served)",
        f"{sent_mib:.0f} MiB received, every frame answered; {rss.text()} (before/peak/after); "
        f"growth {rss.growth:.1f} MiB < bound {bound:.0f} MiB",
        sent_mib=round(sent_mib, 1),
        bound_mib=round(bound, 1),
        **rss.numbers(),
    )


# -- (b) compression bombs --------------------------------------------------------


def zero_stream(n: int, wbits: int) -> bytes:
    """permessage-deflate payload of `n` zero bytes, compressed without building them."""
    c = zlib.compressobj(9, zlib.DEFLATED, -wbits, 9)
    chunk = bytes(4 * MiB)
    out = []
    left = n
    while left:
        k = min(left, len(chunk))
        out.append(c.compress(chunk[:k]))
        left -= k
    out.append(c.flush(zlib.Z_SYNC_FLUSH))
    data = b"".join(out)
    assert data.endswith(b"\x00\x00\xff\xff")
    return data[:-4]


async def test_compression_bomb_is_closed_1009(tmp_path: Path, figure: Figure) -> None:
    """Is permessage-deflate negotiated? (uvicorn's default: yes.) Then small
    compressed frames that inflate far beyond the limit must be refused with
    1009, whether in one frame or spread over fragments, without the server
    inflating them.

    Bound: 32 MiB + bombs x (limit + compressed frame). Not a constant: the
    `websockets` protocol object of a closed connection sits in reference
    cycles (its parser generator, the PayloadTooBig traceback) and keeps its
    buffers, up to the limit's worth of inflated bytes plus the compressed
    frame, until the next full garbage collection (docs/reliability-notes.md).
    Inflating any one bomb would still exceed the bound by far.
    """
    max_frame = 256 * 1024
    limit = ws_max(max_frame)
    inflated = scale(64, 512) * MiB
    bombs = scale(6, 60)
    async with running(tmp_path, FAST) as (srv, api):
        pid = pid_of(srv)
        user = await api.register()
        probe = await RawWS.connect(srv.ws_url, user[1], offer_deflate=True)
        ext = probe.headers.get("sec-websocket-extensions", "")
        negotiated = "permessage-deflate" in ext
        if not negotiated:
            await probe.close()
            figure(
                "Resource limits: compression bomb",
                "offer permessage-deflate in the upgrade",
                "not negotiated by the server: compression bombs do not apply",
                negotiated=0,
            )
            assert "sec-websocket-extensions" not in probe.headers
            return
        # The negotiated stream is usable: the server's frames inflate fine.
        auth = await probe.wait_ready()
        assert auth["data"]["user_id"] == user[0]
        await probe.close()
        wbits = 12 if "client_max_window_bits=12" in ext else 15
        single = zero_stream(inflated, wbits)
        assert len(single) < limit  # the compressed frame itself passes the size check
        await healthy(api)
        rss = Rss(pid)
        rss.start()
        codes: list[int | None] = []
        for n in range(bombs):
            ws = await RawWS.connect(srv.ws_url, user[1], offer_deflate=True)
            await ws.wait_ready()
            if n % 2 == 0:
                await ws.send(OP_TEXT, single, rsv=4)
            else:
                # One compressed message in 4 fragments (RSV1 on the first only),
                # each fragment inflating to half the limit.
                stream = zero_stream(2 * limit, wbits)
                q = len(stream) // 4
                parts = [stream[:q], stream[q : 2 * q], stream[2 * q : 3 * q], stream[3 * q :]]
                with contextlib.suppress(ConnectionError):
                    await ws.send(OP_TEXT, parts[0], fin=False, rsv=4)
                    for k, part in enumerate(parts[1:], 1):
                        await ws.send(OP_CONT, part, fin=k == 3)
            close = await ws.wait_close(timeout=30)
            codes.append(None if close is None else close.close_code)
            await ws.wait_eof(timeout=30)
            await ws.abort()
        await healthy(api)
        rss.stop()
        assert codes == [1009] * bombs, codes
        bound = 32 + bombs * (limit + len(single)) / MiB
        assert rss.growth < bound, (rss.text(), bound)
        assert inflated / MiB > bound  # one inflated bomb would break the bound
        assert log_errors(srv) == []
    figure(
        "Resource limits: compression bomb",
        f"permessage-deflate negotiated ({ext!r}); {bombs} bombs: {len(single) // 1024} KiB "
        f"frames inflating to {inflated // MiB} MiB, and 4-fragment messages inflating to "
        f"2x the {limit} B limit",
        f"{codes.count(1009)}/{bombs} closed with 1009; {rss.text()} (before/peak/after); "
        f"growth {rss.growth:.1f} MiB < bound {bound:.0f} MiB (closed connections' buffers "
        "wait for the cyclic GC)",
        negotiated=1,
        bombs=bombs,
        inflated_mib=inflated // MiB,
        **rss.numbers(),
    )


# -- (c) slowloris ----------------------------------------------------------------


async def test_slowloris_handshakes_are_cut_and_others_served(
    tmp_path: Path, figure: Figure
) -> None:
    """Many connections that start an upgrade request and never finish it: half
    stall after a partial request line, half trickle a header one byte at a
    time forever. A normal client must be served meanwhile, and the server must
    close every one of them (--request-head-timeout-s, here 2 s).
    """
    n = scale(60, 1000)
    head_timeout = 2.0
    env = {**FAST, "HUBBUB_REQUEST_HEAD_TIMEOUT_S": str(head_timeout)}
    async with running(tmp_path, env) as (srv, api):
        pid = pid_of(srv)
        normal = await api.client(await api.register())
        await round_trip(normal)
        base_socks = sockets(pid)
        rss = Rss(pid)
        rss.start()
        host, port = "127.0.0.1", srv.port
        request = (
            f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        ).encode()
        socks = [await RawWS.open(host, port) for _ in range(n)]
        for s in socks[: n // 2]:  # stall inside the request line
            await s.send_bytes(request[:9])
        for s in socks[n // 2 :]:  # a complete-looking start, then a header that never ends
            await s.send_bytes(request + b"X-Slow: ")

        closed = [False] * n

        async def trickle(i: int, s: RawWS) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while not closed[i]:
                    s.writer.write(b"a")
                    await s.writer.drain()
                    await asyncio.sleep(0.25)  # the attack's pace, not a wait

        async def watch(i: int, s: RawWS) -> bool:
            try:
                await s.wait_eof(timeout=head_timeout * 5 + 20)
            except TimeoutError:
                return False
            closed[i] = True
            return True

        tricklers = [asyncio.create_task(trickle(i, s)) for i, s in enumerate(socks) if i >= n // 2]
        watchers = [asyncio.create_task(watch(i, s)) for i, s in enumerate(socks)]
        try:
            # While they hang on, normal traffic and new handshakes are served.
            served = 0
            for k in range(5):
                await round_trip(normal, f"during-{k}")
                served += 1
            await healthy(api)
            r = await api.http.get("/healthz")
            assert r.status_code == 200
            assert sockets(pid) >= base_socks + n // 2  # the slow sockets are really open
            # The server closes every half-open handshake.
            stuck = (await asyncio.gather(*watchers)).count(False)
        finally:
            for t in tricklers + watchers:
                t.cancel()
            await asyncio.gather(*tricklers, *watchers, return_exceptions=True)
            for s in socks:
                await s.abort()
        assert stuck == 0, f"{stuck}/{n} half-open handshakes never closed by the server"
        await round_trip(normal, "after")
        await until(
            lambda: _true(sockets(pid) <= base_socks + 2), 15, "server sockets back to baseline"
        )
        rss.stop()
        await normal.close()
        assert log_errors(srv) == []
    figure(
        "Resource limits: slowloris handshakes",
        f"{n} TCP connections: {n // 2} stall inside the request line, {n - n // 2} trickle "
        "a header 1 byte / 250 ms; a normal client works meanwhile",
        f"normal client served ({served} round trips + a new connection); all {n} closed by "
        f"the server (request head timeout {head_timeout:.0f} s); {rss.text()} "
        "(before/peak/after)",
        connections=n,
        closed=n - stuck,
        **rss.numbers(),
    )


async def _true(v: bool) -> bool:
    return v


# -- (d) clients that never read ------------------------------------------------


async def test_never_reading_clients_keep_rss_bounded(tmp_path: Path, figure: Figure) -> None:
    """20 connections that never read while a sender floods each of them in its
    own direct chat: every queue stops at --send-queue-limit and the reader is
    cut off (1013), so server memory stays bounded.

    Bound: 20 readers x (queue limit + 8 frames in socket/transport buffers) x
    frame size, x2 for allocator slack, + 32 MiB. The flood goes on until all 20
    are cut off or the server was asked to deliver 1.5x that bound (the readers'
    sockets hold ~0.5 MiB each: small window and MSS, see RawWS.open).
    """
    readers_n, queue_limit = 20, scale(32, 256)
    content_bytes = 48 * 1024
    frame_bytes = content_bytes + 400
    env = {**FAST, "HUBBUB_SEND_QUEUE_LIMIT": str(queue_limit)}
    async with running(tmp_path, env) as (srv, api):
        pid = pid_of(srv)
        sender_u = await api.register()
        readers_u = await api.user(readers_n)
        convs = [await api.direct(sender_u[1], r[0]) for r in readers_u]
        sender = await api.client(sender_u)
        readers = [await RawWS.connect(srv.ws_url, u[1], rcvbuf=16 * 1024) for u in readers_u]
        for r in readers:
            await r.wait_ready()
        # From here on the readers read nothing.
        await healthy(api)
        cut_before = await metric(api, "hubbub_ws_slow_consumer_disconnects_total")
        bound = readers_n * (queue_limit + 8) * frame_bytes * 2 / MiB + 32
        max_messages = int(1.5 * bound * MiB / frame_bytes)
        rss = Rss(pid)
        rss.start()
        sent = 0
        cut = 0
        rng_content = base64.b64encode(os.urandom(content_bytes * 3 // 4)).decode()

        async def send(cid: str) -> None:
            reply = await sender.request(
                "chat/messages/ack",
                "SendChatMessageWithClientId",
                {
                    "client_message_id": secrets.token_hex(8),
                    "conversation_id": cid,
                    # Distinct per message, so no two queues share a string.
                    "content": secrets.token_hex(4) + rng_content[8:],
                },
                timeout=30,
            )
            assert reply["type"] == "ChatMessageAccepted", reply

        while sent < max_messages:
            await asyncio.gather(*(send(cid) for cid in convs))
            sent += len(convs)
            del sender.frames[:]  # keep the test's own memory flat
            cut = int(await metric(api, "hubbub_ws_slow_consumer_disconnects_total") - cut_before)
            if cut >= readers_n:
                break
        await healthy(api)
        rss.stop()
        codes: list[int | None] = []
        for r in readers:
            with contextlib.suppress(TimeoutError):
                close = await r.wait_close(timeout=30)
                codes.append(None if close is None else close.close_code)
            await r.abort()
        await sender.close()
        assert cut == readers_n, f"only {cut}/{readers_n} cut off after {sent} messages"
        # 1013 slow consumer; 1011 keepalive ping timeout (uvicorn, after 40 s: long
        # runs); None: dropped by the kernel (--tcp-user-timeout-s) before the close.
        assert all(c in (1013, 1011, None) for c in codes), codes
        assert rss.growth < bound, (rss.text(), bound)
        assert log_errors(srv) == []
    figure(
        "Resource limits: clients that never read",
        f"{readers_n} connections read nothing while a sender floods each in its own direct "
        f"chat with ~{frame_bytes // 1024} KiB frames (send queue limit {queue_limit})",
        f"all {cut} cut off after {sent} messages ({sent * frame_bytes / MiB:.0f} MiB pushed; "
        f"{codes.count(1013)} saw close 1013); {rss.text()} (before/peak/after); "
        f"growth {rss.growth:.1f} MiB < bound {bound:.0f} MiB",
        messages=sent,
        bound_mib=round(bound, 1),
        **rss.numbers(),
    )


# -- (d') a cut-off reader that keeps not reading ---------------------------------


async def test_cut_off_reader_is_released_though_it_never_reads(
    tmp_path: Path, figure: Figure
) -> None:
    """Once a never-reading client is cut off, the server sends a close frame it
    will never read and closes the transport gracefully, which waits for the
    unread bytes to drain: it used to keep the socket, its kernel send buffer
    and the transport's buffer for as long as the peer stayed connected. With
    --tcp-user-timeout-s (here 4 s; 15 s in long runs) the kernel drops a connection whose sent
    data waited that long (before or after the queue cut-off, whichever comes
    first); the server's sockets go back to their baseline while the peers
    still read nothing and have closed nothing.
    """
    n = scale(5, 12)
    # Small, so the readers are cut off quickly; room for the sender, who gets
    # a presence update from each reader at once when they go.
    queue_limit, user_timeout = 16 + 2 * n, scale(4, 15)
    env = {
        **FAST,
        "HUBBUB_SEND_QUEUE_LIMIT": str(queue_limit),
        "HUBBUB_TCP_USER_TIMEOUT_S": str(user_timeout),
    }
    async with running(tmp_path, env) as (srv, api):
        pid = pid_of(srv)
        sender_u = await api.register()
        readers_u = await api.user(n)
        convs = [await api.direct(sender_u[1], r[0]) for r in readers_u]
        sender = await api.client(sender_u)
        cut_before = await metric(api, "hubbub_ws_slow_consumer_disconnects_total")
        base_socks = sockets(pid)
        readers = [await RawWS.connect(srv.ws_url, u[1], rcvbuf=16 * 1024) for u in readers_u]
        for r in readers:
            await r.wait_ready()
        assert sockets(pid) >= base_socks + n
        rss = Rss(pid)
        rss.start()
        content = base64.b64encode(os.urandom(36 * 1024)).decode()
        sent = 0
        while sent < n * 400:
            replies = await asyncio.gather(
                *(
                    sender.request(
                        "chat/messages/ack",
                        "SendChatMessageWithClientId",
                        {
                            "client_message_id": secrets.token_hex(8),
                            "conversation_id": cid,
                            "content": content,
                        },
                        timeout=30,
                    )
                    for cid in convs
                )
            )
            assert all(r["type"] == "ChatMessageAccepted" for r in replies), replies
            sent += n
            del sender.frames[:]
            # Every reader's session is over (cut off, or dropped by the kernel).
            if await metric(api, "hubbub_ws_connections") <= 1:
                break
        assert await metric(api, "hubbub_ws_connections") == 1, f"after {sent} messages"
        cut = int(await metric(api, "hubbub_ws_slow_consumer_disconnects_total") - cut_before)
        # The readers read nothing and close nothing; the server lets go anyway.
        await until(
            lambda: _true(sockets(pid) <= base_socks),
            user_timeout * 3 + 20,
            "the server to release the readers' sockets",
        )
        await healthy(api)
        rss.stop()
        for r in readers:
            await r.wait_eof(timeout=30)  # what was in flight, then the end
            await r.abort()
        await sender.close()
        assert log_errors(srv) == []
    figure(
        "Resource limits: cut-off readers released",
        f"{n} connections never read (nor close) while flooded until the server drops "
        f"them (send queue limit {queue_limit}, TCP_USER_TIMEOUT {user_timeout} s)",
        f"{cut} cut off by the queue, {n - cut} by the kernel first; all {n} sockets "
        "released by the server while the peers still read nothing (before the fix a "
        "cut-off peer's socket stayed open, ~0.5 MiB unsent, for as long as the peer "
        f"kept it); {rss.text()} (before/peak/after)",
        connections=n,
        cut_by_queue=cut,
        messages=sent,
        **rss.numbers(),
    )


# -- (e) one user floods ----------------------------------------------------------


async def test_flood_from_one_user_is_rate_limited_others_served(
    tmp_path: Path, figure: Figure
) -> None:
    """One connection sends thousands of frames as fast as it can (default
    --rate-per-second 50, --rate-burst 200): beyond the budget each gets
    `rate_limited` with `retry_after_ms`; other users' round trips succeed
    throughout. Served frames never exceed burst + rate x elapsed.
    """
    rate, burst = 50, 200
    n = scale(3000, 50000)
    env = {"HUBBUB_RATE_PER_SECOND": str(rate), "HUBBUB_RATE_BURST": str(burst)}
    async with running(tmp_path, env) as (srv, api):
        pid = pid_of(srv)
        flood_u = await api.register()
        others = [await api.client(await api.register()) for _ in range(3)]
        flooder = await RawWS.connect(srv.ws_url, flood_u[1])
        await flooder.wait_ready()
        rss = Rss(pid)
        rss.start()
        frames = [
            msgspec.json.encode(
                {"id": f"f{i}", "channel": "status/response", "type": "RequestStatus", "data": {}}
            )
            for i in range(n)
        ]
        replies: dict[str, dict[str, Any]] = {}
        n_replies = 0
        flood_done = asyncio.Event()
        t0 = time.monotonic()

        async def flood() -> None:
            batch = 200
            for i in range(0, n, batch):
                await flooder.send_bytes(
                    b"".join(build_frame(OP_TEXT, f) for f in frames[i : i + batch])
                )

        async def collect() -> None:
            nonlocal n_replies
            while n_replies < n:
                f = await flooder.recv_json(lambda f: "ref" in f, timeout=30)
                replies[f["ref"]] = f
                n_replies += 1
            flood_done.set()

        during: list[int] = [0] * len(others)

        async def bystander(k: int, c: Client) -> None:
            # Within its own budget (half the burst): a bystander that did round
            # trips back to back for the whole flood would be rate-limited itself.
            i = 0
            while (not flood_done.is_set() and i < burst // 2) or i < 3:
                await round_trip(c, f"b{k}-{i}")
                i += 1
                if not flood_done.is_set():
                    during[k] += 1

        sender = asyncio.create_task(flood())
        await asyncio.gather(collect(), *(bystander(k, c) for k, c in enumerate(others)))
        await sender
        elapsed = time.monotonic() - t0
        # The flooder was slowed down, not cut off: its connection still answers.
        await flooder.send(OP_TEXT, msgspec.json.encode({"id": "after", "type": "X"}))
        after = await flooder.recv_json(lambda f: f.get("ref") == "after")
        assert after["type"] == "Error", after
        await healthy(api)
        rss.stop()
        await flooder.close()
        for c in others:
            await c.close()
        limited = [f for f in replies.values() if f["type"] == "Error"]
        served = [f for f in replies.values() if f["type"] == "StatusResponseReceived"]
        assert len(replies) == n_replies == n  # exactly one reply per frame
        assert len(limited) + len(served) == n
        assert all(f["data"]["code"] == "rate_limited" for f in limited)
        max_wait = -(-1000 // rate)
        for f in limited:
            assert isinstance(f["data"]["retry_after_ms"], int)
            assert 0 < f["data"]["retry_after_ms"] <= max_wait, f
        assert len(served) >= burst
        assert len(served) <= burst + rate * elapsed + 1, (len(served), elapsed)
        assert sum(during) >= 1  # other users were served while the flood was on
        assert log_errors(srv) == []
    figure(
        "Resource limits: one user floods",
        f"one connection sends {n} frames as fast as it can (rate {rate}/s, burst {burst}); "
        "3 other users do round trips meanwhile",
        f"{len(served)} served, {len(limited)} rate_limited (retry_after_ms 1..{max_wait}); "
        f"{sum(during)} bystander round trips during the flood, all served; "
        f"{rss.text()} (before/peak/after)",
        frames=n,
        served=len(served),
        rate_limited=len(limited),
        **rss.numbers(),
    )


pytestmark = pytest.mark.timeout(600)
