"""Fuzzing MTChat's WebSocket client frames (spec 003) on `/api/v1/ws`.

MTChat's frames carry no request id, but the connection answers each frame
in order and what it answers is fully determined, so the property is exact:
a model (`expected`) says for every frame what the server must send back,
and after each batch the frames received must be exactly the model's, in
order. MTChat's SDK sends `ping` (answered `pong`), `subscribe` and
`unsubscribe {dialog_id}` (answered nothing when accepted); anything else is
one `{"type": "error", "message": ...}` with one of the ws module's messages:
a frame over `MAX_FRAME` characters is "frame too large", a frame that is not
a JSON object (a binary frame included) or has no known `type` is "Invalid
message format", a `dialog_id` that is not a string of at most 64 characters
is "dialog_id required", and subscribing to a dialog the user neither takes
part in nor may see by scope is "dialog not found" (exactly like an unknown
id). Inputs, in batches on a connection of a user with a scope, who takes
part in two dialogs, may see a third by scope and not a fourth (a quarter of
the batches on the user's other connection, opened without a scope, which
may see neither):

  (a) random text and bytes (binary frames), valid frames with bytes
      flipped, cut or inserted, JSON values of any shape;
  (b) `{type, ...}` with an unknown or real `type` (the server's own too)
      and fields of any type;
  (c) `ping`, `subscribe` and `unsubscribe` built field by field: the
      user's dialogs, the dialog visible by scope, the foreign one, a
      message or user id, random ids, wrong types, ids past 64 characters,
      frames padded to around `MAX_FRAME` and past it, sent as text or as
      binary frames.

Frames nested 800 to 999 levels deep are not sent: msgspec's depth is
what the interpreter's recursion limit leaves it, so whether the server
decodes one depends on its stack (it refuses from about 970); the model
refuses from 1000 itself, without decoding.

After each batch a `ping` must be answered `pong` (the connection is usable
and every earlier answer has come), the server log must have gained no
traceback, and a message is posted in the foreign dialog, in the scoped
one and in one of the user's: on both connections the user's arrives, the
scoped one exactly when the model says that connection subscribed to it,
and nothing of the foreign dialog ever arrives. At the end the message sent before the
fuzzing is still listed over REST. `HUBBUB_RELIABILITY_LONG=1` runs 50,000
inputs instead of 400; `HUBBUB_FUZZ_INPUTS=n` runs n.
"""

from __future__ import annotations

import asyncio
import collections
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import msgspec
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import ClientConnection, connect

from hubbub.protocols.mtchat.ws import MAX_FRAME
from tests.integration.mtchat import ENV, Mt, create_dialog, scope_header
from tests.reliability.conftest import Figure, scale
from tests.reliability.loopthread import LoopThread
from tests.reliability.test_fuzz import (
    chars,
    json_values,
    nesting,
    rss_mib,
    specials,
    strings,
    weighted,
)
from tests.support import ServerProcess

TOTAL = int(os.environ.get("HUBBUB_FUZZ_INPUTS", "0")) or scale(400, 50_000)
BATCH = 25
SEND_LIMIT = 4 * 256 * 1024  # above this the WebSocket layer closes the connection (1009)
SCOPE = scope_header(["tenant-f"], [], ["manager"])
RULE = {"scope_level0": ["tenant-f"], "scope_level1": [], "scope_level2": ["manager"]}
TYPES = sorted(
    {
        *("ping", "subscribe", "unsubscribe", "pong", "connected", "error", "message.new"),
        *(
            "presence.update",
            "dialog.archived",
            "Ping",
            "PING",
            " ping",
            "ping ",
            "",
            "subscribe\x00",
        ),
    }
)
MISSING = object()
AMBIGUOUS_DEPTH = (800, 1000)

FORMAT = {"type": "error", "message": "Invalid message format"}
TOO_LARGE = {"type": "error", "message": "frame too large"}
NO_DIALOG_ID = {"type": "error", "message": "dialog_id required"}
NOT_FOUND = {"type": "error", "message": "dialog not found"}
PONG = {"type": "pong"}
_decode = msgspec.json.Decoder(dict[str, Any]).decode

