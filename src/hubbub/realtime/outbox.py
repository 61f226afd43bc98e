"""A connection's outgoing frames: encoded once, written once per loop turn.

Fan-out is the hot path: one event to a thousand connections. So

- an event is encoded once (JSON, by the publisher) and framed once (its
  WebSocket header, here): `Out` carries both, and every recipient's queue
  holds the same object;
- a push never wakes a task. It appends to the queue and marks the outbox
  dirty; once per event-loop turn the node's `Flusher` writes each dirty
  outbox's queue to its socket with one `transport.write` (one syscall for
  all the frames that turn brought it: a commit batch of 32 messages to a
  group is one write per member, not 32);
- frames stay queued only while a connection's transport is paused (the
  kernel's buffer and then the transport's are full, past its high-water
  mark): only then does the connection get a writer task, which waits for the
  transport to drain and flushes again (an idle connection has no task of
  its own besides the one reading it: memory per connection is the limit of
  how many a node holds).
  The queue is bounded: past `limit`, the client is cut off as a slow consumer
  (close 1013) and resumes from its change feed.

Replies and pushed events share the one FIFO, so a client sees them in the
order the server produced them.

    hub.deliver --push(Out)--> queue --(end of loop turn)--> Flusher
        --> Wire.write_frames (one transport.write)        [transport writable]
        --> a writer task: await writable, flush again     [transport paused]
"""

from __future__ import annotations

import asyncio
import struct
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from hubbub.ids import new_id

__all__ = ["MAX_REST_S", "Flusher", "Out", "Outbox", "Wire", "text_frame"]

MAX_REST_S = 0.005  # the longest a frame waits for a flush after a long one


def text_frame(payload: bytes) -> bytes:
    """An unmasked, final WebSocket text frame (RFC 6455 §5.2), as a server sends it."""
    n = len(payload)
    if n < 126:
        return bytes((0x81, n)) + payload
    if n < 65536:
        return struct.pack("!BBH", 0x81, 126, n) + payload
    return struct.pack("!BBQ", 0x81, 127, n) + payload


class Out:
    """One outgoing frame, shared by all its recipients: JSON, and framed on demand."""

    __slots__ = ("_framed", "payload")

    def __init__(self, payload: bytes) -> None:
        self.payload = payload
        self._framed: bytes | None = None

    @property
    def framed(self) -> bytes:
        framed = self._framed
        if framed is None:
            framed = self._framed = text_frame(self.payload)
        return framed


class Wire(Protocol):
    """The transport side of a connection (see `protocols/wsserver.py`)."""

    writable: asyncio.Event  # cleared while the transport is paused

    def open(self) -> bool:
        """True while data frames may be sent (no close sent or received)."""
        ...

    def write_frames(self, outs: Sequence[Out]) -> None: ...


SendText = Callable[[str], Awaitable[None]]


class Flusher:
    """Writes every outbox that got frames during this loop turn, once, at its end.

    A socket write is the dearest step of a fan-out (on loopback the sender's
    syscall also runs the receiver's TCP stack: ~10-20 us each), and its cost
    is per write, not per frame. So a flush that took long (a big group) is
    followed by a rest as long as itself (at most `MAX_REST_S`) before the
    next one: under a stream of big fan-outs at most half the loop goes to
    writing, and the frames that come meanwhile share each connection's next
    write (1,000 members, one sender at full speed: 74k -> 185k deliveries/s,
    0.134 -> 0.022 s of server CPU per 10k). A quiet server
    (flushes far apart, or short) never waits: the first frame after a rest
    is written at the end of its loop turn, as before.
    """

    def __init__(
        self,
        on_written: Callable[[int], object] | None = None,
        busy_s: float = 0.001,
        on_writes: Callable[[int], object] | None = None,
    ) -> None:
        self._dirty: list[Outbox] = []
        self.on_written = on_written  # frames written
        self.on_writes = on_writes  # socket writes that carried them
        self._busy_s = busy_s  # a flush longer than this earns a rest
        self._rest_until = 0.0

    def mark(self, outbox: Outbox) -> None:
        if not self._dirty:
            loop = asyncio.get_running_loop()
            rest = self._rest_until - time.monotonic()
            if rest > 0:
                loop.call_later(rest, self.flush)
            else:
                loop.call_soon(self.flush)
        self._dirty.append(outbox)

    def count(self, frames: int, writes: int) -> None:
        """Report frames written and the socket writes that carried them."""
        if frames and self.on_written is not None:
            self.on_written(frames)
        if writes and self.on_writes is not None:
            self.on_writes(writes)

    def flush(self) -> None:
        started = time.monotonic()
        dirty, self._dirty = self._dirty, []
        written = writes = 0
        for outbox in dirty:
            n = outbox.flush()
            if n:
                written += n
                writes += 1
        self.count(written, writes)
        ended = time.monotonic()
        took = ended - started
        self._rest_until = ended + min(took, MAX_REST_S) if took > self._busy_s else 0.0


