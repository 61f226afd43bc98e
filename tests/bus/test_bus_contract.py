"""The bus contract, run on the in-process bus and on NATS; NATS presence.

Each NATS test uses its own subject prefix (and so its own presence bucket),
so tests never see each other's traffic. NATS unreachable: skipped, unless
HUBBUB_REQUIRE_SERVICES=1 (CI), where it fails.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import msgspec
import nats
import nats.js.errors
import pytest
from nats.aio.client import Client as NatsClient

from hubbub.bus.inprocess import InProcessBus
from hubbub.bus.nats import NatsBus, NatsPresence
from hubbub.core.model import Notification
from hubbub.core.ports import Bus
from hubbub.errors import Unavailable
from tests.conftest import nats_probe

NATS_URL = os.environ.get("HUBBUB_TEST_NATS", "nats://127.0.0.1:4222")
REQUIRE = os.environ.get("HUBBUB_REQUIRE_SERVICES") == "1"
TIMEOUT = 15.0


# -- helpers -----------------------------------------------------------------


class Sink:
    """A `deliver` callback that records what it was given."""

    def __init__(self) -> None:
        self.notes: list[Notification] = []

    def __call__(self, note: Notification) -> None:
        self.notes.append(note)

    def frames(self) -> list[bytes]:
        return [n.frame for n in self.notes]


async def wait_until(
    cond: Callable[[], bool | Awaitable[bool]], what: str, timeout: float = TIMEOUT
) -> None:
    """Poll `cond` until true; fail after `timeout`. The only place that sleeps."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        res = cond()
        if isinstance(res, Awaitable):
            res = await res
        if res:
            return
        if loop.time() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)


@pytest.fixture
def prefix() -> str:
    return "hubbub_test_" + secrets.token_hex(4)


MakeBus = Callable[..., Awaitable[tuple[Bus, Sink]]]


@pytest.fixture(params=["inprocess", "nats"])
async def make_bus(request: pytest.FixtureRequest, prefix: str) -> AsyncIterator[MakeBus]:
    """Builds started buses of one kind; on NATS they share one subject (one cluster)."""
    kind = request.param
    url = request.getfixturevalue("nats_url") if kind == "nats" else ""
    made: list[Bus] = []

    async def make(node_id: str = "n1", **kwargs: Any) -> tuple[Bus, Sink]:
        bus: Bus
        if kind == "nats":
            bus = NatsBus(url, node_id, subject_prefix=prefix, **kwargs)
        else:
            bus = InProcessBus()
        sink = Sink()
        await bus.start(sink)
        made.append(bus)
        return bus, sink

    yield make
    for bus in made:
        await bus.close()


@pytest.fixture
async def make_nats(nats_url: str, prefix: str) -> AsyncIterator[Callable[..., Awaitable[NatsBus]]]:
    made: list[NatsBus] = []

    async def make(
        node_id: str = "n1", deliver: Callable[[Notification], None] | None = None, **kw: Any
    ) -> NatsBus:
        bus = NatsBus(nats_url, node_id, subject_prefix=prefix, **kw)
        await bus.start(deliver or Sink())
        made.append(bus)
        return bus

    yield make
    for bus in made:
        await bus.close()


@pytest.fixture
async def raw_nats(nats_url: str) -> AsyncIterator[NatsClient]:
    nc = await nats.connect(nats_url, allow_reconnect=False)
    yield nc
    await nc.close()


# -- the Bus contract (both implementations) ---------------------------------

SAMPLES = [
    Notification(
        frame=b'{"channel":"chat/messages","type":"ChatMessageReceived","seq":7,"data":{}}',
        recipients=["u-1", "u-2"],
        skip_conn="c-1",
    ),
    Notification(invalidate=["conv-1", "conv-2"]),
    Notification(revoke_token="ab" * 32),
    Notification(
        frame=b"\x00\xff not json, opaque bytes",
        recipients=["u-3"],
        skip_conn=None,
        invalidate=["conv-3"],
        revoke_token="cd" * 32,
    ),
    Notification(),
]


async def test_published_notification_is_delivered_intact(make_bus: MakeBus) -> None:
    bus, sink = await make_bus()
    for note in SAMPLES:
        await bus.publish(note)
    await wait_until(lambda: len(sink.notes) >= len(SAMPLES), "all samples")
    assert sink.notes == SAMPLES
    for got, sent in zip(sink.notes, SAMPLES, strict=True):
        assert got.frame == sent.frame
        assert got.recipients == sent.recipients
        assert got.skip_conn == sent.skip_conn
        assert got.invalidate == sent.invalidate
        assert got.revoke_token == sent.revoke_token