any_value = weighted((12, json_values), (1, specials))


@dataclass
class World:
    own: str = ""  # a dialog of the fuzzer's, holding only the seed message
    mark: str = ""  # another of its dialogs, for the per-batch markers
    scoped: str = ""  # visible to the fuzzer by scope only
    foreign: str = ""  # neither
    seed: str = ""  # the message sent before the fuzzing
    user: str = ""  # the fuzzer's MTChat user id


WORLD = World()


def ids() -> st.SearchStrategy[Any]:
    return weighted(
        (3, st.builds(lambda: WORLD.own)),
        (2, st.builds(lambda: WORLD.mark)),
        (5, st.builds(lambda: WORLD.scoped)),
        (4, st.builds(lambda: WORLD.foreign)),
        (1, st.builds(lambda: WORLD.seed)),
        (1, st.builds(lambda: WORLD.user)),
        (2, st.uuids().map(str)),
        (1, st.builds(lambda: WORLD.scoped.upper())),
        (1, st.builds(lambda: WORLD.foreign + " ")),
        (2, st.sampled_from(["", " ", "x" * 64, "x" * 65, "a\x00", "\x00", "../x", "%", "*"])),
        (2, strings),
        (2, any_value),
    )


@st.composite
def shaped(draw: st.DrawFn) -> dict[str, Any]:
    """A `ping`, `subscribe` or `unsubscribe`, its fields valid or not, some missing."""
    kind = draw(
        weighted((3, st.sampled_from(["ping", "subscribe", "unsubscribe"])), (1, st.just(MISSING)))
    )
    frame: dict[str, Any] = {} if kind is MISSING else {"type": kind}
    if draw(st.integers(0, 5)) > 0:
        frame["dialog_id"] = draw(ids())
    extra = draw(
        st.dictionaries(
            st.sampled_from(["id", "data", "dialogId", "user_id", "token", "type2"]),
            any_value,
            max_size=2,
        )
    )
    return {**extra, **frame}


@st.composite
def loose(draw: st.DrawFn) -> Any:
    """An object with a random or real `type` and fields of any type."""
    frame = draw(
        st.dictionaries(
            st.sampled_from(["dialog_id", "id", "content", "data", "type"]), any_value, max_size=3
        )
    )
    frame["type"] = draw(weighted((4, st.sampled_from(TYPES)), (1, any_value)))
    return frame


@st.composite
def padded(draw: st.DrawFn) -> Any:
    """A real frame padded to a length around the frame limit, or far past it."""
    frame = draw(shaped())
    target = MAX_FRAME + draw(
        weighted((4, st.integers(-3, 3)), (1, st.sampled_from([-200, 1000, 70_000])))
    )
    pad = draw(st.sampled_from(["x", "é", "\U0001d573"]))
    bare = len(msgspec.json.encode({**frame, "zz": ""}).decode("utf-8", errors="replace"))
    return {**frame, "zz": pad * max(0, target - bare)}


@dataclass
class Input:
    kind: str  # raw: `payload` is sent as is; value: JSON-encoded first
    payload: Any
    binary: bool = False
    mutations: list[tuple[str, float, int]] = field(default_factory=list)

    def render(self) -> str | bytes:
        if self.kind == "raw":
            assert isinstance(self.payload, str | bytes)
            return self.payload
        data = msgspec.json.encode(self.payload)
        for op, where, byte in self.mutations:
            i = int(where * len(data))
            if op == "flip" and data:
                i = min(i, len(data) - 1)
                data = data[:i] + bytes([data[i] ^ (byte or 1)]) + data[i + 1 :]
            elif op == "insert":
                data = data[:i] + bytes([byte]) + data[i:]
            elif op == "cut":
                data = data[:i]
        if self.binary:
            return data
        return data.decode("utf-8", errors="replace")


