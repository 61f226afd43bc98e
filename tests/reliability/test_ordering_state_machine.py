"""Ordering and resume as a hypothesis state machine against a real server.

Three users (A and B with two devices each, C with one) share a group, and A
and B a direct chat. Hypothesis drives random sequences of:

- send a plaintext message with a fresh `client_message_id`, or retry an old
  one (same conversation: the original ids come back and nothing new exists;
  another conversation: `validation_failed`);
- a burst: several users send at once; or two devices of one user send the
  same fresh `client_message_id` at once (one message, one id);
- disconnect a device; reconnect it and resume with `SyncRequest` from the
  last `seq` it saw, paging (by repeated SyncRequest or by SyncAck) until
  `has_more` is false (the server runs with 3 changes a page);
- receipts (`SendEncryptedAck`), some repeated.

Each device keeps what it received live and by resume, deduplicated by `seq`.
After every step, for every device:

- a `seq` always denotes the same event, and a message has one `seq`;
- per conversation, each sender's messages appear in that sender's send
  order, and a message acknowledged before another was sent has a lower
  `seq`; live pushes of one connection arrive in increasing `seq`;
- nothing is missing: a connected device (fresh, or resumed) holds every
  message acknowledged so far in its conversations, and the sender's devices
  every first receipt;
- a repeated `client_message_id` never created a second message, and a
  repeated receipt was sent once.

The state machine is synchronous; its rules drive an asyncio loop owned by a
background thread.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from websockets.asyncio.client import connect

from tests import support
from tests.reliability.conftest import Figure, scale
from tests.reliability.loopthread import LoopThread
from tests.support import Api, Client, ServerProcess

T = TypeVar("T")
PAGE = 3  # sync page size of the server under test: resumes take several pages
STEPS = 30
DELIVERY_TIMEOUT = 5.0  # for a live push in flight (longer: a message is missing)


@dataclass
class Message:
    message_id: str
    conversation: str
    sender: str  # user id
    client_id: str
    sent_tick: int
    acked_tick: int


@dataclass
class Device:
    user: str  # user id
    token: str
    device_id: str
    client: Client | None = None
    consumed: int = 0  # frames of `client` already ingested
    log: dict[int, dict[str, Any]] = field(default_factory=dict)  # seq -> frame
    own: set[str] = field(default_factory=set)  # message ids this device sent
    live_last: dict[str, int] = field(default_factory=dict)  # conversation -> last live seq

    @property
    def last_seq(self) -> int:
        return max(self.log, default=0)


class Violation(AssertionError):
    pass


@dataclass
class Totals:
    examples: int = 0
    steps: int = 0
    messages: int = 0
    retries: int = 0
    resumes: int = 0
    pages: int = 0
    receipts: int = 0
    checks: int = 0
    violations: int = 0


@pytest.mark.timeout(scale(180, 3600))
def test_ordering_and_resume_state_machine(
    tmp_path: Path, figure: Figure, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No keepalive pings: websockets draws them from `random`, which hypothesis
    # watches while it generates in the main thread.
    monkeypatch.setattr(support, "connect", functools.partial(connect, ping_interval=None))
    env = {
        "HUBBUB_SYNC_PAGE_SIZE": str(PAGE),
        "HUBBUB_RATE_PER_SECOND": "100000",
        "HUBBUB_RATE_BURST": "100000",
    }
    srv = ServerProcess(tmp_path / "ordering", extra_env=env).start()
    lt = LoopThread()
    api: Api = lt.run(_make_api(srv))
    totals = Totals()
    names = itertools.count()

    class Ordering(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            totals.examples += 1
            self.tick = 0
            self.messages: dict[str, Message] = {}
            self.by_client_id: dict[tuple[str, str], Message] = {}
            self.receipts: dict[tuple[str, str, str], int] = {}  # (msg, acker, status) -> sends
            self.seq_everywhere: dict[str, int] = {}  # message -> its seq, on every device
            self.devices, self.convs, self.members = lt.run(self._setup())

        async def _setup(
            self,
        ) -> tuple[list[Device], dict[str, str], dict[str, set[str]]]:
            a, b, c = await api.user(3)
            direct = await api.direct(a[1], b[0])
            devices = [
                Device(u[0], u[1], f"{label}-{next(names)}")
                for u, label in ((a, "a1"), (a, "a2"), (b, "b1"), (b, "b2"), (c, "c1"))
            ]
            for d in devices:
                d.client = await Client(srv, d.user, d.token, d.device_id).connect()
            g = await devices[0].client.ok(  # type: ignore[union-attr]
                "chat/groups",
                "CreateGroup",
                {"name": "order", "member_ids": [b[0], c[0]], "client_request_id": "g"},
            )
            group = g["data"]["group_id"]
            convs = {"G": group, "D": direct}
            members = {group: {a[0], b[0], c[0]}, direct: {a[0], b[0]}}
            return devices, convs, members

        def teardown(self) -> None:
            async def close() -> None:
                for d in self.devices:
                    if d.client is not None:
                        await d.client.close()

            lt.run(close())

        # -- helpers ------------------------------------------------------------
        def _next_tick(self) -> int:
            self.tick += 1
            return self.tick

        def connected(self) -> list[Device]:
            return [d for d in self.devices if d.client is not None]

        def offline(self) -> list[Device]:
            return [d for d in self.devices if d.client is None]

        def conversations_of(self, user: str) -> list[str]:
            return [cid for cid in self.convs.values() if user in self.members[cid]]

        def fail(self, what: str) -> None:
            totals.violations += 1
            raise Violation(what)

        async def _send(self, d: Device, conv: str, client_id: str) -> dict[str, Any]:
            assert d.client is not None
            return await d.client.request(
                "chat/messages/ack",
                "SendChatMessageWithClientId",
                {"client_message_id": client_id, "conversation_id": conv, "content": client_id},
            )

        def _record(
            self, d: Device, conv: str, client_id: str, reply: dict[str, Any], sent: int
        ) -> None:
            if reply["type"] != "ChatMessageAccepted":
                self.fail(f"send failed: {reply}")
            mid = reply["data"]["message_id"]
            if mid in self.messages:
                self.fail(f"a fresh client_message_id returned an existing message {mid}")
            m = Message(mid, conv, d.user, client_id, sent, self._next_tick())
            self.messages[mid] = m
            self.by_client_id[(d.user, client_id)] = m
            d.own.add(mid)
            totals.messages += 1

        # -- rules ----------------------------------------------------------------
        @precondition(lambda self: self.connected())
        @rule(data=st.data(), count=st.integers(1, 6))
        def send(self, data: st.DataObject, count: int) -> None:
            """One device sends `count` messages, one after the other."""
            d = data.draw(st.sampled_from(self.connected()), label="device")
            for _ in range(count):
                conv = data.draw(st.sampled_from(self.conversations_of(d.user)), label="conv")
                client_id = f"c{next(names)}"
                sent = self._next_tick()
                reply = lt.run(self._send(d, conv, client_id))
                self._record(d, conv, client_id, reply, sent)
            totals.steps += 1

        @precondition(lambda self: self.connected() and self.by_client_id)
        @rule(data=st.data())
        def retry(self, data: st.DataObject) -> None:
            """Send an old client_message_id again, from any device of its sender."""
            old = data.draw(st.sampled_from(list(self.by_client_id.values())), label="old")
            devices = [d for d in self.connected() if d.user == old.sender]
            if not devices:
                return
            d = data.draw(st.sampled_from(devices), label="device")
            other = [c for c in self.conversations_of(d.user) if c != old.conversation]
            elsewhere = bool(other) and data.draw(st.integers(0, 4), label="elsewhere") == 0
            conv = other[0] if elsewhere else old.conversation
            reply = lt.run(self._send(d, conv, old.client_id))
            totals.retries += 1
            totals.steps += 1
            if elsewhere:
                if reply["type"] != "Error" or reply["data"]["code"] != "validation_failed":
                    self.fail(f"client id reused in another conversation: {reply}")
            elif reply["type"] != "ChatMessageAccepted" or (
                reply["data"]["message_id"] != old.message_id
            ):
                self.fail(f"a retry did not return the original {old.message_id}: {reply}")
            else:
                d.own.add(old.message_id)

        @precondition(lambda self: len({d.user for d in self.connected()}) >= 2)
        @rule(data=st.data())
        def burst(self, data: st.DataObject) -> None:
            """Several users send at once (one device each, so each sender's order is known)."""
            by_user: dict[str, Device] = {}
            for d in self.connected():
                by_user.setdefault(d.user, d)
            chosen = data.draw(
                st.lists(st.sampled_from(list(by_user)), min_size=2, unique=True), label="users"
            )
            plan = []
            for user in chosen:
                d = by_user[user]
                conv = data.draw(st.sampled_from(self.conversations_of(user)), label="conv")
                plan.append((d, conv, f"c{next(names)}"))
            sent = self._next_tick()

            async def go() -> list[dict[str, Any]]:
                return list(await asyncio.gather(*(self._send(*p) for p in plan)))

            for p, reply in zip(plan, lt.run(go()), strict=True):
                self._record(*p, reply, sent)
            totals.steps += 1

        @precondition(lambda self: self._pairs())
        @rule(data=st.data())
        def double_send(self, data: st.DataObject) -> None:
            """Two devices of one user send the same fresh client_message_id at once."""
            users = self._pairs()
            user = data.draw(st.sampled_from(users), label="user")
            d1, d2 = [d for d in self.connected() if d.user == user][:2]
            conv = data.draw(st.sampled_from(self.conversations_of(user)), label="conv")
            client_id = f"c{next(names)}"
            sent = self._next_tick()

            async def go() -> list[dict[str, Any]]:
                return list(
                    await asyncio.gather(
                        self._send(d1, conv, client_id), self._send(d2, conv, client_id)
                    )
                )

            r1, r2 = lt.run(go())
            totals.steps += 1
            totals.retries += 1
            if r1["type"] != "ChatMessageAccepted" or r2["type"] != "ChatMessageAccepted":
                self.fail(f"concurrent duplicate send failed: {r1} {r2}")
            if r1["data"]["message_id"] != r2["data"]["message_id"]:
                self.fail(f"one client_message_id made two messages: {r1} {r2}")
            self._record(d1, conv, client_id, r1, sent)
            d2.own.add(r1["data"]["message_id"])

        def _pairs(self) -> list[str]:
            """Users with two devices online."""
            online = [d.user for d in self.connected()]  # device order: stable across runs
            return list(dict.fromkeys(u for u in online if online.count(u) >= 2))

        @precondition(lambda self: self.connected())
        @rule(data=st.data())
        def disconnect(self, data: st.DataObject) -> None:
            d = data.draw(st.sampled_from(self.connected()), label="device")
            assert d.client is not None
            lt.run(d.client.close())
            self.ingest(d)
            d.client = None
            totals.steps += 1

        @precondition(lambda self: self.offline())
        @rule(data=st.data(), by_ack=st.booleans())
        def reconnect(self, data: st.DataObject, by_ack: bool) -> None:
            """Connect again and resume from the last seq seen, until has_more is false."""
            d = data.draw(st.sampled_from(self.offline()), label="device")
            d.live_last.clear()
            d.client = lt.run(Client(srv, d.user, d.token, d.device_id).connect())
            d.consumed = 0
            lt.run(self._resume(d, by_ack))
            totals.resumes += 1
            totals.steps += 1

        async def _resume(self, d: Device, by_ack: bool) -> None:
            c = d.client
            assert c is not None
            since = d.last_seq
            rid = f"s{next(names)}"
            r = await c.ok(
                "sync/request", "SyncRequest", {"request_id": rid, "since_sequence": since}
            )
            page = r["data"]
            if page["from_sequence"] != since:
                self.fail(f"resume from {since} answered from {page['from_sequence']}")
            to, more = page["to_sequence"], page["has_more"]
            totals.pages += 1
            while more:
                if by_ack:
                    await c.ok("sync/changes", "SyncAck", {"sync_id": rid, "sequence": to})
                    nxt = await c.wait_for(
                        lambda f, s=to: (
                            f["type"] == "SyncChangesReceived"
                            and f["data"]["sync_id"] == rid
                            and f["data"]["sequence"] > s
                        )
                    )
                    to, more = nxt["data"]["sequence"], nxt["data"]["has_more"]
                else:
                    r = await c.ok(
                        "sync/request", "SyncRequest", {"request_id": rid, "since_sequence": to}
                    )
                    to, more = r["data"]["to_sequence"], r["data"]["has_more"]
                totals.pages += 1

        @precondition(lambda self: self.connected())
        @rule(data=st.data(), status=st.sampled_from(["delivered", "read"]))
        def receipt(self, data: st.DataObject, status: str) -> None:
            d = data.draw(st.sampled_from(self.connected()), label="device")
            self.ingest(d)
            theirs = sorted(
                {
                    f["data"]["message_id"]
                    for f in d.log.values()
                    if f["type"] == "ChatMessageReceived" and f["data"]["sender_id"] != d.user
                },
                key=lambda mid: self.messages[mid].acked_tick,  # not by id: stable across runs
            )
            if not theirs:
                return
            mid = data.draw(st.sampled_from(theirs), label="message")
            m = self.messages[mid]
            assert d.client is not None
            reply = lt.run(
                d.client.request(
                    "chat/acks",
                    "SendEncryptedAck",
                    {"message_id": mid, "conversation_id": m.conversation, "status": status},
                )
            )
            if reply["type"] != "Ack":
                self.fail(f"receipt failed: {reply}")
            key = (mid, d.user, status)
            self.receipts[key] = self.receipts.get(key, 0) + 1
            totals.receipts += 1
            totals.steps += 1

        # -- invariants -------------------------------------------------------------
        def ingest(self, d: Device) -> None:
            """Fold the device's new frames (live, and resume pages) into its log."""
            c = d.client
            if c is None:
                return
            new, d.consumed = c.frames[d.consumed :], len(c.frames)
            for f in new:
                if f.get("type") in ("SyncResponse", "SyncChangesReceived"):
                    changes = f["data"]["changes"]
                    seqs = [ch["seq"] for ch in changes]
                    if seqs != sorted(set(seqs)):
                        self.fail(f"a resume page is not in strictly increasing seq: {seqs}")
                    for ch in changes:
                        self.keep(d, ch)
                elif f.get("seq") is not None:
                    conv = (f.get("data") or {}).get("conversation_id")
                    if f.get("channel") == "chat/messages" and conv:
                        last = d.live_last.get(conv, 0)
                        if f["seq"] <= last:
                            self.fail(
                                f"live pushes out of order in {conv}: {f['seq']} after {last}"
                            )
                        d.live_last[conv] = f["seq"]
                    self.keep(d, f)

        def keep(self, d: Device, f: dict[str, Any]) -> None:
            seq = f["seq"]
            old = d.log.get(seq)
            if old is None:
                d.log[seq] = f
            elif (old["type"], old["data"].get("message_id")) != (
                f["type"],
                f["data"].get("message_id"),
            ):
                self.fail(f"seq {seq} names two events on {d.device_id}: {old} / {f}")

        def expected(self, d: Device) -> tuple[set[str], set[tuple[str, str, str]]]:
            convs = set(self.conversations_of(d.user))
            msgs = {m.message_id for m in self.messages.values() if m.conversation in convs}
            rcpts = {k for k in self.receipts if self.messages[k[0]].sender == d.user}
            return msgs, rcpts

        def held(self, d: Device) -> tuple[set[str], set[tuple[str, str, str]]]:
            msgs = set(d.own)
            rcpts: set[tuple[str, str, str]] = set()
            for f in d.log.values():
                data = f["data"]
                if f["type"] == "ChatMessageReceived":
                    msgs.add(data["message_id"])
                elif f["type"] == "EncryptedMessageAck":
                    rcpts.add((data["message_id"], data["user_id"], data["status"]))
            return msgs, rcpts

        @invariant()
        def nothing_missing(self) -> None:
            """Connected devices hold everything acknowledged so far (waiting on arrival)."""

            async def settle(d: Device) -> None:
                want_m, want_r = self.expected(d)
                assert d.client is not None

                def complete(_f: dict[str, Any]) -> bool:
                    self.ingest(d)
                    have_m, have_r = self.held(d)
                    return want_m <= have_m and want_r <= have_r

                if complete({}):
                    return
                try:
                    await d.client.wait_for(complete, timeout=DELIVERY_TIMEOUT)
                except TimeoutError:
                    have_m, have_r = self.held(d)
                    self.fail(
                        f"{d.device_id} misses messages {want_m - have_m} "
                        f"receipts {want_r - have_r} (last seq {d.last_seq})"
                    )

            async def all_devices() -> None:
                for d in self.connected():
                    await settle(d)

            lt.run(all_devices())
            totals.checks += 1

        @invariant()
        def order_and_uniqueness(self) -> None:
            for d in self.devices:
                self.ingest(d)
                seq_of: dict[str, int] = {}
                receipts: dict[tuple[str, str, str], int] = {}
                for seq in sorted(d.log):
                    f = d.log[seq]
                    data = f["data"]
                    if f["type"] == "ChatMessageReceived":
                        mid = data["message_id"]
                        if mid not in self.messages:
                            self.fail(f"{d.device_id} got a message nobody sent: {f}")
                        if mid in seq_of:
                            self.fail(f"message {mid} has seq {seq_of[mid]} and {seq}")
                        seq_of[mid] = seq
                        first = self.seq_everywhere.setdefault(mid, seq)
                        if first != seq:
                            self.fail(
                                f"message {mid} has seq {seq} on {d.device_id}, {first} elsewhere"
                            )
                    elif f["type"] == "EncryptedMessageAck":
                        key = (data["message_id"], data["user_id"], data["status"])
                        if key in receipts:
                            self.fail(f"receipt {key} delivered as {receipts[key]} and {seq}")
                        receipts[key] = seq
                held = sorted(seq_of, key=seq_of.__getitem__)
                for conv in self.convs.values():
                    in_conv = [
                        self.messages[mid]
                        for mid in held
                        if self.messages[mid].conversation == conv
                    ]
                    # each sender's messages in send order
                    for sender in {m.sender for m in in_conv}:
                        ticks = [m.sent_tick for m in in_conv if m.sender == sender]
                        if ticks != sorted(ticks):
                            self.fail(
                                f"{d.device_id}: {sender}'s messages out of send order in {conv}"
                            )
                    # acknowledged before another was sent => lower seq
                    for i, m in enumerate(in_conv):
                        for later in in_conv[i + 1 :]:
                            if later.acked_tick < m.sent_tick:
                                self.fail(
                                    f"{d.device_id}: {later.message_id} was acked before "
                                    f"{m.message_id} was sent but has a higher seq"
                                )
            totals.checks += 1

    settings_ = settings(
        max_examples=scale(20, 300),
        stateful_step_count=STEPS,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        # No shrinking: each replay against the live server may wait out a
        # delivery timeout; the report lists the failing run's steps as they were.
        phases=[Phase.explicit, Phase.generate],
    )
    try:
        run_state_machine_as_test(Ordering, settings=settings_)
    finally:
        lt.run(api.aclose())
        lt.close()
        srv.stop()
    figure(
        "ordering_state_machine",
        "hypothesis state machine: 3 users, 5 devices, a group and a direct chat; sends, "
        "retries, bursts, disconnects, resumes (3-change pages), receipts",
        f"{totals.examples} examples x up to {STEPS} steps: {totals.violations} invariant "
        "violations",
        examples=totals.examples,
        steps_per_example=STEPS,
        steps=totals.steps,
        messages=totals.messages,
        retries=totals.retries,
        resumes=totals.resumes,
        sync_pages=totals.pages,
        receipts=totals.receipts,
        invariant_checks=totals.checks,
        invariant_violations=totals.violations,
    )
    assert totals.violations == 0
    assert totals.resumes > 0 and totals.messages > 0


async def _make_api(srv: ServerProcess) -> Api:
    return Api(srv)