class Outbox:
    """What the hub sees of a connection: push frames, or kick it."""

    def __init__(
        self,
        user_id: str,
        token_hash: str,
        limit: int,
        flusher: Flusher,
        wire: Wire | None,
        send_text: SendText | None = None,
    ) -> None:
        self.id = new_id()
        self.user_id = user_id
        self.token_hash = token_hash
        self.limit = limit
        self.queue: deque[Out] = deque()
        self.closing: tuple[int, str] | None = None
        self.overflowed = False
        # Set by the connection: stops a writer blocked on a full socket, which
        # would otherwise never see `closing` (the peer is not reading).
        self.on_close: Callable[[], object] | None = None
        self._flusher = flusher
        self._wire = wire
        self._send_text = send_text  # without a Wire: the ASGI send, a frame at a time
        self._dirty = False
        self._writer: asyncio.Task[None] | None = None  # only while the transport is full
        self._below: asyncio.Event | None = None  # the queue shrank (see wait_below)

    def push(self, out: Out) -> None:
        if self.closing is not None:
            return
        queue = self.queue
        if len(queue) >= self.limit:
            self.overflowed = True
            self.kick(1013, "slow consumer: resume with SyncRequest")
            return
        queue.append(out)
        if not self._dirty:
            self._dirty = True
            self._flusher.mark(self)

    def kick(self, code: int, reason: str) -> None:
        if self.closing is None:
            self.closing = (code, reason)
            self.stop_writer()
            if self.on_close is not None:
                self.on_close()
        self._shrank()

    def stop_writer(self) -> None:
        """Cancel a writer blocked on a full socket (the peer is not reading)."""
        if self._writer is not None:
            self._writer.cancel()
            self._writer = None

    def flush(self) -> int:
        """Write what is queued if the transport takes it now; else leave it to the writer."""
        self._dirty = False
        queue = self.queue
        if not queue or self.closing is not None:
            return 0
        wire = self._wire
        if wire is None or not wire.writable.is_set():
            if self._writer is None:
                self._writer = asyncio.get_running_loop().create_task(self._write_later())
            return 0
        n = len(queue)
        if wire.open():
            wire.write_frames(queue)
        queue.clear()  # a closed connection gets nothing more; its feed has it all
        self._shrank()
        return n

    def _shrank(self) -> None:
        if self._below is not None:
            self._below.set()

    async def wait_below(self, n: int) -> None:
        """Return once fewer than `n` frames are queued (input back-pressure)."""
        while len(self.queue) >= n and self.closing is None:
            if self._below is None:
                self._below = asyncio.Event()
            self._below.clear()
            await self._below.wait()

    async def _write_later(self) -> None:
        """The slow path: frames the transport could not take at once."""
        try:
            written = 0
            if self._wire is not None:
                await self._wire.writable.wait()
                self._writer = None  # a flush that finds it paused again starts another
                written = self.flush()
            else:
                assert self._send_text is not None
                queue = self.queue
                while queue and self.closing is None:
                    await self._send_text(queue.popleft().payload.decode())
                    written += 1
                self._writer = None
                self._shrank()
            # One socket write through the Wire; one ASGI send a frame without it.
            self._flusher.count(written, written if self._wire is None else min(written, 1))
        except Exception:  # the peer is gone: its reader sees the disconnect
            self._writer = None