mutation = st.tuples(
    st.sampled_from(["flip", "insert", "cut"]), st.floats(0, 1), st.integers(0, 255)
)
as_binary = st.integers(0, 7).map(lambda n: n == 0)
inputs = weighted(
    (1, st.builds(Input, st.just("raw"), st.text(chars, max_size=200))),
    (1, st.builds(Input, st.just("raw"), st.binary(max_size=200))),
    (2, st.builds(Input, st.just("value"), any_value, as_binary)),
    (3, st.builds(Input, st.just("value"), loose(), as_binary)),
    (12, st.builds(Input, st.just("value"), shaped(), as_binary)),
    (2, st.builds(Input, st.just("value"), padded(), as_binary)),
    (
        3,
        st.builds(
            Input,
            st.just("value"),
            shaped(),
            as_binary,
            st.lists(mutation, min_size=1, max_size=3),
        ),
    ),
)
# (True: on the connection opened without a scope, False: the scoped one), frames
batches = st.tuples(
    st.integers(0, 3).map(lambda n: n == 0), st.lists(inputs, min_size=5, max_size=BATCH)
)


def nested_ok(frame: str) -> bool:
    """Whether the model can tell how the server decodes `frame`: msgspec
    refuses nesting past what the interpreter's recursion limit leaves it
    (1000 less the caller's stack: the server refuses from about 970), so
    near that depth the answer depends on the server's stack. Under 800 it
    decodes; from 1000 the model refuses without decoding (hypothesis raises
    this process's recursion limit, so decoding here would accept it)."""
    return not AMBIGUOUS_DEPTH[0] <= nesting(frame.encode()) < AMBIGUOUS_DEPTH[1]


@dataclass
class Model:
    """What a connection has accepted so far: the dialogs it watches. Opened
    without a scope, it may see no dialog it is not in."""

    scoped: bool
    watching: set[str] = field(default_factory=set)

    def expected(self, frame: str | bytes) -> dict[str, Any] | None:
        """The one frame the server answers `frame` with, or None for nothing."""
        if isinstance(frame, bytes):
            return FORMAT  # MTChat's frames are text
        if len(frame) > MAX_FRAME:
            return TOO_LARGE
        if nesting(frame.encode()) >= AMBIGUOUS_DEPTH[1]:
            # Past the server's depth (~970) however deep its stack: decided here, not
            # by decoding (hypothesis raises this process's recursion limit).
            return FORMAT
        try:
            msg = _decode(frame)
        except msgspec.DecodeError:
            return FORMAT
        kind = msg.get("type")
        if kind == "ping":
            return PONG
        if kind not in ("subscribe", "unsubscribe"):
            return FORMAT
        cid = msg.get("dialog_id")
        if not isinstance(cid, str) or len(cid) > 64:
            return NO_DIALOG_ID
        if kind == "unsubscribe":
            self.watching.discard(cid)
            return None
        if cid in (WORLD.own, WORLD.mark):
            return None  # a member gets its events anyway
        if cid == WORLD.scoped and self.scoped:
            self.watching.add(cid)
            return None
        return NOT_FOUND


class MtConn:
    """A lean `/api/v1/ws` client that keeps every frame it receives."""

    def __init__(self) -> None:
        self.ws: ClientConnection | None = None
        self.frames: list[dict[str, Any]] = []
        self.closed: tuple[int | None, str | None] | None = None
        self.changed = asyncio.Event()
        self.reader: asyncio.Task[None] | None = None

    async def open(self, server: ServerProcess, query: str) -> MtConn:
        url = server.base_url.replace("http://", "ws://") + "/api/v1/ws?" + query
        # No keepalive pings: they draw from `random`, which hypothesis watches.
        self.ws = await connect(url, max_size=2**24, ping_interval=None)
        self.reader = asyncio.create_task(self._read())
        await self.wait_for(lambda f: f.get("type") == "connected", 0)
        return self

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for raw in self.ws:
                self.frames.append(msgspec.json.decode(raw))
                self.changed.set()
        except Exception:
            pass
        finally:
            self.closed = (self.ws.close_code, self.ws.close_reason)
            self.changed.set()

    async def wait_for(self, pred: Any, after: int, timeout: float = 30) -> dict[str, Any]:
        async def wait() -> dict[str, Any]:
            while True:
                for f in self.frames[after:]:
                    if pred(f):
                        return f
                if self.closed is not None:
                    raise AssertionError(f"connection closed {self.closed}")
                self.changed.clear()
                await self.changed.wait()

        return await asyncio.wait_for(wait(), timeout)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            await asyncio.wait_for(self.reader, 10)


