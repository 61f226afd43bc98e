"""Fuzzing Symbia's real-time client events (spec 002) on `/api/ws` and Socket.IO.

`/api/ws` echoes a frame's `id` in its ack, so the property is exact: every
frame a participant's connection sends is answered by exactly one `ack`,
its `ref` the frame's id (null for a frame with none: malformed JSON, a
non-object, an oversize frame), its data `{success: true, ...}` or
`{success: false, error, code}` with a code (`validation_failed` always with
a `$.data` path), never `internal`. Inputs, in batches on one connection of
a participant of a real conversation (the rate limit lifted so the limiter
does not answer in the handlers' place):

  (a) random text and malformed JSON (valid frames with bytes flipped, cut
      or inserted), JSON values of any shape;
  (b) `{event, data}` with an unknown or real event and data of any type;
  (c) every client event with its payload built field by field, each field
      valid or not (the real conversation, another id, wrong types, lengths
      past their limits, oversize frames).

After each batch a probe (an unknown event) must be acked, proving the
connection usable, and the server log must have gained no traceback. The
Socket.IO part sends every client event with random payloads through a real
python-socketio client: each call gets its ack (no timeout) of the same
shape. `HUBBUB_RELIABILITY_LONG=1` runs 50,000 inputs instead of 400.

Found on PostgreSQL + NATS (issue #12): a bare id holding U+0000 reached a
query, asyncpg's DataError escaped `/api/ws`'s loop and the client saw 1006
(Socket.IO: no ack); SQLite stores NUL, so only that backend showed it.
tests/integration/test_symbia_socket_edges.py reproduces it directly.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import pytest
import socketio
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from hubbub.protocols.symbia.sockets import CLIENT_EVENTS
from tests.integration.symbia_rt import ApiWs, Sio
from tests.reliability.conftest import Figure, scale
from tests.reliability.loopthread import LoopThread
from tests.reliability.test_fuzz import chars, json_values, specials, strings, weighted
from tests.support import Api, ServerProcess

TOTAL = int(os.environ.get("HUBBUB_FUZZ_INPUTS", "0")) or scale(400, 50_000)
BATCH = 25
MAX_FRAME = 64 * 1024
SEND_LIMIT = 4 * MAX_FRAME  # above this the WebSocket layer closes the connection (1009)
EVENTS = sorted({*CLIENT_EVENTS, "message:new", "ack", "", "JOIN:CONVERSATION", "stream.pause"})

any_value = weighted((12, json_values), (1, specials))


@dataclass
class World:
    cid: str = ""
    foreign: str = ""  # a conversation the fuzzer is not in
    mid: str = ""  # a message of the fuzzer's


WORLD = World()


def ids() -> st.SearchStrategy[Any]:
    return weighted(
        (5, st.builds(lambda: WORLD.cid)),
        (2, st.builds(lambda: WORLD.foreign)),
        (2, st.builds(lambda: WORLD.mid)),
        (2, st.uuids().map(str)),
        (2, st.sampled_from(["", "x" * 65, "a\x00", " ", "../x"])),
        (1, any_value),
    )


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return weighted((8, strategy), (1, any_value))


texts = weighted(
    (8, st.text(chars, min_size=1, max_size=80)),
    (1, st.sampled_from(["", "x" * (64 * 1024 + 1), "a\x00"])),
    (1, any_value),
)
BODIES: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "message:send": {
        "conversationId": ids(),
        "id": maybe(st.text(chars, max_size=140)),
        "content": texts,
        "contentType": maybe(st.sampled_from(["text/plain", "text/markdown", "x" * 70])),
        "replyTo": ids(),
        "metadata": maybe(st.dictionaries(st.text(max_size=5), json_values, max_size=3)),
        "runId": maybe(st.uuids().map(str)),
        "traceId": maybe(strings),
        "priority": maybe(st.sampled_from(["low", "normal", "high", "critical", "?"])),
        "interruptible": maybe(st.booleans()),
        "preemptedBy": ids(),
    },
    "message:edit": {"messageId": ids(), "content": texts, "conversationId": ids()},
    "control:send": {
        "conversationId": ids(),
        "event": maybe(st.sampled_from(["stream.pause", "stream.resume", "stream.cancel", "x"])),
        "runId": maybe(st.uuids().map(str)),
        "target": maybe(st.fixed_dictionaries({}, optional={"principalId": ids()})),
        "reason": maybe(strings),
        "priority": maybe(st.sampled_from(["low", "high", "?"])),
    },
    "presence:update": {"status": maybe(st.sampled_from(["online", "away", "busy", "asleep"]))},
}
BARE_ID = {
    "join:conversation",
    "leave:conversation",
    "message:delete",
    "typing:start",
    "typing:stop",
}


@st.composite
def event_payload(draw: st.DrawFn) -> tuple[str, Any]:
    """A client event with its payload built field by field, valid or not."""
    event = draw(st.sampled_from(CLIENT_EVENTS))
    if event in BARE_ID:
        key = "messageId" if event == "message:delete" else "conversationId"
        data = draw(weighted((4, ids()), (3, st.builds(lambda v: {key: v}, ids())), (1, any_value)))
        return event, data
    if event == "presence:update" and draw(st.booleans()):
        return event, draw(BODIES[event]["status"])
    body: dict[str, Any] = {}
    for name, strategy in BODIES[event].items():
        if draw(st.integers(0, 3)) > 0:
            body[name] = draw(strategy)
    return event, body


def _readable(text: str, ref: str) -> bool:
    """Whether the server can read the frame's id: JSON it decodes (not
    `1e999`), an object whose `id` survived the mutations."""
    if text.count("[") + text.count("{") > 200:
        return False  # deep enough that the server's stack may refuse it (ref null)
    try:
        frame = msgspec.json.decode(text, type=dict[str, Any])
    except (msgspec.DecodeError, RecursionError):
        return False
    return frame.get("id", frame.get("ref")) == ref


@dataclass
class Input:
    kind: str  # raw text | frame (JSON-encoded, maybe mutated)
    payload: Any
    mutations: list[tuple[str, float, int]] = field(default_factory=list)

    def render(self, ref: str) -> tuple[str, bool]:
        """The text frame, and whether its ack must carry `ref`."""
        if self.kind == "raw":
            return str(self.payload), False
        frame = self.payload
        tagged = isinstance(frame, dict)
        if tagged:
            frame = {**frame, "id": ref}
        data = msgspec.json.encode(frame)
        for op, where, byte in self.mutations:
            i = int(where * len(data))
            if op == "flip" and data:
                i = min(i, len(data) - 1)
                data = data[:i] + bytes([data[i] ^ (byte or 1)]) + data[i + 1 :]
            elif op == "insert":
                data = data[:i] + bytes([byte]) + data[i:]
            elif op == "cut":
                data = data[:i]
        text = data.decode("utf-8", errors="replace")
        # an oversize frame is refused before it is read: its ack has no ref
        return text, tagged and len(text) <= MAX_FRAME and _readable(text, ref)


frames = weighted(
    (6, st.builds(lambda ed: {"event": ed[0], "data": ed[1]}, event_payload())),
    (
        2,
        st.builds(
            lambda e, d: {"event": e, "data": d},
            weighted((3, st.sampled_from(EVENTS)), (1, any_value)),
            any_value,
        ),
    ),
    (1, st.builds(lambda v: {"data": v}, any_value)),
)
mutation = st.tuples(
    st.sampled_from(["flip", "insert", "cut"]), st.floats(0, 1), st.integers(0, 255)
)
inputs = weighted(
    (1, st.builds(Input, st.just("raw"), st.text(chars, max_size=200))),
    (1, st.builds(Input, st.just("raw"), st.just("y" * (MAX_FRAME + 10)))),
    (2, st.builds(Input, st.just("frame"), any_value)),
    (12, st.builds(Input, st.just("frame"), frames)),
    (2, st.builds(Input, st.just("frame"), frames, st.lists(mutation, min_size=1, max_size=3))),
)
batches = st.lists(inputs, min_size=5, max_size=BATCH)


def typed(ack: Any) -> bool:
    """`{success: true, ...}` or a typed refusal; never `internal`."""
    if not isinstance(ack, dict) or not isinstance(ack.get("success"), bool):
        return False
    if ack["success"]:
        return True
    code = ack.get("code")
    if not isinstance(code, str) or not code or code == "internal":
        return False
    if not isinstance(ack.get("error"), str):
        return False
    return code != "validation_failed" or str(ack.get("path", "")).startswith("$")


@dataclass
class Tally:
    inputs: int = 0
    ok: int = 0
    codes: dict[str, int] = field(default_factory=dict)


@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")
@pytest.mark.timeout(max(300, TOTAL // 20))
def test_symbia_client_event_fuzz(tmp_path: Path, figure: Figure) -> None:
    env = {
        "HUBBUB_RATE_PER_SECOND": "1000000000",
        "HUBBUB_RATE_BURST": "1000000000",
        "HUBBUB_MAX_FRAME_BYTES": str(MAX_FRAME),
    }
    srv = ServerProcess(tmp_path / "fuzz", extra_env=env).start()
    lt = LoopThread()
    tally = Tally()
    refs = (f"f{n}" for n in itertools.count())
    log_seen = 0

    async def setup() -> tuple[ApiWs, Sio]:
        api = Api(srv)
        me, other, third = await api.user(3)
        WORLD.cid = await api.direct(me[1], other[0])
        WORLD.foreign = await api.direct(other[1], third[0])
        ws = await ApiWs.open(srv, query=f"token={me[1]}")
        sent = await ws.call("message:send", {"conversationId": WORLD.cid, "content": "seed"})
        WORLD.mid = sent["message"]["id"]
        sio = await Sio.open(srv, auth={"token": me[1]})
        await api.aclose()
        return ws, sio

    ws, sio = lt.run(setup())

    async def run_batch(batch: list[Input]) -> None:
        nonlocal ws
        mark = len(ws.received)
        expect_refs: list[str] = []
        texts_by_ref: dict[str, str] = {}
        all_sent: list[str] = []
        untagged = 0
        skipped = 0
        for item in batch:
            ref = next(refs)
            text, tagged = item.render(ref)
            if len(text.encode("utf-8", errors="surrogatepass")) > SEND_LIMIT:
                skipped += 1
                continue
            if tagged:
                expect_refs.append(ref)
                texts_by_ref[ref] = text
            else:
                untagged += 1
            all_sent.append(text)
            try:
                await ws.ws.send(text)
            except Exception as exc:
                raise AssertionError(
                    f"connection lost ({exc!r}) after {[t[:300] for t in all_sent[-4:]]}"
                ) from None
        probe = "probe-" + secrets.token_hex(4)
        try:
            ack = await ws.call(probe, None)
        except TimeoutError:
            raise AssertionError(
                f"no probe ack; closed={ws.closed} last={ws.received[-2:]!r:.600} "
                f"sent={[t[:200] for t in all_sent[-4:]]}"
            ) from None
        assert ack["code"] == "bad_frame", ack
        acks = [d for n, d in ws.received[mark:] if n == "ack"][:-1]  # the probe's is last
        frames = [f for r, f in ws.acks.items() if r in set(expect_refs)]
        assert len(acks) == len(batch) - skipped, (len(acks), len(batch), skipped)
        missing = [texts_by_ref[r][:300] for r in expect_refs if r not in ws.acks]
        assert len(frames) == len(expect_refs), missing  # each tagged frame: its own ack
        bad = [a for a in acks if not typed(a)]
        assert not bad, bad[:3]
        for a in acks:
            key = "ok" if a["success"] else a["code"]
            tally.codes[key] = tally.codes.get(key, 0) + 1
        tally.ok += sum(1 for a in acks if a["success"])
        tally.inputs += len(batch) - skipped
        assert untagged <= len(batch)

    async def socketio_round(cases: list[tuple[str, Any]]) -> None:
        for event, data in cases:
            raw = msgspec.json.encode(data)
            if len(raw) > MAX_FRAME // 2:
                continue  # engine.io drops a connection over its buffer: not an event's answer
            try:
                data = msgspec.json.decode(raw)  # plain JSON types for python-socketio
            except (ValueError, RecursionError):  # DecodeError, invalid UTF-8 in a Raw
                continue  # not JSON a Socket.IO client can send (1e999, too deep)
            try:
                ack = await asyncio.wait_for(sio.client.call(event, data, timeout=30), 40)
            except RecursionError:
                continue  # nested past the Python client's json (the server is not reached)
            except (TimeoutError, socketio.exceptions.TimeoutError) as exc:
                raise AssertionError(f"no ack for {event} {data!r:.300}") from exc
            assert typed(ack), (event, data, ack)
            tally.inputs += 1

    def check_log() -> None:
        nonlocal log_seen
        with srv.log_path.open("rb") as fh:
            fh.seek(log_seen)
            text = fh.read()
        log_seen += len(text)
        assert b"Traceback" not in text, text.decode()[-3000:]

    def fuzz(batch: list[Input]) -> None:
        try:
            lt.run(run_batch(batch))
            check_log()
        except BaseException as exc:
            print(f"\nFUZZ FAILURE after {tally.inputs} inputs: {exc!r:.4000}", flush=True)
            raise

    def fuzz_sio(cases: list[tuple[str, Any]]) -> None:
        lt.run(socketio_round(cases))
        check_log()

    def run(test: Any, strategy: Any, examples: int) -> None:
        settings(
            max_examples=examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=(Phase.explicit, Phase.reuse, Phase.generate),
        )(given(strategy)(test))()

    try:
        while tally.inputs < TOTAL:
            run(fuzz, batches, max(10, min(300, (TOTAL - tally.inputs) // BATCH)))
            run(fuzz_sio, st.lists(event_payload(), min_size=1, max_size=10), 10)
        # still usable: a real send is acked and stored
        ok = lt.run(ws.call("message:send", {"conversationId": WORLD.cid, "content": "end"}))
        assert ok["success"] is True
        lt.run(ws.close())
        lt.run(sio.close())
        log = srv.log_path.read_text()
    finally:
        lt.close()
        srv.stop()
    codes = ", ".join(f"{k}={v}" for k, v in sorted(tally.codes.items()))
    figure(
        "fuzz_symbia_events",
        "hypothesis-generated Symbia client events on /api/ws and Socket.IO (malformed JSON, "
        "wrong types, oversize, unknown events, every event field by field), probe per batch",
        f"{tally.inputs} inputs, {tally.ok} accepted, every one acked once and typed",
        inputs=tally.inputs,
        accepted=tally.ok,
        replies=codes,
    )
    assert "Traceback" not in log


async def test_deeply_nested_json_is_a_bad_frame_not_a_dropped_connection(
    server: ServerProcess, api: Api
) -> None:
    """Found by the fuzzer: JSON nested past msgspec's depth raised
    RecursionError, which `/api/ws` took for a closed socket (1006)."""
    [me] = await api.user(1)
    ws = await ApiWs.open(server, query=f"token={me[1]}")
    await ws.ws.send('{"event":"","id":"deep","data":' + "[" * 5000 + "]" * 5000 + "}")
    ack = await ws.call("probe:after", None)
    assert ack["code"] == "bad_frame" and ws.closed is None
    [deep] = [d for n, d in ws.received if n == "ack"][:1]
    assert deep == {"success": False, "error": "{event, data} expected", "code": "bad_frame"}
    assert (await ws.call("typing:start", "nope"))["success"] is False  # still usable
    await ws.close()
