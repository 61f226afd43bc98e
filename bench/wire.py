"""The load generator's connections: what goes on the wire, what is counted.

Two dialects, one measurement. Against hubbub a sender sends the spec-000
frame `SendChatMessageWithClientId` and members receive `ChatMessageReceived`;
against a bare peer the frame *is* the content. Either way the content is

    "<sender>:<n>:<time.monotonic_ns() at send>:xxxx..."

so every receiver measures send-to-receive latency on one clock
(CLOCK_MONOTONIC is the same in every process on Linux), counts what it got
from each sender (`lost` is computed from that), and notices duplicates or
reordering. The sender limits itself to `window` unacknowledged messages:
hubbub acks each message (`ChatMessageAccepted`, matched by `ref`), a peer
answers every message with the text frame `ack` (in order), so `--max` means
the same thing for both: as fast as the server takes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from array import array
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from bench.leanws import LeanClient

__all__ = ["PEER_ACK", "Conn", "PhaseSpec", "Proto", "Sender", "bounded", "connect_all"]

Proto = Literal["hubbub", "peer"]
PEER_ACK = b"ack"
T = TypeVar("T")


@dataclass(frozen=True)
class PhaseSpec:
    """How every sender of one phase sends (the same for every target)."""

    number: int  # makes client_message_ids unique across phases (hubbub dedupes them)
    rate: float | None  # messages/s per sender; None = as fast as the window allows
    window: int  # unacked messages per sender
    duration: float  # seconds of sending (ignored when `messages` is set)
    messages: int | None  # messages per sender
    payload: int  # characters of content


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


class Conn:
    """One member connection: per-sender counts, latencies, order checks.

    `expect_from` lists the senders (connection indices) sharing a room with
    this connection, itself excluded: what it should receive, and from whom.
    """

    def __init__(
        self,
        idx: int,
        url: str,
        headers: dict[str, str],
        proto: Proto,
        expect_from: Sequence[int],
        lat: array[int],
    ) -> None:
        self.idx = idx
        self.url = url
        self.headers = headers
        self.proto: Proto = proto
        self.expect_from = tuple(expect_from)
        self.lat = lat
        self.ws: ClientConnection | LeanClient | None = None
        self.sender: Sender | None = None
        self.closed: str | None = None
        self.ready = asyncio.Event()  # hubbub: Authenticated; peer: handshake done
        self._ended = asyncio.Event()  # the lean client's connection is gone
        self.last_seq = 0  # server seq of the last chat frame, across phases
        self.reset(lat)

    def reset(self, lat: array[int]) -> None:
        """Start counting afresh for a new phase."""
        self.lat = lat
        self.last: dict[int, int] = {}  # highest message number seen per sender
        self.advancing: dict[int, int] = {}  # arrivals that advanced `last`
        self.received = 0
        self.late = 0  # n <= last: a duplicate or a reordered message
        self.seq_ooo = 0  # frames whose server seq did not increase
        self.echoes = 0  # its own messages pushed back to the sending connection
        self.first_ns = 0
        self.last_ns = 0
        self.frame_bytes = 0

    async def open(self, deflate: bool) -> None:
        """Without compression (the default) through `LeanClient`, which parses
        frames as they arrive; with it, through the `websockets` client."""
        if deflate:
            self.ws = await connect(
                self.url,
                additional_headers=self.headers or None,
                compression="deflate",
                max_size=None,
                max_queue=None,
                ping_interval=None,
                open_timeout=60,
                close_timeout=1,
            )
        else:
            on_frame = self._on_hubbub if self.proto == "hubbub" else self._on_peer
            client = LeanClient(on_frame, self._lean_closed)
            self.ws = client
            await client.connect(self.url, self.headers)
        if self.proto == "peer":
            self.ready.set()

    def _lean_closed(self, reason: str) -> None:
        self.closed = self.closed or reason
        self.ready.set()
        if self.sender is not None:
            self.sender.on_closed()
        self._ended.set()

    async def read(self) -> None:
        assert self.ws is not None
        ws = self.ws
        if isinstance(ws, LeanClient):  # frames arrive by callback
            await self._ended.wait()
            return
        on_frame = self._on_hubbub if self.proto == "hubbub" else self._on_peer
        try:
            while True:
                on_frame(await ws.recv(decode=False))
        except ConnectionClosed as exc:
            rcvd = exc.rcvd
            self.closed = f"{rcvd.code} {rcvd.reason}" if rcvd else "no close frame"
        except Exception as exc:  # keep what was counted; report the cause
            self.closed = f"client error {type(exc).__name__}: {exc}"
        finally:
            self.ready.set()
            if self.sender is not None:
                self.sender.on_closed()

    def _count(self, sender: int, n: int, sent_ns: int, now: int, size: int) -> None:
        if sender == self.idx:  # not a delivery: the server echoed our own message
            self.echoes += 1
            return
        self.lat.append(now - sent_ns)
        self.received += 1
        if n > self.last.get(sender, -1):
            self.last[sender] = n
            self.advancing[sender] = self.advancing.get(sender, 0) + 1
        else:
            self.late += 1
        if not self.first_ns:
            self.first_ns = now
            self.frame_bytes = size
        self.last_ns = now

    def _on_hubbub(self, raw: bytes) -> None:
        now = time.monotonic_ns()
        env = _env.decode(raw)
        kind = env.type
        if kind == "ChatMessageReceived":
            sender, n, sent, _pad = _chat.decode(env.data).content.split(":", 3)
            self._count(int(sender), int(n), int(sent), now, len(raw))
            if env.seq is not None:
                if env.seq <= self.last_seq:
                    self.seq_ooo += 1
                self.last_seq = env.seq
        elif env.ref is not None and self.sender is not None:
            ok = kind == "ChatMessageAccepted"
            code = "" if ok else (_err.decode(env.data).code if kind == "Error" else kind)
            self.sender.on_ack(env.ref, code, now)
        elif kind == "Authenticated":
            self.ready.set()

    def _on_peer(self, raw: bytes) -> None:
        now = time.monotonic_ns()
        if raw == PEER_ACK:
            if self.sender is not None:
                self.sender.on_ack(None, "", now)
            return
        sender, n, sent, _pad = raw.split(b":", 3)
        self._count(int(sender), int(n), int(sent), now, len(raw))

    def lost(self, acked: dict[int, int]) -> int:
        adv = self.advancing
        return sum(max(0, acked.get(s, 0) - adv.get(s, 0)) for s in self.expect_from)

    def done(self, acked: dict[int, int]) -> bool:
        return self.closed is not None or self.lost(acked) == 0


class Sender:
    """Sends one connection's messages into its room for one phase at a time."""

    def __init__(self, conn: Conn, room_id: str, ack_lat: array[int]) -> None:
        self.conn = conn
        self.room_id = room_id
        self.ack_lat = ack_lat
        conn.sender = self
        self.outstanding: dict[str, int] = {}  # ref -> send time; insertion-ordered
        self.window = asyncio.Semaphore(1)
        self.window_size = 1
        self.all_acked = asyncio.Event()
        self.all_acked.set()
        self.acked = 0
        self.errors: dict[str, int] = {}
        self.first_ns = 0
        self.last_ack_ns = 0

    def on_ack(self, ref: str | None, error: str, now: int) -> None:
        """An answer to one send: by `ref` (hubbub) or the oldest one (peer, in order)."""
        if ref is None:
            if not self.outstanding:
                return
            ref = next(iter(self.outstanding))
        sent_at = self.outstanding.pop(ref, None)
        if sent_at is None:
            return
        if error:
            self.errors[error] = self.errors.get(error, 0) + 1
        else:
            self.acked += 1
            self.ack_lat.append(now - sent_at)
        self.last_ack_ns = now
        self.window.release()
        if not self.outstanding:
            self.all_acked.set()

    def on_closed(self) -> None:
        """The connection dropped: unblock `run`; what is outstanding stays unacked."""
        for _ in range(self.window_size):
            self.window.release()
        self.all_acked.set()

    async def run(self, phase: PhaseSpec, start_ns: int, offset_ns: int) -> None:
        """Send for one phase: on a fixed schedule (`rate`) or as the window allows."""
        ws = self.conn.ws
        assert ws is not None
        self.window = window = asyncio.Semaphore(phase.window)
        self.window_size = phase.window
        self.acked, self.errors, self.first_ns, self.last_ack_ns = 0, {}, 0, 0
        outstanding = self.outstanding
        outstanding.clear()
        limit = phase.messages
        stop_ns = start_ns + int(phase.duration * 1e9) if limit is None else 0
        interval = int(1e9 / phase.rate) if phase.rate else 0
        first_at = start_ns + (offset_ns if interval else 0)
        me, room, prefix = self.conn.idx, self.room_id, f"p{phase.number}-"
        pad = "x" * max(1, phase.payload - 32)
        hubbub = self.conn.proto == "hubbub"
        delay = first_at - time.monotonic_ns()
        if delay > 0:
            await asyncio.sleep(delay / 1e9)
        n = 0
        while limit is None or n < limit:
            if interval:
                delay = first_at + n * interval - time.monotonic_ns()
                if delay > 0:
                    await asyncio.sleep(delay / 1e9)
            await window.acquire()
            now = time.monotonic_ns()
            if self.conn.closed is not None:
                break
            if stop_ns and now >= stop_ns:
                window.release()
                break
            ref = f"{prefix}{n}"
            content = f"{me}:{n}:{now}:{pad}"
            outstanding[ref] = now
            self.all_acked.clear()
            if not self.first_ns:
                self.first_ns = now
            if hubbub:
                await ws.send(
                    f'{{"id":"{ref}","channel":"chat/messages/ack",'
                    f'"type":"SendChatMessageWithClientId","data":{{"client_message_id":"{ref}",'
                    f'"conversation_id":"{room}","content":"{content}"}}}}'
                )
            else:
                await ws.send(content)
            n += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.all_acked.wait(), 60)