async def test_order_of_one_publisher_is_preserved(make_bus: MakeBus) -> None:
    bus, sink = await make_bus()
    n = 1000
    for i in range(n):
        await bus.publish(Notification(frame=str(i).encode(), recipients=["u"]))
    await wait_until(lambda: len(sink.notes) >= n, f"{n} notifications")
    assert sink.frames() == [str(i).encode() for i in range(n)]


async def test_ping_succeeds_when_connected(make_bus: MakeBus) -> None:
    bus, _ = await make_bus()
    await bus.ping()


async def test_publish_after_close_is_dropped_silently(make_bus: MakeBus) -> None:
    """Chosen contract: after close, publish returns without raising and delivers
    nothing (publishing runs after the commit; the feed already has the event)."""
    bus, sink = await make_bus("n1")
    witness, wsink = await make_bus("n2")
    await bus.publish(Notification(frame=b"before"))
    await wait_until(lambda: sink.frames() == [b"before"], "delivery before close")
    await bus.close()

    await bus.publish(Notification(frame=b"after-close"))  # must not raise

    # Barrier: a later notification through the same medium has arrived, so the
    # dropped one would have too. (The in-process bus delivers via call_soon:
    # one loop turn is enough.)
    await witness.publish(Notification(frame=b"marker"))
    await wait_until(lambda: b"marker" in wsink.frames(), "witness marker")
    await asyncio.sleep(0)
    assert b"after-close" not in wsink.frames()
    assert sink.frames() == [b"before"]
    if isinstance(bus, NatsBus):
        assert bus.stats.dropped_publishes == 1


# -- NATS specifics ----------------------------------------------------------


async def test_two_nodes_both_receive_every_notification(
    make_nats: Callable[..., Awaitable[NatsBus]],
) -> None:
    sa, sb = Sink(), Sink()
    a = await make_nats("node-a", sa)
    b = await make_nats("node-b", sb)
    n = 200

    async def run(bus: NatsBus, tag: str) -> None:
        for i in range(n):
            await bus.publish(Notification(frame=f"{tag}-{i}".encode(), recipients=[tag]))

    await asyncio.gather(run(a, "a"), run(b, "b"))
    for sink in (sa, sb):
        await wait_until(lambda: len(sa.notes) >= 2 * n and len(sb.notes) >= 2 * n, "both nodes")
        frames = sink.frames()
        assert len(frames) == 2 * n
        # per-publisher FIFO on every node, the publisher's own node included
        for tag in ("a", "b"):
            mine = [f for f in frames if f.startswith(tag.encode() + b"-")]
            assert mine == [f"{tag}-{i}".encode() for i in range(n)]
    assert a.stats.published == n and b.stats.published == n


async def test_node_hears_its_own_publication_only_once(
    make_nats: Callable[..., Awaitable[NatsBus]],
) -> None:
    sink = Sink()
    bus = await make_nats("solo", sink)
    await bus.publish(Notification(frame=b"one"))
    await bus.publish(Notification(frame=b"two"))
    await wait_until(lambda: b"two" in sink.frames(), "second notification")
    assert sink.frames() == [b"one", b"two"]
    assert bus.stats.received == 2


async def test_ping_raises_unavailable_after_close(
    make_nats: Callable[..., Awaitable[NatsBus]],
) -> None:
    bus = await make_nats()
    await bus.ping()
    await bus.close()
    with pytest.raises(Unavailable):
        await bus.ping()
    await bus.close()  # idempotent


async def test_start_fails_with_unavailable_when_nats_is_down() -> None:
    bus = NatsBus("nats://127.0.0.1:1", "n1", start_timeout=1.0)
    with pytest.raises(Unavailable):
        await bus.start(Sink())
    with pytest.raises(Unavailable):
        await bus.ping()


async def test_undecodable_message_is_dropped_and_counted(
    make_nats: Callable[..., Awaitable[NatsBus]], raw_nats: NatsClient
) -> None:
    sink = Sink()
    bus = await make_nats("n1", sink)
    good = Notification(frame=b"good", recipients=["u"])
    # same connection for both, so the garbage is known to arrive first
    await raw_nats.publish(bus.subject, b"\xc1 definitely not msgpack")
    await raw_nats.publish(bus.subject, msgspec.msgpack.encode(["wrong", "shape", 1, 2, 3, 4]))
    await raw_nats.publish(bus.subject, msgspec.msgpack.encode(good))
    await wait_until(lambda: len(sink.notes) >= 1, "the valid notification")
    assert sink.notes == [good]
    assert bus.stats.decode_errors == 2
    await bus.ping()