@dataclass
class Tally:
    inputs: int = 0
    batches: int = 0
    unscoped_batches: int = 0
    binary: int = 0
    skipped_oversize: int = 0
    skipped_ambiguous: int = 0
    crashes: int = 0
    untyped: int = 0
    watched_deliveries: int = 0
    outcomes: collections.Counter[str] = field(default_factory=collections.Counter)


def label(outcome: dict[str, Any] | None) -> str:
    if outcome is None:
        return "nothing"
    return str(outcome.get("message", outcome["type"]))


@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")
@pytest.mark.timeout(max(300, TOTAL // 20))
def test_mtchat_client_frame_fuzz(tmp_path: Path, figure: Figure) -> None:
    srv = ServerProcess(tmp_path / "fuzz", extra_env=ENV).start()
    assert srv.proc is not None
    pid = srv.proc.pid
    lt = LoopThread()
    tally = Tally()
    models = {False: Model(scoped=True), True: Model(scoped=False)}
    log_seen = 0
    history: collections.deque[Any] = collections.deque(maxlen=60)  # shown on a failure
    me, other = Mt(srv, scope=SCOPE), Mt(srv)

    async def setup() -> dict[bool, MtConn]:
        WORLD.user = me.user
        WORLD.own = await create_dialog(srv, [me, other], [])
        WORLD.mark = await create_dialog(srv, [me, other], [])
        WORLD.scoped = await create_dialog(srv, [other], [RULE])
        WORLD.foreign = await create_dialog(srv, [other], [{"scope_level0": ["tenant-z"]}])
        seed = await me.ok("POST", f"/dialogs/{WORLD.own}/messages", json={"content": "seed"})
        WORLD.seed = seed["data"]["id"]
        scoped = await MtConn().open(srv, f"token={me.token}&scope_config={quote(SCOPE)}")
        return {False: scoped, True: await MtConn().open(srv, f"token={me.token}")}

    conns = lt.run(setup())
    rss_start = rss_mib(pid)

    async def post(dialog: str, text: str) -> str:
        sent = await other.ok("POST", f"/dialogs/{dialog}/messages", json={"content": text})
        return str(sent["data"]["id"])

    async def run_batch(unscoped: bool, batch: list[Input]) -> None:
        conn, model = conns[unscoped], models[unscoped]
        assert conn.ws is not None
        mark = len(conn.frames)
        starts = {k: len(c.frames) for k, c in conns.items()}
        expect: list[dict[str, Any]] = []
        sent: list[str | bytes] = []
        answered: list[str | bytes] = []  # the frames `expect` answers, in order
        for item in batch:
            frame = item.render()
            size = len(frame if isinstance(frame, bytes) else frame.encode("utf-8"))
            if size > SEND_LIMIT:
                tally.skipped_oversize += 1
                continue
            if isinstance(frame, str) and len(frame) <= MAX_FRAME and not nested_ok(frame):
                tally.skipped_ambiguous += 1
                continue
            outcome = model.expected(frame)
            history.append((frame[:120], label(outcome)))
            tally.outcomes[label(outcome)] += 1
            tally.binary += isinstance(frame, bytes)
            if outcome is not None:
                expect.append(outcome)
                answered.append(frame)
            sent.append(frame)
            try:
                await conn.ws.send(frame)
            except Exception as exc:
                raise AssertionError(
                    f"connection lost ({exc!r}) after {[t[:300] for t in sent[-4:]]!r}"
                ) from None
        tally.inputs += len(sent)
        history.append(("batch end", ""))
        # The probe: a ping's pong comes after the answers of every earlier frame.
        await conn.ws.send('{"type":"ping"}')
        pongs = sum(1 for f in expect if f == PONG) + 1
        try:
            await conn.wait_for(
                lambda _: sum(1 for f in conn.frames[mark:] if f == PONG) >= pongs, mark
            )
        except (TimeoutError, AssertionError) as exc:
            print("LAST FRAMES (frame, expected)", list(history))
            raise AssertionError(
                f"no pong for the probe ({exc}); got {conn.frames[mark:][-6:]!r:.1500} "
                f"sent {[t[:200] for t in sent[-4:]]!r}"
            ) from None
        got = conn.frames[mark:]
        untyped = [f for f in got if f.get("type") not in ("pong", "error")]
        tally.untyped += len(untyped)
        assert not untyped, untyped[:3]
        assert got[-1] == PONG, got[-3:]
        if got[:-1] != expect:
            wrong = next(i for i, (g, e) in enumerate(zip(got, expect, strict=False)) if g != e)
            print("LAST FRAMES (frame, expected)", list(history))
            raise AssertionError(
                f"answer {wrong}: expected {expect[wrong : wrong + 3]!r:.600}, got "
                f"{got[wrong : wrong + 3]!r:.600} ({len(got) - 1} answers, {len(expect)} expected) "
                f"for {[t[:300] for t in answered[wrong : wrong + 3]]!r}; "
                f"all sent: {[t[:100] for t in sent]!r:.3000}"
            )
        # Events: the foreign dialog's never arrive, the scoped one's exactly when watched.
        marks = {k: len(c.frames) for k, c in conns.items()}
        foreign = await post(WORLD.foreign, "foreign " + secrets.token_hex(4))
        scoped = await post(WORLD.scoped, "scoped " + secrets.token_hex(4))
        marker = await post(WORLD.mark, "marker " + secrets.token_hex(4))
        for key, each in conns.items():
            watched = WORLD.scoped in models[key].watching
            await each.wait_for(lambda f: f.get("id") == marker, marks[key])
            if watched:
                await each.wait_for(lambda f: f.get("id") == scoped, marks[key])
                tally.watched_deliveries += 1
            events = each.frames[marks[key] :]
            # Unwatched, the scoped message (posted first) would have come before the marker.
            want = sorted([marker, *([scoped] if watched else [])])
            assert sorted(f["id"] for f in events) == want, (key, watched, events)
            assert all(f["type"] == "message.new" for f in events), events
            leaked = [
                f
                for f in each.frames[starts[key] :]
                if WORLD.foreign in (f.get("dialog_id"), f.get("id"))
            ]
            assert not leaked and foreign not in {f.get("id") for f in events}, leaked

    def check_log() -> None:
        nonlocal log_seen
        with srv.log_path.open("rb") as fh:
            fh.seek(log_seen)
            text = fh.read()
        log_seen += len(text)
        if b"Traceback" in text:
            tally.crashes += 1
            raise AssertionError(f"server logged a traceback: {text.decode()[-3000:]}")

    def fuzz(batch: tuple[bool, list[Input]]) -> None:
        tally.batches += 1
        tally.unscoped_batches += batch[0]
        try:
            lt.run(run_batch(*batch))
            check_log()
        except BaseException as exc:  # shown at once: hypothesis reports only at the end
            print(f"\nFUZZ FAILURE after {tally.inputs} inputs: {str(exc)[:4000]}", flush=True)
            raise

    async def seed_listed() -> list[str]:
        page = await me.ok("GET", f"/dialogs/{WORLD.own}/messages")
        return [m["id"] for m in page["data"]["messages"] if m["message_type"] == "user"]

    try:
        while tally.inputs < TOTAL:
            examples = max(10, min(500, (TOTAL - tally.inputs) // (BATCH // 2)))
            settings(
                max_examples=examples,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
                phases=(Phase.explicit, Phase.reuse, Phase.generate),  # no shrinking (huge frames)
            )(given(batches)(fuzz))()
        listed = lt.run(seed_listed())
        for conn in conns.values():
            lt.run(conn.close())
        rss_end = rss_mib(pid)
        log = srv.log_path.read_text()
    finally:
        lt.run(me.aclose())
        lt.run(other.aclose())
        lt.close()
        srv.stop()
    outcomes = ", ".join(f"{k}={v}" for k, v in tally.outcomes.most_common())
    figure(
        "fuzz_mtchat_frames",
        "hypothesis-generated MTChat client frames on /api/v1/ws (text, bytes, malformed JSON, "
        "typed objects, ping/subscribe/unsubscribe field by field, oversize, binary), each "
        "answer checked against a model, a ping and a foreign/scoped/own message per batch",
        f"{tally.inputs} inputs: {tally.crashes} crashes, {tally.untyped} untyped answers, "
        f"no foreign event; RSS {rss_start:.0f} -> {rss_end:.0f} MiB",
        inputs=tally.inputs,
        batches=tally.batches,
        unscoped_batches=tally.unscoped_batches,
        binary_frames=tally.binary,
        skipped_over_1mib=tally.skipped_oversize,
        skipped_ambiguous_depth=tally.skipped_ambiguous,
        crashes=tally.crashes,
        untyped_answers=tally.untyped,
        watched_deliveries=tally.watched_deliveries,
        rss_start_mib=round(rss_start, 1),
        rss_end_mib=round(rss_end, 1),
        outcomes=outcomes,
    )
    assert tally.crashes == 0 and tally.untyped == 0
    assert "Traceback" not in log
    assert listed == [WORLD.seed]  # accepted state is not lost
    assert rss_end - rss_start < 200, (rss_start, rss_end)


async def test_binary_and_deeply_nested_frames_are_errors_not_dropped_connections(
    server: ServerProcess,
) -> None:
    """Found by the fuzzer: a binary frame made Starlette's `receive_text`
    raise KeyError, and JSON nested past msgspec's depth raised
    RecursionError; either ended the connection with a traceback (1011)."""
    log_start = server.log_path.stat().st_size
    me = Mt(server)
    conn = await MtConn().open(server, f"token={me.token}")
    assert conn.ws is not None
    await conn.ws.send(b'{"type":"ping"}')
    await conn.ws.send(b"\xff\x00")
    await conn.ws.send(b"")
    await conn.ws.send('{"type":"ping","a":' + "[" * 1500 + "]" * 1500 + "}")
    await conn.ws.send('{"type":"ping"}')
    await conn.wait_for(lambda f: f == PONG, 1)
    assert conn.frames[1:] == [FORMAT, FORMAT, FORMAT, FORMAT, PONG]
    assert conn.closed is None
    await conn.close()
    await me.aclose()
    with server.log_path.open("rb") as fh:
        fh.seek(log_start)
        assert b"Traceback" not in fh.read()


async def test_subscribe_to_ids_no_dialog_can_have_is_not_found(server: ServerProcess) -> None:
    """The fuzzer's odd ids, one by one: on PostgreSQL a `dialog_id` holding
    NUL, which its text refuses, raised DataError and dropped the connection
    (1006); it is an unknown dialog like any other. (A lone surrogate is not JSON msgspec
    decodes: a malformed frame.)"""
    me = Mt(server)
    conn = await MtConn().open(server, f"token={me.token}")
    assert conn.ws is not None
    for cid in ("a\\u0000", "\\u0000", "x" * 64, "\\ud800", "x" * 65):
        await conn.ws.send('{"type":"subscribe","dialog_id":"' + cid + '"}')
    await conn.ws.send('{"type":"ping"}')
    await conn.wait_for(lambda f: f == PONG, 1)
    assert conn.frames[1:] == [NOT_FOUND, NOT_FOUND, NOT_FOUND, FORMAT, NO_DIALOG_ID, PONG]
    assert conn.closed is None
    await conn.close()
    await me.aclose()
