"""Crash durability: SIGKILL under steady load loses no acknowledged message.

Several senders write to a group and to direct chats with a recipient, each
sending in order with client ids (a sender only moves to its next message
once the current one is acked, as a client's outbox does). The server is
SIGKILLed at random points (after a random number of further acks), then
restarted on the same data. Senders reconnect, re-send the message that was
in flight with the same client id, and re-send a few acked ones (which must
return the original message id). A live recipient device reconnects after
every crash and resumes from the last `seq` it saw.

At the end the recipient's full resume (`SyncRequest` pages until
`has_more` is false) must hold every acked message exactly once, each
sender's messages in the order they were sent; the live device, too, must
have seen every acked message. The figure: acked messages lost, duplicates,
and restart time (from `start()` to "listening").

`Load`, `Follower` and `check_feed` are shared with `test_faults.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.conftest import Figure, scale
from tests.support import Api, Client, ServerProcess, full_resume

FAST = {"HUBBUB_RATE_PER_SECOND": "100000", "HUBBUB_RATE_BURST": "100000"}
User = tuple[str, str, str]


def _content(sender: str, i: int) -> str:
    return f"{sender}:{i}"


@dataclass
class Sender:
    """One device sending messages `name:0`, `name:1`, ... in order."""

    name: str
    user: User
    convs: tuple[str, ...]
    acked: dict[int, str] = field(default_factory=dict)  # index -> message_id
    next: int = 0  # the message being sent until acked
    attempted: bool = False  # `next` was sent at least once
    errors: dict[str, int] = field(default_factory=dict)
    connects: int = 0
    client: Client | None = None

    def payload(self, i: int) -> dict[str, Any]:
        return {
            "client_message_id": f"{self.name}-{i}",
            "conversation_id": self.convs[i % len(self.convs)],
            "content": _content(self.name, i),
        }


async def _connect(srv: ServerProcess, user: User, device: str, up: asyncio.Event) -> Client:
    """Connect as soon as the server is up again; bounded."""

    async def attempt() -> Client:
        while True:
            await up.wait()
            with contextlib.suppress(Exception):
                return await Client(srv, user[0], user[1], device).connect()
            await asyncio.sleep(0.1)  # client reconnect backoff, not a timing wait

    return await asyncio.wait_for(attempt(), timeout=90)


class Load:
    """Senders that keep sending and survive crashes and faults.

    `up` is cleared by the test while the server is down, so reconnects wait
    for the restart instead of spinning. On every (re)connect a sender
    re-sends its last `recheck` acked messages: each must come back with its
    original message id (`rechecked`, `mismatches`).
    """

    def __init__(
        self,
        srv: ServerProcess,
        senders: list[Sender],
        *,
        request_timeout: float = 30.0,
        recheck: int = 2,
    ) -> None:
        self.srv = srv
        self.senders = senders
        self.request_timeout = request_timeout
        self.recheck = recheck
        self.up = asyncio.Event()
        self.up.set()
        self.rechecked = 0
        self.mismatches: list[tuple[str, int, str, str]] = []
        self.last_ack_at = 0.0
        self._stopping = False
        self._progress = asyncio.Condition()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def total_acked(self) -> int:
        return sum(len(s.acked) for s in self.senders)

    def errors(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for s in self.senders:
            for code, n in s.errors.items():
                out[code] = out.get(code, 0) + n
        return out

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._run(s)) for s in self.senders]

    async def wait_acked(self, n: int, timeout: float = 60) -> None:
        async def reached() -> None:
            async with self._progress:
                while self.total_acked < n:
                    self._raise_failures()
                    await self._progress.wait()

        await asyncio.wait_for(reached(), timeout)

    async def wait_each_acked(self, marks: dict[str, int], timeout: float = 60) -> None:
        """Until every sender has more acks than in `marks` (name -> count)."""

        async def reached() -> None:
            async with self._progress:
                while any(len(s.acked) <= marks[s.name] for s in self.senders):
                    self._raise_failures()
                    await self._progress.wait()

        await asyncio.wait_for(reached(), timeout)

    def marks(self) -> dict[str, int]:
        return {s.name: len(s.acked) for s in self.senders}

    async def stop(self, timeout: float = 90) -> None:
        """Let every sender drive its in-flight message to an ack, then stop."""
        self._stopping = True
        await asyncio.wait_for(asyncio.gather(*self._tasks), timeout)
        for s in self.senders:
            if s.client is not None:
                await s.client.close()

    def _raise_failures(self) -> None:
        for task in self._tasks:
            exc = task.exception() if task.done() else None
            if exc is not None:
                raise exc

    async def _notify(self) -> None:
        async with self._progress:
            self._progress.notify_all()

    async def _open(self, s: Sender) -> None:
        if s.client is not None:
            await s.client.close()
            s.client = None
        client = await _connect(self.srv, s.user, f"{s.name}-dev", self.up)
        s.connects += 1
        for i in sorted(s.acked)[-self.recheck :] if s.connects > 1 else []:
            try:
                r = await client.request(
                    "chat/messages/ack",
                    "SendChatMessageWithClientId",
                    s.payload(i),
                    timeout=self.request_timeout,
                )
            except Exception:  # dropped again: the caller reconnects
                await client.close()
                return
            if r["type"] == "ChatMessageAccepted":
                self.rechecked += 1
                if r["data"]["message_id"] != s.acked[i]:
                    self.mismatches.append((s.name, i, s.acked[i], r["data"]["message_id"]))
        s.client = client

    async def _step(self, s: Sender) -> None:
        """One attempt at the sender's current message: connect if needed, send,
        record the ack; an Error (e.g. `unavailable`) means retry after a backoff."""
        if s.client is None or s.client.closed is not None:
            await self._open(s)  # fails the load if the server never comes back
            if s.client is None:
                return
        s.attempted = True
        try:
            r = await s.client.request(
                "chat/messages/ack",
                "SendChatMessageWithClientId",
                s.payload(s.next),
                timeout=self.request_timeout,
            )
        except Exception:  # connection lost or no answer: reconnect, re-send
            await s.client.close()
            s.client = None
            return
        if r["type"] == "ChatMessageAccepted":
            s.acked[s.next] = r["data"]["message_id"]
            s.next += 1
            s.attempted = False
            self.last_ack_at = time.monotonic()
            await self._notify()
            return
        code = r["data"]["code"]
        s.errors[code] = s.errors.get(code, 0) + 1
        # Client retry backoff (honouring retry_after_ms), not a timing wait.
        await asyncio.sleep(min(1.0, (r["data"].get("retry_after_ms") or 50) / 1000))

    async def send_one(self, s: Sender, timeout: float = 60) -> None:
        """Drive one more message of `s` (not run by the load) to an ack."""

        async def acked() -> None:
            mark = len(s.acked)
            while len(s.acked) == mark:
                await self._step(s)

        await asyncio.wait_for(acked(), timeout)

    async def _run(self, s: Sender) -> None:
        try:
            while not (self._stopping and not s.attempted):
                await self._step(s)
        finally:
            await self._notify()


class Follower:
    """A recipient device that stays connected: every push it gets is kept, and
    after every disconnect it reconnects and resumes from the highest `seq` it
    has seen (deduplicating by `seq`, as a client does)."""

    def __init__(self, srv: ServerProcess, user: User, device: str, up: asyncio.Event) -> None:
        self.srv = srv
        self.user = user
        self.device = device
        self.up = up
        self.by_seq: dict[int, dict[str, Any]] = {}
        self.close_codes: list[int | None] = []
        self.resumes = 0
        self.client: Client | None = None
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def last_seq(self) -> int:
        return max(self.by_seq, default=0)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    def _harvest(self, frames: list[dict[str, Any]]) -> None:
        for f in frames:
            if f.get("seq") is not None:
                self.by_seq.setdefault(f["seq"], f)

    def has_message(self, message_id: str) -> bool:
        """Whether this device got `message_id`, pushed live or by a resume."""
        frames = [*self.by_seq.values(), *(self.client.frames if self.client else [])]
        return any(
            f.get("type") == "ChatMessageReceived" and f["data"].get("message_id") == message_id
            for f in frames
        )

    async def wait_message(self, message_id: str, timeout: float) -> None:
        async def arrived() -> None:
            # The client object changes on every reconnect: a bounded poll.
            while not self.has_message(message_id):  # noqa: ASYNC110
                await asyncio.sleep(0.02)

        await asyncio.wait_for(arrived(), timeout)

    async def resume(self, client: Client) -> None:
        since = self.last_seq
        while True:
            resp = await client.ok(
                "sync/request",
                "SyncRequest",
                {"request_id": f"f{since}", "since_sequence": since},
            )
            self._harvest(resp["data"]["changes"])
            if not resp["data"]["has_more"]:
                break
            since = resp["data"]["to_sequence"]
        self.resumes += 1

    async def _run(self) -> None:
        while not self._stopping.is_set():
            client = await _connect(self.srv, self.user, self.device, self.up)
            self.client = client
            try:
                await self.resume(client)
                # Live pushes until the connection drops (or the test stops us).
                stop = asyncio.create_task(self._stopping.wait())
                closed = asyncio.create_task(client.wait_closed(timeout=3600))
                await asyncio.wait({stop, closed}, return_when=asyncio.FIRST_COMPLETED)
                stop.cancel()
                closed.cancel()
            except Exception:
                pass
            self._harvest(client.frames)
            if client.closed is not None:
                self.close_codes.append(client.closed[0])
            await client.close()
            self.client = None

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            await asyncio.wait_for(self._task, 30)
        # One last resume on a fresh connection catches the tail.
        client = await _connect(self.srv, self.user, self.device, self.up)
        await self.resume(client)
        self._harvest(client.frames)
        await client.close()


@dataclass
class FeedCheck:
    acked: int
    lost: int
    duplicates: int
    out_of_order: int
    unexpected: int
    missing: list[str] = field(default_factory=list)  # `sender:index` of lost ones


def check_feed(senders: list[Sender], changes: list[dict[str, Any]]) -> FeedCheck:
    """Compare a feed with what the senders got acked: by content, in seq order."""
    by_name = {s.name: s for s in senders}
    seen: dict[str, list[int]] = {s.name: [] for s in senders}
    ids: dict[tuple[str, int], str] = {}
    unexpected = 0
    seqs = [c["seq"] for c in changes]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), "feed not in strict seq order"
    for c in changes:
        if c["type"] != "ChatMessageReceived":
            continue
        name, _, index = str(c["data"].get("content", "")).partition(":")
        if name not in by_name:
            continue
        i = int(index)
        seen[name].append(i)
        ids[(name, i)] = c["data"]["message_id"]
        if i not in by_name[name].acked:
            unexpected += 1  # stored but never acked (all were driven to an ack)
    lost = duplicates = out_of_order = 0
    missing: list[str] = []
    for s in senders:
        got = seen[s.name]
        gone = [i for i in s.acked if i not in got]
        lost += len(gone)
        missing += [_content(s.name, i) for i in gone]
        duplicates += len(got) - len(set(got))
        out_of_order += sum(1 for a, b in itertools.pairwise(got) if b <= a)
        lost += sum(1 for i, mid in s.acked.items() if ids.get((s.name, i), mid) != mid)
    total = sum(len(s.acked) for s in senders)
    return FeedCheck(total, lost, duplicates, out_of_order, unexpected, missing)


async def setup_chat(api: Api, n_senders: int) -> tuple[User, list[Sender]]:
    """A recipient, `n_senders` senders, one group of all of them, and a direct
    chat between each sender and the recipient."""
    users = await api.user(n_senders + 1)
    recipient, others = users[0], users[1:]
    creator = await Client(api.server, others[0][0], others[0][1], "setup").connect()
    g = await creator.ok(
        "chat/groups",
        "CreateGroup",
        {
            "name": "load",
            "member_ids": [u[0] for u in [recipient, *others[1:]]],
            "client_request_id": "load-group",
        },
    )
    await creator.close()
    gid = g["data"]["group_id"]
    senders = []
    for k, u in enumerate(others):
        dm = await api.direct(u[1], recipient[0])
        senders.append(Sender(f"s{k}", u, (gid, dm)))
    return recipient, senders


def p50(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


@pytest.mark.parametrize("db", ["sqlite", "postgres"])
async def test_sigkill_under_load(
    db: str, tmp_path: Path, request: pytest.FixtureRequest, figure: Figure
) -> None:
    url = request.getfixturevalue("pg_url") if db == "postgres" else ""
    runs = scale(3, 20) if db == "sqlite" else scale(1, 5)
    rng = random.Random(f"crash-{db}")
    srv = ServerProcess(tmp_path / "data", database_url=url, extra_env=FAST).start()
    load: Load | None = None
    try:
        api = Api(srv)
        recipient, senders = await setup_chat(api, 4)
        await api.aclose()
        load = Load(srv, senders)
        follower = Follower(srv, recipient, "r-live", load.up)
        follower.start()
        load.start()
        restart_s: list[float] = []
        in_flight = 0  # sent, not yet acked, when the server died
        for _ in range(runs):
            # A random point: after a random number of further acks.
            await load.wait_acked(load.total_acked + rng.randint(5, 120))
            in_flight += sum(1 for s in senders if s.attempted)
            load.up.clear()
            srv.kill9()
            t0 = time.monotonic()
            srv.start()  # same data dir / database, new port
            restart_s.append(time.monotonic() - t0)
            load.up.set()
        # Everyone recovered: each sender gets further acks after the last crash.
        await load.wait_each_acked(load.marks())
        await load.stop()
        await follower.stop()

        reader = await Client(srv, recipient[0], recipient[1], "r-full").connect()
        full = check_feed(senders, await full_resume(reader))
        await reader.close()
        live = check_feed(senders, [follower.by_seq[k] for k in sorted(follower.by_seq)])

        assert load.mismatches == [], load.mismatches
        assert full.acked == load.total_acked > 0
        clean = (full.lost, full.duplicates, full.out_of_order, full.unexpected) == (0, 0, 0, 0)
        assert clean, full
        assert (live.lost, live.duplicates, live.out_of_order) == (0, 0, 0), live
        assert sum(s.connects for s in senders) >= len(senders) * (runs + 1)
        assert in_flight > 0, "no kill hit a message in flight"
        figure(
            f"Crash durability ({'SQLite' if db == 'sqlite' else 'PostgreSQL'})",
            f"{runs} SIGKILLs at random points under load ({len(senders)} senders, one group "
            "+ direct chats, client ids); restart on the same data, reconnect, re-send",
            f"{full.acked} acked messages: {full.lost} lost, {full.duplicates} duplicates, "
            f"order kept; {in_flight} were in flight at a kill and re-sent; "
            f"{load.rechecked} re-sent acked messages got their original id; "
            f"restart p50 {p50(restart_s):.2f} s, max {max(restart_s):.2f} s",
            runs=runs,
            acked=full.acked,
            lost=full.lost,
            duplicates=full.duplicates,
            in_flight_at_kill=in_flight,
            restart_p50_s=round(p50(restart_s), 2),
            restart_max_s=round(max(restart_s), 2),
        )
    finally:
        srv.stop()
