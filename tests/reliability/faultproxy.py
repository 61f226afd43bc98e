"""A small TCP fault proxy: put it between hubbub and PostgreSQL or NATS.

    server --> FaultProxy(listen_port) --> target (host, port)

It runs its own asyncio loop on a thread, so a test can block its own loop
(e.g. in `ServerProcess.start()`) while the server keeps talking through it.
The mode is switched at runtime from the test:

- `pass_()`      forward bytes both ways (the default; also "heal").
- `latency(ms)`  forward every chunk `ms` milliseconds after it was read,
                 order kept.
- `reset()`      abort every open connection with a TCP RST now, and answer
                 every new connection with a RST until the mode changes (the
                 peer sees "connection reset", like a crashed or restarted
                 service).
- `blackhole()`  accept connections but drop every byte, both ways (a
                 partition that eats packets). A connection that lost bytes
                 has a broken stream, so it is aborted when the blackhole
                 ends; connections that stayed idle through it survive.
- `stall()`      stop forwarding without closing anything (a frozen peer or a
                 full network buffer). Nothing is lost: held bytes flow on in
                 order once the stall ends.
- `cut_reply(p)` one shot, any mode: the next chunk from the target that
                 contains `p` is dropped and its connection aborted (RST). With
                 `p = b"COMMIT\x00"` in front of PostgreSQL the transaction
                 commits but the client never learns it did ("commit unknown").

Counters (`accepted`, `refused`, `aborted`, `forwarded_bytes`,
`dropped_bytes`) tell a test that the fault really hit traffic.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from typing import Any

__all__ = ["FaultProxy"]

_MODES = ("pass", "latency", "reset", "blackhole", "stall")
_CHUNK = 65536


def _rst(writer: asyncio.StreamWriter | None) -> None:
    """Close with a TCP RST (SO_LINGER 0), not a FIN."""
    if writer is None:
        return
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class _Link:
    """One proxied connection: the accepted client side and its upstream."""

    def __init__(self, client_w: asyncio.StreamWriter) -> None:
        self.client_w = client_w
        self.upstream_w: asyncio.StreamWriter | None = None
        self.tasks: list[asyncio.Task[None]] = []
        self.dirty = False  # lost bytes in a blackhole: its stream is broken
        self.closed = False

    def abort(self) -> None:
        if self.closed:
            return
        self.closed = True
        _rst(self.client_w)
        _rst(self.upstream_w)
        for task in self.tasks:
            if task is not asyncio.current_task():
                task.cancel()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for w in (self.client_w, self.upstream_w):
            if w is not None:
                w.close()
        for task in self.tasks:
            if task is not asyncio.current_task():
                task.cancel()


class FaultProxy:
    def __init__(
        self, target: tuple[str, int], listen_port: int = 0, host: str = "127.0.0.1"
    ) -> None:
        self.target = target
        self.host = host
        self.listen_port = listen_port
        self.mode = "pass"
        self.latency_s = 0.0
        self.accepted = 0
        self.refused = 0
        self.aborted = 0
        self.forwarded_bytes = 0
        self.dropped_bytes = 0
        self.cuts = 0
        self._cut: bytes | None = None
        self._links: set[_Link] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._flowing: asyncio.Event | None = None

    # -- control (call from any thread) ---------------------------------------
    def start(self) -> FaultProxy:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="faultproxy", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), loop).result(10)
        return self

    @property
    def port(self) -> int:
        assert self._server is not None, "start() first"
        return int(self._server.sockets[0].getsockname()[1])

    def set_mode(self, mode: str, latency_ms: float = 0.0) -> None:
        if mode not in _MODES:
            raise ValueError(f"unknown mode {mode!r}")
        assert self._loop is not None, "start() first"
        asyncio.run_coroutine_threadsafe(self._apply(mode, latency_ms / 1000), self._loop).result(
            10
        )

    def pass_(self) -> None:
        self.set_mode("pass")

    def latency(self, ms: float) -> None:
        self.set_mode("latency", ms)

    def reset(self) -> None:
        self.set_mode("reset")

    def blackhole(self) -> None:
        self.set_mode("blackhole")

    def stall(self) -> None:
        self.set_mode("stall")

    def cut_reply(self, pattern: bytes) -> None:
        self._cut = pattern  # read by the proxy thread; a plain attribute is enough

    def close(self) -> None:
        loop = self._loop
        if loop is None:
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        loop.close()
        self._loop = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *_exc: Any) -> None:
        self.close()

    @property
    def open_connections(self) -> int:
        return sum(1 for link in list(self._links) if not link.closed)

    # -- inside the proxy's loop -------------------------------------------------
    async def _listen(self) -> None:
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server = await asyncio.start_server(self._on_client, self.host, self.listen_port)

    async def _apply(self, mode: str, latency_s: float) -> None:
        assert self._flowing is not None
        previous = self.mode
        self.mode = mode
        self.latency_s = latency_s if mode == "latency" else 0.0
        if mode == "stall":
            self._flowing.clear()
        else:
            self._flowing.set()
        if mode == "reset":
            for link in list(self._links):
                self._abort(link)
        elif previous == "blackhole":
            for link in list(self._links):
                if link.dirty:
                    self._abort(link)

    def _abort(self, link: _Link) -> None:
        if not link.closed:
            self.aborted += 1
        link.abort()
        self._links.discard(link)

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for link in list(self._links):
            self._abort(link)

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.mode == "reset":
            self.refused += 1
            _rst(writer)
            return
        self.accepted += 1
        link = _Link(writer)
        self._links.add(link)
        me = asyncio.current_task()
        if me is not None:
            link.tasks.append(me)
        if self.mode == "blackhole":
            # Never reaches the target: read and drop until the blackhole ends.
            link.dirty = True
            with contextlib.suppress(Exception):
                while data := await reader.read(_CHUNK):
                    self.dropped_bytes += len(data)
            self._close(link)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            self._abort(link)
            return
        link.upstream_w = up_writer
        if link.closed:  # reset while connecting
            _rst(up_writer)
            return
        link.tasks += [
            asyncio.create_task(self._pump(link, reader, up_writer)),
            asyncio.create_task(self._pump(link, up_reader, writer, from_target=True)),
        ]

    def _close(self, link: _Link) -> None:
        link.close()
        self._links.discard(link)

    async def _pump(
        self,
        link: _Link,
        src: asyncio.StreamReader,
        dst: asyncio.StreamWriter,
        from_target: bool = False,
    ) -> None:
        assert self._flowing is not None
        queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
        writer = asyncio.create_task(self._deliver(link, queue, dst))
        link.tasks.append(writer)
        loop = asyncio.get_running_loop()
        try:
            while True:
                await self._flowing.wait()  # a stall stops reading: backpressure
                data = await src.read(_CHUNK)
                if not data:
                    break
                cut = self._cut
                if from_target and cut is not None and cut in data:
                    self._cut = None
                    self.cuts += 1
                    self.dropped_bytes += len(data)
                    self._abort(link)
                    return
                if self.mode == "blackhole" or link.dirty:
                    link.dirty = True
                    self.dropped_bytes += len(data)
                    continue
                queue.put_nowait((loop.time() + self.latency_s, data))
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            queue.put_nowait(None)

    async def _deliver(
        self,
        link: _Link,
        queue: asyncio.Queue[tuple[float, bytes] | None],
        dst: asyncio.StreamWriter,
    ) -> None:
        assert self._flowing is not None
        loop = asyncio.get_running_loop()
        try:
            while (item := await queue.get()) is not None:
                due, data = item
                if due > loop.time():
                    await asyncio.sleep(due - loop.time())  # the injected latency itself
                await self._flowing.wait()  # bytes read just before a stall wait for it
                if link.dirty:
                    self.dropped_bytes += len(data)
                    continue
                dst.write(data)
                await dst.drain()
                self.forwarded_bytes += len(data)
        except OSError:
            pass
        # One side ended (EOF or error): end the whole link.
        self._close(link)