async def test_failing_deliver_does_not_stop_the_subscription(
    make_nats: Callable[..., Awaitable[NatsBus]],
) -> None:
    seen: list[bytes] = []

    def deliver(note: Notification) -> None:
        if note.frame == b"boom":
            raise RuntimeError("hub bug")
        seen.append(note.frame)

    bus = await make_nats("n1", deliver)
    await bus.publish(Notification(frame=b"boom"))
    await bus.publish(Notification(frame=b"fine"))
    await wait_until(lambda: seen == [b"fine"], "delivery after a failing one")
    assert bus.stats.deliver_errors == 1


async def test_slow_node_is_bounded_and_reports_a_gap(
    make_nats: Callable[..., Awaitable[NatsBus]], raw_nats: NatsClient
) -> None:
    sink = Sink()
    gaps: list[str] = []
    bus = await make_nats("slow", sink, pending_msgs_limit=2, on_gap=gaps.append)
    n = 2000
    payload = msgspec.msgpack.encode(Notification(frame=b"x" * 64, recipients=["u"]))
    for _ in range(n):
        await raw_nats.publish(bus.subject, payload)
    await raw_nats.flush()
    await wait_until(
        lambda: bus.stats.received + bus.stats.slow_consumer_drops >= n, "all accounted for"
    )
    assert bus.stats.slow_consumer_drops > 0
    assert len(sink.notes) == bus.stats.received < n
    await wait_until(lambda: "slow_consumer" in gaps, "gap report")
    await bus.ping()  # still healthy: drops are bounded, not fatal


class PrivateNats:
    """A nats-server of our own on a free port, so a test can take it down."""

    def __init__(self, exe: str) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.exe = exe
        self.url = f"nats://127.0.0.1:{self.port}"
        self.proc: asyncio.subprocess.Process | None = None

    def _accepting(self) -> bool:
        try:
            nats_probe(self.url, jetstream=False)
        except OSError:
            return False
        return True

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            self.exe, "-a", "127.0.0.1", "-p", str(self.port),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        await wait_until(self._accepting, "private nats-server to accept")

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            await asyncio.wait_for(self.proc.wait(), 10)
        self.proc = None


@pytest.fixture
async def private_nats() -> AsyncIterator[PrivateNats]:
    exe = shutil.which("nats-server")
    if exe is None:
        pytest.skip("nats-server binary not on PATH (needed to simulate an outage)")
    server = PrivateNats(exe)
    yield server
    await server.stop()


async def test_outage_reconnects_and_reports_a_gap(private_nats: PrivateNats) -> None:
    await private_nats.start()
    sink = Sink()
    gaps: list[str] = []
    bus = NatsBus(private_nats.url, "n1", on_gap=gaps.append)
    await bus.start(sink)
    try:
        await bus.publish(Notification(frame=b"before"))
        await wait_until(lambda: sink.frames() == [b"before"], "delivery before the outage")

        await private_nats.stop()
        await wait_until(lambda: not bus.connected, "the client to notice the outage")
        with pytest.raises(Unavailable):
            await bus.ping()
        await bus.publish(Notification(frame=b"during"))  # buffered by the client, no raise

        await private_nats.start()
        await wait_until(lambda: "reconnected" in gaps, "reconnect", timeout=30.0)
        await bus.publish(Notification(frame=b"after"))
        await wait_until(lambda: b"after" in sink.frames(), "delivery after the outage")
        assert sink.frames() == [b"before", b"during", b"after"]
        await bus.ping()
        assert bus.stats.disconnects == 1
        assert bus.stats.reconnects == 1
        assert bus.stats.dropped_publishes == 0
    finally:
        await bus.close()


async def test_outage_longer_than_the_buffer_drops_publishes_without_raising(
    private_nats: PrivateNats,
) -> None:
    await private_nats.start()
    bus = NatsBus(private_nats.url, "n1", reconnect_buffer_bytes=2048)
    await bus.start(Sink())
    try:
        await private_nats.stop()
        await wait_until(lambda: not bus.connected, "the client to notice the outage")
        for _ in range(100):
            await bus.publish(Notification(frame=b"x" * 100, recipients=["u"]))
        assert bus.stats.dropped_publishes > 0
        assert bus.stats.published + bus.stats.dropped_publishes == 100
    finally:
        await bus.close()


# -- NatsPresence --------------------------------------------------------------


MakePresence = Callable[..., Awaitable[NatsPresence]]