# --------------------------------------------------------------------------- connecting
async def bounded(n: int, coros: Sequence[Awaitable[T]]) -> list[T | BaseException]:
    """Run coroutines with at most `n` in flight; exceptions are returned, not raised."""
    sem = asyncio.Semaphore(n)

    async def one(c: Awaitable[T]) -> T:
        async with sem:
            return await c

    return await asyncio.gather(*(one(c) for c in coros), return_exceptions=True)


async def connect_all(
    conns: Sequence[Conn],
    deflate: bool,
    readers: set[asyncio.Task[None]],
    in_flight: int = 64,
) -> list[str]:
    """Open every connection and wait until it is ready; returns the failures.

    At most `in_flight` handshakes at a time: a listen backlog overflow would
    otherwise show up as SYN retransmits (1 s, 3 s...) in the connect time.
    """

    async def one(c: Conn) -> None:
        try:
            await c.open(deflate)
            readers.add(asyncio.get_running_loop().create_task(c.read()))
            await asyncio.wait_for(c.ready.wait(), 60)
        except Exception as exc:
            c.closed = c.closed or f"connect failed: {type(exc).__name__} {exc}"
            raise
        if c.closed is not None:
            raise RuntimeError(f"closed before ready: {c.closed}")

    results = await bounded(in_flight, [one(c) for c in conns])
    return [repr(r) for r in results if isinstance(r, BaseException)]
