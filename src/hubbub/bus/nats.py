"""The multi-node bus and cluster presence, on NATS.

Why core NATS subjects and not JetStream for fan-out: a notification is a
hint that something committed in the database should reach live connections
now. The database is the source of truth and every client resumes from its
`seq` (`SyncRequest`), so persisting notifications a second time in a stream
would double the write cost of every message for a guarantee the change feed
already gives. Core NATS is fire-and-forget with per-publisher FIFO order,
which is exactly what a live push needs.

Why a node hears its own publications through NATS instead of delivering
them locally: membership invalidations, token revocations and events then
reach every node, this one included, in the same per-publisher order. A
local shortcut would let this node see an event before the invalidation
published just ahead of it had come back.

Why presence is a JetStream KV bucket with a bucket-wide TTL and one key per
(user, node): a crashed node cannot say goodbye, so its entries must die on
their own. Each node re-puts its keys every TTL/3; the stream's max age
removes what nobody refreshes. A shared per-user counter could not be
corrected after a crash, which is why there is none.

Everything that can be lost here (a notification dropped while NATS is away,
or by a slow subscriber) is recoverable from the database; `on_gap` tells the
node when that happened so it can make its clients resync. See
docs/cluster-bus.md.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

import msgspec
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, StorageType

from hubbub.core.model import Notification
from hubbub.errors import Unavailable

__all__ = ["BusStats", "NatsBus", "NatsPresence", "PresenceStats"]

log = logging.getLogger("hubbub.bus")

_ENCODER: Final = msgspec.msgpack.Encoder()
_DECODER: Final = msgspec.msgpack.Decoder(Notification)

_PREFIX_RE: Final = re.compile(r"^[A-Za-z0-9_-]+$")
_RAW_TOKEN_RE: Final = re.compile(r"^[A-Za-z0-9_-]+$")

# Errors the NATS client raises for a connection problem (as opposed to a bug).
_NATS_ERRORS: Final = (nats.errors.Error, OSError, asyncio.TimeoutError)

RECONNECT_WAIT_S: Final = 1  # nats-py types this as int seconds
PING_TIMEOUT_S: Final = 2
DRAIN_TIMEOUT_S: Final = 5
SLOW_LOG_EVERY: Final = 1000
STREAM_NAME_IN_USE: Final = 10058  # JetStream: same name, different configuration


def _check_prefix(prefix: str) -> str:
    if not _PREFIX_RE.match(prefix):
        raise ValueError("subject_prefix must match [A-Za-z0-9_-]+")
    return prefix


def _token(value: str) -> str:
    """One NATS subject token for an arbitrary id, injectively.

    Ids that are already safe (UUIDs, `node-1a2b`) stay readable; anything
    else becomes `=` + unpadded base64url, and `=` never starts a raw token.
    """
    if _RAW_TOKEN_RE.match(value):
        return value
    return "=" + base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


@dataclass(slots=True)
class BusStats:
    """Counters for /metrics and tests. Only ever incremented."""

    published: int = 0
    dropped_publishes: int = 0  # not handed to NATS: closed, buffer full, too large
    received: int = 0
    decode_errors: int = 0
    deliver_errors: int = 0
    slow_consumer_drops: int = 0  # inbound messages NATS-py dropped for this node
    disconnects: int = 0
    reconnects: int = 0


class NatsBus:
    """`Bus` over one core NATS subject, `<prefix>.deliver`, shared by all nodes.

    `publish` never raises for a transport problem: it runs after the commit,
    the event is already in the feed, and failing the caller would only make
    a client retry something that succeeded. Such drops are counted in
    `stats.dropped_publishes`; the same holds after `close()`.

    `on_gap(reason)` is called when this node may have missed notifications:
    `"reconnected"` after NATS came back, `"slow_consumer"` once the backlog
    that overflowed the subscription's limits has drained. The node should
    then drop its caches and make its clients resync (lost invalidations and
    revocations included).
    """

    def __init__(
        self,
        url: str,
        node_id: str,
        *,
        subject_prefix: str = "hubbub",
        pending_msgs_limit: int = 65_536,
        pending_bytes_limit: int = 64 * 1024 * 1024,
        reconnect_buffer_bytes: int = 8 * 1024 * 1024,
        start_timeout: float = 10.0,
        on_gap: Callable[[str], None] | None = None,
    ) -> None:
        self.url = url
        self.node_id = node_id
        self.subject = f"{_check_prefix(subject_prefix)}.deliver"
        self.stats = BusStats()
        self._pending_msgs_limit = pending_msgs_limit
        self._pending_bytes_limit = pending_bytes_limit
        self._reconnect_buffer_bytes = reconnect_buffer_bytes
        self._start_timeout = start_timeout
        self._on_gap = on_gap
        self._nc: Client | None = None
        self._sub: Subscription | None = None
        self._deliver: Callable[[Notification], None] | None = None
        self._closing = False
        self._slow_gap_pending = False

    @property
    def connected(self) -> bool:
        nc = self._nc
        return nc is not None and nc.is_connected and not self._closing

    async def start(self, deliver: Callable[[Notification], None]) -> None:
        if self._nc is not None or self._closing:
            raise RuntimeError("NatsBus.start() called twice")
        self._deliver = deliver
        nc = Client()
        try:
            # With max_reconnect_attempts=-1 the first connect retries forever;
            # a node that cannot reach NATS at boot should fail, not hang.
            await asyncio.wait_for(
                nc.connect(
                    self.url,
                    name=f"hubbub-{self.node_id}",
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=RECONNECT_WAIT_S,
                    pending_size=self._reconnect_buffer_bytes,
                    drain_timeout=DRAIN_TIMEOUT_S,
                    no_echo=False,  # we rely on hearing our own publications
                    error_cb=self._on_error,
                    disconnected_cb=self._on_disconnected,
                    reconnected_cb=self._on_reconnected,
                    closed_cb=self._on_closed,
                ),
                self._start_timeout,
            )
            self._sub = await nc.subscribe(
                self.subject,
                cb=self._on_msg,
                pending_msgs_limit=self._pending_msgs_limit,
                pending_bytes_limit=self._pending_bytes_limit,
            )
            await nc.flush(timeout=PING_TIMEOUT_S)
        except (*_NATS_ERRORS, asyncio.CancelledError) as exc:
            await nc.close()
            self._deliver = None
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise Unavailable(f"NATS unreachable at start ({type(exc).__name__})") from exc
        self._nc = nc
        log.info("nats bus connected", extra={"node_id": self.node_id, "subject": self.subject})

    async def publish(self, note: Notification) -> None:
        nc = self._nc
        if nc is None or self._closing:
            self.stats.dropped_publishes += 1
            return
        data = _ENCODER.encode(note)
        try:
            await nc.publish(self.subject, data)
        except _NATS_ERRORS as exc:
            self.stats.dropped_publishes += 1
            log.warning(
                "bus publish dropped",
                extra={"error": type(exc).__name__, "bytes": len(data), "node_id": self.node_id},
            )
            return
        self.stats.published += 1

    async def ping(self) -> None:
        nc = self._nc
        if nc is None or self._closing or not nc.is_connected:
            raise Unavailable("NATS bus not connected")
        # A round trip through the server on a throwaway inbox, not nc.flush():
        # a flush that times out leaves its cancelled PONG future queued, and
        # when the late PONG arrives nats-py's read loop dies on
        # InvalidStateError (seen with nats-py 2.16 after a stalled link),
        # silently ending all delivery to this node.
        inbox = nc.new_inbox()
        try:
            sub = await nc.subscribe(inbox, max_msgs=1)
            try:
                await nc.publish(inbox, b"")
                await sub.next_msg(timeout=PING_TIMEOUT_S)
            finally:
                with contextlib.suppress(*_NATS_ERRORS):
                    await sub.unsubscribe()
        except _NATS_ERRORS as exc:
            raise Unavailable(f"NATS bus did not answer ({type(exc).__name__})") from exc

    async def close(self) -> None:
        """Stop publishing, deliver what was already received, disconnect."""
        if self._closing:
            return
        self._closing = True
        nc = self._nc
        try:
            if nc is not None and not nc.is_closed:
                if nc.is_connected:
                    await nc.drain()
                else:
                    await nc.close()
        except _NATS_ERRORS as exc:
            log.warning("nats drain failed", extra={"error": type(exc).__name__})
            if nc is not None:
                await nc.close()
        finally:
            self._deliver = None
            self._sub = None

    # -- NATS callbacks ------------------------------------------------------

    async def _on_msg(self, msg: Msg) -> None:
        self.stats.received += 1
        try:
            note = _DECODER.decode(msg.data)
        except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
            self.stats.decode_errors += 1
            # Never log the payload: it may hold message content.
            log.warning(
                "undecodable bus message dropped",
                extra={"bytes": len(msg.data), "error": type(exc).__name__},
            )
            return
        deliver = self._deliver
        if deliver is not None:
            try:
                deliver(note)
            except Exception:
                self.stats.deliver_errors += 1
                log.exception("bus deliver failed", extra={"node_id": self.node_id})
        if self._slow_gap_pending and self._sub is not None and self._sub.pending_msgs == 0:
            self._slow_gap_pending = False
            self._gap("slow_consumer")

    async def _on_error(self, exc: Exception) -> None:
        if isinstance(exc, nats.errors.SlowConsumerError):
            self.stats.slow_consumer_drops += 1
            self._slow_gap_pending = True
            if self._sub is not None and self._sub.pending_msgs == 0:
                # Dropped on an empty queue (one oversized message): no later
                # _on_msg will notice, so report the gap now.
                self._slow_gap_pending = False
                self._gap("slow_consumer")
            if self.stats.slow_consumer_drops % SLOW_LOG_EVERY == 1:
                log.warning(
                    "bus subscriber too slow, notifications dropped",
                    extra={"dropped_total": self.stats.slow_consumer_drops},
                )
            return
        log.warning("nats error", extra={"error": type(exc).__name__, "detail": str(exc)})

    async def _on_disconnected(self) -> None:
        if not self._closing:
            self.stats.disconnects += 1
            log.warning("nats disconnected", extra={"node_id": self.node_id})

    async def _on_reconnected(self) -> None:
        self.stats.reconnects += 1
        log.warning("nats reconnected", extra={"node_id": self.node_id})
        self._gap("reconnected")

    async def _on_closed(self) -> None:
        log.info("nats connection closed", extra={"node_id": self.node_id})

    def _gap(self, reason: str) -> None:
        if self._on_gap is None:
            return
        try:
            self._on_gap(reason)
        except Exception:
            log.exception("on_gap handler failed", extra={"reason": reason})


@dataclass(slots=True)
class PresenceStats:
    writes: int = 0
    write_failures: int = 0
    refreshes: int = 0


class NatsPresence:
    """Which users are connected anywhere in the cluster.

    Bucket `<prefix>_presence` (memory storage, max age = `ttl`), one key
    `<user>.<node>` per user connected to a node. `online`/`offline` are
    counted per node, so call them once per connection opened/closed; the
    key exists while the count is positive. A node that dies stops calling
    `refresh()` and its keys age out after at most `ttl`.

    Writes are best-effort (a failure is logged and counted; the next
    `refresh()` repairs it). `is_online` raises `Unavailable` when NATS
    cannot answer, since there is no honest default.
    """

    BATCH: Final = 256

    def __init__(
        self,
        url: str,
        node_id: str,
        *,
        subject_prefix: str = "hubbub",
        ttl: float = 30.0,
        start_timeout: float = 10.0,
        op_timeout: float = 2.0,
    ) -> None:
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        self.url = url
        self.node_id = node_id
        self.bucket = f"{_check_prefix(subject_prefix)}_presence"
        self.ttl = ttl
        self.stats = PresenceStats()
        self._stream = f"KV_{self.bucket}"
        self._pre = f"$KV.{self.bucket}."
        self._node_tok = _token(node_id)
        self._start_timeout = start_timeout
        self._op_timeout = op_timeout
        self._local: dict[str, int] = {}
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._closing = False

    @property
    def refresh_interval(self) -> float:
        """How often to call `refresh()`: a third of the bucket's TTL."""
        return self.ttl / 3

    async def start(self) -> None:
        """Connect and create the bucket, or bind to an existing one.

        The first node to create the bucket fixes its TTL; a node configured
        differently adopts the bucket's TTL (and says so) rather than failing.
        """
        if self._nc is not None or self._closing:
            raise RuntimeError("NatsPresence.start() called twice")
        nc = Client()
        try:
            await asyncio.wait_for(
                nc.connect(
                    self.url,
                    name=f"hubbub-presence-{self.node_id}",
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=RECONNECT_WAIT_S,
                    error_cb=self._on_error,
                ),
                self._start_timeout,
            )
            js = nc.jetstream(timeout=self._op_timeout)
            try:
                await js.create_key_value(
                    KeyValueConfig(
                        bucket=self.bucket,
                        ttl=self.ttl,
                        history=1,
                        storage=StorageType.MEMORY,
                        description="hubbub cluster presence: <user>.<node> keys",
                    )
                )
            except nats.js.errors.BadRequestError as exc:
                if exc.err_code != STREAM_NAME_IN_USE:
                    raise
                info = await js.stream_info(self._stream)
                actual = info.config.max_age
                log.warning(
                    "presence bucket exists with another TTL; using it",
                    extra={"bucket": self.bucket, "ttl": actual, "wanted": self.ttl},
                )
                if actual:
                    self.ttl = float(actual)
        except (*_NATS_ERRORS, asyncio.CancelledError) as exc:
            await nc.close()
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise Unavailable(f"NATS presence unavailable ({type(exc).__name__})") from exc
        self._nc, self._js = nc, js

    def _key_subject(self, user_id: str) -> str:
        return f"{self._pre}{_token(user_id)}.{self._node_tok}"

    def _js_or_raise(self) -> JetStreamContext:
        if self._js is None or self._closing:
            raise Unavailable("presence not started or closed")
        return self._js

    async def online(self, user_id: str) -> None:
        """One more connection of `user_id` on this node."""
        n = self._local.get(user_id, 0)
        self._local[user_id] = n + 1
        if n == 0:
            await self._put(user_id)

    async def offline(self, user_id: str) -> None:
        """One connection of `user_id` on this node closed."""
        n = self._local.get(user_id, 0)
        if n <= 0:
            return
        if n > 1:
            self._local[user_id] = n - 1
            return
        del self._local[user_id]
        await self._remove(self._key_subject(user_id))

    async def is_online(self, user_id: str) -> bool:
        """Whether any live node has `user_id` connected."""
        if self._local.get(user_id, 0) > 0:
            return True
        js = self._js_or_raise()
        try:
            info = await js.stream_info(
                self._stream, subjects_filter=f"{self._pre}{_token(user_id)}.*"
            )
        except _NATS_ERRORS as exc:
            raise Unavailable(f"presence unreachable ({type(exc).__name__})") from exc
        return bool(info.state.subjects)

    async def online_among(self, user_ids: Iterable[str]) -> set[str]:
        """Which of `user_ids` are online anywhere.

        A connecting user's contacts: those connected here are known; the others
        are asked `BATCH` at a time concurrently, so a user with a thousand
        contacts costs a few round trips, not a thousand in a row. (Listing the
        whole bucket instead would not scale with the cluster: JetStream pages
        subject listings, which nats-py does not follow.)
        """
        ids = list(dict.fromkeys(user_ids))
        found = {u for u in ids if self._local.get(u, 0) > 0}
        rest = [u for u in ids if u not in found]
        for i in range(0, len(rest), self.BATCH):
            chunk = rest[i : i + self.BATCH]
            answers = await asyncio.gather(*(self.is_online(u) for u in chunk))
            found.update(u for u, on in zip(chunk, answers, strict=True) if on)
        return found

    async def refresh(self) -> None:
        """Re-put the keys of users connected here; call every `refresh_interval`."""
        users = list(self._local)
        for i in range(0, len(users), self.BATCH):
            await asyncio.gather(*(self._put(u) for u in users[i : i + self.BATCH]))
        self.stats.refreshes += 1
        # A user who left while their put was in flight must not linger a TTL.
        await self._remove_gone(users)

    async def close(self) -> None:
        """Remove this node's keys (others see its users offline now), disconnect."""
        if self._closing:
            return
        self._local.clear()
        nc, js = self._nc, self._js
        if js is not None:
            await self._remove(f"{self._pre}*.{self._node_tok}")
        self._closing = True
        if nc is not None and not nc.is_closed:
            try:
                await nc.drain()
            except _NATS_ERRORS:
                await nc.close()

    async def _put(self, user_id: str) -> None:
        js = self._js
        if js is None or self._closing:
            return
        try:
            await js.publish(self._key_subject(user_id), b"")
        except _NATS_ERRORS as exc:
            self.stats.write_failures += 1
            log.warning("presence write failed", extra={"error": type(exc).__name__})
            return
        self.stats.writes += 1

    async def _remove(self, subject: str) -> None:
        # A stream purge by subject, not a KV delete marker: nothing remains to
        # age out, so "a message exists under <user>.*" is exactly "online".
        js = self._js
        if js is None or self._closing:
            return
        try:
            await js.purge_stream(self._stream, subject=subject)
        except _NATS_ERRORS as exc:
            self.stats.write_failures += 1
            log.warning("presence removal failed", extra={"error": type(exc).__name__})
            return
        self.stats.writes += 1

    async def _remove_gone(self, users: Iterable[str]) -> None:
        for u in users:
            if self._local.get(u, 0) == 0:
                await self._remove(self._key_subject(u))

    async def _on_error(self, exc: Exception) -> None:
        log.warning("nats presence error", extra={"error": type(exc).__name__})