@pytest.fixture
async def make_presence(jetstream_url: str, prefix: str) -> AsyncIterator[MakePresence]:
    made: list[NatsPresence] = []

    async def make(node_id: str, ttl: float = 30.0) -> NatsPresence:
        p = NatsPresence(jetstream_url, node_id, subject_prefix=prefix, ttl=ttl)
        await p.start()
        made.append(p)
        return p

    yield make
    for p in made:
        await p.close()
    nc = await nats.connect(jetstream_url, allow_reconnect=False)
    try:
        await nc.jetstream().delete_key_value(f"{prefix}_presence")
    except nats.js.errors.NotFoundError:
        pass
    finally:
        await nc.close()


async def test_presence_online_and_offline_seen_from_another_node(
    make_presence: MakePresence,
) -> None:
    a = await make_presence("node-a")
    b = await make_presence("node-b")
    assert not await b.is_online("u-1")
    await a.online("u-1")
    assert await b.is_online("u-1")
    assert not await b.is_online("u-2")
    await a.offline("u-1")
    assert not await b.is_online("u-1")
    assert not await a.is_online("u-1")


async def test_presence_counts_connections_per_node(make_presence: MakePresence) -> None:
    a = await make_presence("node-a")
    b = await make_presence("node-b")
    await a.online("u-1")
    await a.online("u-1")  # second connection, same node
    await a.offline("u-1")
    assert await b.is_online("u-1")
    await a.offline("u-1")
    assert not await b.is_online("u-1")
    await a.offline("u-1")  # extra offline is harmless
    assert not await b.is_online("u-1")


async def test_presence_user_on_two_nodes_stays_online_until_both_leave(
    make_presence: MakePresence,
) -> None:
    a = await make_presence("node-a")
    b = await make_presence("node-b")
    c = await make_presence("node-c")
    await a.online("u-1")
    await b.online("u-1")
    await a.offline("u-1")
    assert await c.is_online("u-1")
    await b.offline("u-1")
    assert not await c.is_online("u-1")


async def test_presence_of_a_node_that_stops_refreshing_expires(
    make_presence: MakePresence,
) -> None:
    a = await make_presence("node-a", ttl=2.0)
    b = await make_presence("node-b", ttl=2.0)
    await a.online("u-1")
    assert await b.is_online("u-1")

    async def gone() -> bool:
        return not await b.is_online("u-1")

    # node-a never calls refresh(): from the cluster's view it is dead
    await wait_until(gone, "the stale key to expire", timeout=30.0)
    # refresh() puts back the keys of users still connected to node-a
    await a.refresh()
    assert await b.is_online("u-1")


async def test_presence_close_removes_the_node_users_at_once(
    make_presence: MakePresence,
) -> None:
    a = await make_presence("node-a")
    b = await make_presence("node-b")
    await a.online("u-1")
    await a.online("u-2")
    await b.online("u-2")
    await a.close()
    assert not await b.is_online("u-1")
    assert await b.is_online("u-2")
    with pytest.raises(Unavailable):
        await a.is_online("u-1")


async def test_presence_accepts_ids_that_are_not_subject_tokens(
    make_presence: MakePresence,
) -> None:
    a = await make_presence("node.with.dots")
    b = await make_presence("node-b")
    odd = "alice.smith@example.com *>"
    await a.online(odd)
    assert await b.is_online(odd)
    assert not await b.is_online("alice")
    await a.offline(odd)
    assert not await b.is_online(odd)


async def test_presence_adopts_the_ttl_of_an_existing_bucket(
    make_presence: MakePresence,
) -> None:
    await make_presence("node-a", ttl=2.0)
    b = await make_presence("node-b", ttl=30.0)
    assert b.ttl == pytest.approx(2.0)
    assert b.refresh_interval == pytest.approx(2.0 / 3)


def test_bad_prefix_is_rejected() -> None:
    with pytest.raises(ValueError):
        NatsBus(NATS_URL, "n1", subject_prefix="a.>")
    with pytest.raises(ValueError):
        NatsPresence(NATS_URL, "n1", subject_prefix="has space")


async def test_presence_online_among_answers_for_many_users_at_once(
    make_presence: MakePresence,
) -> None:
    a = await make_presence("node-a")
    b = await make_presence("node-b")
    users = [f"u-{i}" for i in range(700)]  # more than one concurrent batch
    for u in users[::3]:
        await a.online(u)
    await b.online(users[1])  # local to the asking node
    expected = set(users[::3]) | {users[1]}
    assert await b.online_among([*users, "u-nobody"]) == expected
    assert await a.online_among([]) == set()
    await a.offline(users[0])
    assert users[0] not in await b.online_among(users[:4])
