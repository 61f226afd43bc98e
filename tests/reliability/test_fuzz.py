"""Fuzzing the `/ws` frame decoder with hypothesis: end to end, and in-process.

Generated inputs, in four families:

  (a) random bytes and text, and valid frames with bytes flipped, inserted or cut;
  (b) JSON values of any shape;
  (c) envelopes with random channels, types and data (and envelope fields of
      the wrong type or missing);
  (d) envelopes for every spec channel with a client message (`CHANNELS`),
      data built from the message Struct's fields but with wrong types,
      missing and extra fields, huge strings, unicode, deep nesting, invalid
      UTF-8, numbers beyond 64 bits. Id-like fields often hold real ids, so
      some frames succeed and create real state (bounded by small batches and
      bounded sizes).

End to end: one long-lived authenticated connection to a real server (its
rate limit lifted so the limiter does not answer in the decoder's place) gets
the inputs in batches. A frame "has an id" when a JSON reader that looks only
at `id` finds a string there (the server cannot know any other id); for each
such frame exactly one reply with that `ref` arrives, a success or an `Error`
with one of the fixed codes, never `internal`. After each batch a round trip
proves the connection still open and usable, and the server log must have
gained no traceback. At the end the server's RSS must not have grown beyond a
generous bound.

In-process: the same inputs go through the decoding steps of
`Connection.handle` (the envelope decoder, `resolve`, the channel's
`client_type` decoder, `_peek_id`), which are pure: every input ends in a
decoded Struct or in one of the exceptions `handle` turns into a typed error.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import os
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import msgspec.inspect as mi
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import ClientConnection, connect

from hubbub.protocols.channels import endpoint
from hubbub.protocols.channels.declarations import ERROR_CODES, ChannelDecl, resolve
from hubbub.protocols.channels.handlers import HANDLERS
from hubbub.protocols.channels.schema import CHANNELS
from tests.reliability.conftest import Figure, scale
from tests.reliability.loopthread import LoopThread
from tests.support import Api, ServerProcess

T = TypeVar("T")

MAX_FRAME = 256 * 1024  # the server's default --max-frame-bytes
SEND_LIMIT = 4 * MAX_FRAME  # above this the WebSocket layer closes the connection (1009)
BATCH = 40
# Inputs per test; HUBBUB_FUZZ_INPUTS picks another size (e.g. a 100k run by hand).
# Generation runs at a few hundred inputs a second, hence the timeout.
TOTAL = int(os.environ.get("HUBBUB_FUZZ_INPUTS", "0")) or scale(2_000, 1_000_000)
# In-process inputs are not cheaper to generate; fuzz_atheris.py does the millions there.
IN_PROCESS_TOTAL = int(os.environ.get("HUBBUB_FUZZ_INPUTS", "0")) or scale(2_000, 200_000)

CLIENT_DECLS: list[ChannelDecl] = [d for d in CHANNELS.values() if d.client_type is not None]
SERVED_DECLS = [d for d in CLIENT_DECLS if (d.name, d.client_message) in HANDLERS]
MESSAGE_NAMES = sorted(
    {d.client_message for d in CHANNELS.values() if d.client_message}
    | {d.server_message for d in CHANNELS.values() if d.server_message}
    | {"Authenticate", "Subscribe", "Unsubscribe", "Ack", "Error"}
)
WORDS = ["delivered", "read", "played", "server", "database", "bus", "sync", "text", "offer"]


# --- strategies ------------------------------------------------------------


class _Ours:
    """Placeholder for a fresh, unique frame id filled in when the frame is sent."""

    def __repr__(self) -> str:
        return "OURS"


OURS = _Ours()
MISSING = object()


@st.composite
def weighted(draw: st.DrawFn, *options: tuple[int, st.SearchStrategy[Any]]) -> Any:
    """Pick one strategy by weight (hypothesis shrinks towards the first)."""
    roll = draw(st.integers(0, sum(w for w, _ in options) - 1))
    for w, strategy in options:
        if roll < w:
            return draw(strategy)
        roll -= w
    raise AssertionError("unreachable")


chars = st.characters(codec="utf-8")  # no lone surrogates: a text frame must be UTF-8
small_text = st.text(chars, max_size=12)
unicode_text = st.text(st.characters(codec="utf-8", min_codepoint=0x80), max_size=40)
FRAKTUR = "\U0001d573\U0001d59a\U0001d587"  # astral-plane letters (4 UTF-8 bytes each)
edge_text = st.sampled_from(
    [
        *("", " ", "\x00", "a\x00b", "\u202e", "\ufeff", FRAKTUR, "null", "{}", "../../x"),
        *("'; DROP TABLE users; --", "%s%n", "\\", '"', "\r\n", "ZW\u200bSP", "\U0010ffff"),
    ]
)
huge_text = st.builds(
    lambda n, c: c * n,
    st.sampled_from([257, 1025, 5000, 70_000, 140_000, 300_000]),
    st.sampled_from(["x", "\x00"]),
) | st.builds(
    lambda n, c: c * n, st.sampled_from([700, 20_000]), st.sampled_from(["\u00e9", FRAKTUR[0]])
)
strings = weighted((30, small_text), (8, unicode_text), (8, edge_text), (2, huge_text))
ints = weighted(
    (6, st.integers(-1000, 1000)),
    (3, st.sampled_from([0, -1, 2**31, 2**53 + 1, 2**63 - 1, 2**63, 2**64, -(2**63) - 1])),
    (1, st.integers(-(10**40), 10**40)),
)
floats = st.floats(allow_nan=False, allow_infinity=False)
leaves = st.one_of(st.none(), st.booleans(), ints, floats, strings)
json_values = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(small_text, inner, max_size=4),
    max_leaves=12,
)
# JSON that Python values cannot express, spliced in as raw bytes.
specials = st.one_of(
    st.integers(1, 3000).map(lambda n: msgspec.Raw(b"[" * n + b"]" * n)),
    st.integers(1, 2000).map(lambda n: msgspec.Raw(b'{"a":' * n + b"1" + b"}" * n)),
    st.sampled_from(
        [b'"\xff"', b'"\xc3\x28"', b'"\xed\xa0\x80"', b'"\xf4\x90\x80\x80"', b'"\xc0\xaf"']
    ).map(msgspec.Raw),
    st.sampled_from([b'"\\ud800"', b'"\\udc00\\ud800"', b'"\\u00"', b'"\\x41"']).map(msgspec.Raw),
    st.sampled_from(
        [b"1e999", b"-1e999", b"1" * 5000, b"-0", b"1E400", b"0." + b"0" * 400 + b"1"]
    ).map(msgspec.Raw),
)
any_value = weighted((12, json_values), (1, specials))


def id_strategy(ours_weight: int = 80) -> st.SearchStrategy[Any]:
    return weighted(
        (ours_weight, st.just(OURS)),
        (5, st.just(MISSING)),
        (3, st.none()),
        (5, ints | st.lists(small_text, max_size=2) | st.booleans()),
        (7, strings),
    )


def _concrete(name: str, params: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A channel template with real values for its `{params}`."""
    parts = name.split("/")
    return st.tuples(
        *[params if p.startswith("{") else st.just(p) for p in parts],
    ).map("/".join)


@dataclass
class Known:
    """Real ids of the fuzzing user's world, so generated frames sometimes succeed."""

    ids: list[str]

    def strategies(self) -> Strategies:
        return Strategies(self)


class Strategies:
    def __init__(self, known: Known) -> None:
        self.known_ids = st.sampled_from(known.ids)
        param = weighted(
            (3, self.known_ids),
            (3, st.text(st.characters(codec="utf-8", exclude_characters="/{}"), min_size=1)),
            (1, strings),
        )
        self.param = param
        self.channel_name = weighted(
            (4, st.sampled_from(CLIENT_DECLS).flatmap(lambda d: _concrete(d.name, param))),
            (1, st.sampled_from(list(CHANNELS))),  # literal templates: `broadcast/{channel_id}`
            (2, strings),
            (1, st.lists(small_text, min_size=1, max_size=5).map("/".join)),
        )
        self._structs: dict[type[Any], st.SearchStrategy[dict[str, Any]]] = {}
        # Per channel: its concrete address and data shaped like its message.
        self._parts = {
            d.name: st.tuples(
                _concrete(d.name, param), self.struct_data(mi.type_info(d.client_type))
            )
            for d in CLIENT_DECLS
            if d.client_type is not None
        }

    def value_for(self, t: mi.Type, name: str) -> st.SearchStrategy[Any]:
        if isinstance(t, mi.Metadata):
            return self.value_for(t.type, name)
        if isinstance(t, mi.StrType):
            if name.endswith("id") or name.endswith("ids"):
                return weighted((3, self.known_ids), (2, strings))
            return weighted((1, st.sampled_from(WORDS)), (4, strings))
        if isinstance(t, mi.IntType):
            return ints
        if isinstance(t, mi.FloatType):
            return floats | ints
        if isinstance(t, mi.BoolType):
            return st.booleans()
        if isinstance(t, mi.NoneType):
            return st.none()
        if isinstance(t, mi.ListType):
            item = self.value_for(t.item_type, name)
            return weighted(
                (20, st.lists(item, max_size=6)),
                (1, st.builds(lambda v, n: [v] * n, item, st.sampled_from([100, 5001]))),
            )
        if isinstance(t, mi.DictType):
            return st.dictionaries(small_text, self.value_for(t.value_type, name), max_size=4)
        if isinstance(t, mi.UnionType):
            return st.one_of([self.value_for(x, name) for x in t.types])
        if isinstance(t, mi.StructType):
            return self.struct_data(t)
        return json_values

    def struct_data(self, info: mi.StructType) -> st.SearchStrategy[dict[str, Any]]:
        cached = self._structs.get(info.cls)
        if cached is None:
            cached = self._structs[info.cls] = self._struct_data(info)
        return cached

    def _struct_data(self, info: mi.StructType) -> st.SearchStrategy[dict[str, Any]]:
        fields = [(f.encode_name, f.required, self.value_for(f.type, f.name)) for f in info.fields]

        @st.composite
        def build(draw: st.DrawFn) -> dict[str, Any]:
            out: dict[str, Any] = {}
            # Half the time every field has a value of its type (odd values still:
            # huge, unicode, NUL, 2^64), so handlers get past validation.
            clean = draw(st.booleans())
            for name, required, good in fields:
                roll = draw(st.integers(0, 99))
                if clean:
                    if required or roll < 70:
                        out[name] = draw(good)
                    continue
                if roll < 8:
                    continue  # missing
                if roll < 16:
                    out[name] = draw(json_values)  # probably the wrong type
                elif roll < 18:
                    out[name] = draw(specials)
                else:
                    out[name] = draw(good)
            if draw(st.integers(0, 9)) == 0:
                out.update(draw(st.dictionaries(small_text, any_value, max_size=3)))
            return out

        return build()

    def real_frame(self) -> st.SearchStrategy[dict[str, Any]]:
        """(d) A frame for a real channel with data shaped like its message."""

        @st.composite
        def build(draw: st.DrawFn) -> dict[str, Any]:
            decl = draw(
                weighted((1, st.sampled_from(SERVED_DECLS)), (1, st.sampled_from(CLIENT_DECLS)))
            )
            assert decl.client_type is not None
            frame: dict[str, Any] = {}
            fid = draw(id_strategy(ours_weight=300))
            if fid is not MISSING:
                frame["id"] = fid
            channel, data = draw(self._parts[decl.name])
            frame["channel"] = channel
            frame["type"] = draw(
                weighted((20, st.just(decl.client_message)), (1, st.sampled_from(MESSAGE_NAMES)))
            )
            frame["data"] = data
            return frame

        return build()

    def envelope(self) -> st.SearchStrategy[dict[str, Any]]:
        """(c) An envelope with random channel, type and data."""

        @st.composite
        def build(draw: st.DrawFn) -> dict[str, Any]:
            frame: dict[str, Any] = {}
            fid = draw(id_strategy())
            if fid is not MISSING:
                frame["id"] = fid
            for key, good in (
                ("channel", self.channel_name),
                ("type", weighted((3, st.sampled_from(MESSAGE_NAMES)), (1, strings))),
                ("data", any_value),
            ):
                roll = draw(st.integers(0, 19))
                if roll == 0:
                    continue
                frame[key] = draw(any_value if roll == 1 else good)
            if draw(st.integers(0, 9)) == 0:
                frame.update(draw(st.dictionaries(small_text, any_value, max_size=3)))
            return frame

        return build()

    def inputs(self) -> st.SearchStrategy[Input]:
        mutation = st.tuples(
            st.sampled_from(["flip", "insert", "delete", "cut"]),
            st.floats(0, 1),
            st.integers(0, 255),
        )
        return weighted(
            (2, st.builds(Input, st.just("raw"), st.binary(max_size=300), st.just(True))),
            (2, st.builds(Input, st.just("raw"), st.text(chars, max_size=300), st.just(False))),
            (3, st.builds(Input, st.just("value"), json_values, st.booleans())),
            (6, st.builds(Input, st.just("value"), self.envelope(), st.booleans())),
            (
                12,
                st.builds(
                    Input,
                    st.just("value"),
                    self.real_frame(),
                    st.integers(0, 4).map(lambda n: n == 0),
                ),
            ),
            (
                3,
                st.builds(
                    Input,
                    st.just("value"),
                    self.real_frame(),
                    st.just(True),
                    st.lists(mutation, min_size=1, max_size=4),
                ),
            ),
        )


@dataclass
class Input:
    kind: str  # raw: `payload` is sent as is; value: JSON-encode `payload` first
    payload: Any
    binary: bool
    mutations: list[tuple[str, float, int]] = field(default_factory=list)

    def render(self, next_id: Callable[[], str]) -> str | bytes:
        if self.kind == "raw":
            assert isinstance(self.payload, str | bytes)
            return self.payload
        value = self.payload
        if isinstance(value, dict) and value.get("id") is OURS:
            value = {**value, "id": next_id()}
        data = msgspec.json.encode(value)
        for op, where, byte in self.mutations:
            i = int(where * len(data))
            if op == "flip" and data:
                i = min(i, len(data) - 1)
                data = data[:i] + bytes([data[i] ^ (byte or 1)]) + data[i + 1 :]
            elif op == "insert":
                data = data[:i] + bytes([byte]) + data[i:]
            elif op == "delete":
                data = data[:i] + data[i + 1 :]
            elif op == "cut":
                data = data[:i]
        if self.binary:
            return data
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data  # only a binary frame can carry invalid UTF-8


class _IdProbe(msgspec.Struct):
    id: Any = None


_STRING = re.compile(rb'"(?:\\.|[^"\\])*"')
_BRACKET = re.compile(rb"[][{}]")


def nesting(payload: bytes) -> int:
    """Deepest nesting of arrays and objects (outside strings)."""
    depth = deepest = 0
    for m in _BRACKET.finditer(_STRING.sub(b"", payload)):
        depth += 1 if m.group() in b"[{" else -1
        deepest = max(deepest, depth)
    return deepest


def readable_id(payload: str | bytes) -> tuple[str | None, bool]:
    """The frame's `id` as a JSON reader that looks at nothing else sees it.

    msgspec gives up on nesting at Python's recursion limit (1,000 in the
    server), counted from the caller's stack depth; so whether a frame nested
    900-1,000 deep can be read depends on the server's stack. Such a frame's
    id is reported with `ambiguous=True`: the server may or may not find it.
    (Hypothesis raises the limit while it runs, so the probe here reads deeper.)
    """
    raw = payload.encode() if isinstance(payload, str) else payload
    try:
        fid = msgspec.json.decode(raw, type=_IdProbe).id
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return None, False
    if not isinstance(fid, str):
        return None, False
    deep = raw.count(b"[") + raw.count(b"{") > 900 and nesting(raw) > 900
    return fid, deep


# --- end to end ------------------------------------------------------------


class FuzzConnection:
    """A lean `/ws` client: keeps only replies (frames with `ref`) of the current batch."""

    def __init__(self, server: ServerProcess, token: str, device: str) -> None:
        self.server, self.token, self.device = server, token, device
        self.ws: ClientConnection | None = None
        self.replies: list[dict[str, Any]] = []
        self.unref_errors: list[dict[str, Any]] = []
        self.frames_in = 0
        self.closed: tuple[int | None, str | None] | None = None
        self.changed = asyncio.Event()
        self.reader: asyncio.Task[None] | None = None

    async def open(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}", "X-Device-Id": self.device}
        # No keepalive pings: they draw from `random`, which hypothesis watches
        # while it generates in the other thread.
        self.ws = await connect(
            self.server.ws_url, additional_headers=headers, max_size=2**24, ping_interval=None
        )
        first = msgspec.json.decode(await asyncio.wait_for(self.ws.recv(), 10))
        assert first["type"] == "Authenticated", first
        self.closed = None
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for raw in self.ws:
                frame = msgspec.json.decode(raw)
                self.frames_in += 1
                if frame.get("ref") is not None:
                    self.replies.append(frame)
                    self.changed.set()
                elif frame.get("type") == "Error":
                    self.unref_errors.append(frame)
        except Exception:
            pass
        finally:
            self.closed = (self.ws.close_code, self.ws.close_reason)
            self.changed.set()

    async def round_trip(self, fid: str, timeout: float = 60) -> dict[str, Any]:
        assert self.ws is not None
        frame = {"id": fid, "channel": "status/response", "type": "RequestStatus", "data": {}}
        await self.ws.send(msgspec.json.encode(frame).decode())

        async def wait() -> dict[str, Any]:
            while True:
                for f in reversed(self.replies):
                    if f["ref"] == fid:
                        return f
                if self.closed is not None:
                    raise AssertionError(f"connection closed {self.closed}")
                self.changed.clear()
                await self.changed.wait()

        return await asyncio.wait_for(wait(), timeout)

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        if self.reader is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.reader, 5)


@dataclass
class Tally:
    inputs: int = 0
    with_id: int = 0
    skipped_oversize: int = 0
    batches: int = 0
    crashes: int = 0  # `internal` errors, dropped connections, logged tracebacks
    untyped: int = 0  # errors with an unknown code, or validation_failed without a path
    codes: collections.Counter[str] = field(default_factory=collections.Counter)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def judge(frame: dict[str, Any]) -> str:
    """The outcome of one reply: `ok`, an error code, or `untyped`."""
    if frame.get("type") != "Error":
        assert isinstance(frame.get("channel"), str) and "data" in frame, frame
        return "ok"
    data = frame.get("data") or {}
    code = data.get("code")
    if code not in ERROR_CODES or not isinstance(data.get("message"), str):
        return "untyped"
    if code == "validation_failed" and not str(data.get("path", "")).startswith("$."):
        return "untyped"  # validation_failed always names the field
    return str(code)


# A failing batch holds up to 40 frames of up to 1 MiB: hypothesis's repr of it
# (for its report) can run to gigabytes and warns; our assertion already names
# the offending frames, so the warning must not replace it.
@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")
@pytest.mark.timeout(max(300, TOTAL // 100))
def test_ws_frame_fuzz_end_to_end(tmp_path: Path, figure: Figure) -> None:
    total = TOTAL
    env = {"HUBBUB_RATE_PER_SECOND": "1000000000", "HUBBUB_RATE_BURST": "1000000000"}
    srv = ServerProcess(tmp_path / "fuzz", extra_env=env).start()
    assert srv.proc is not None
    pid = srv.proc.pid
    lt = LoopThread()
    tally = Tally()
    ids = (f"f{n}" for n in itertools.count())
    log_seen = 0

    async def setup() -> tuple[FuzzConnection, Known]:
        api = Api(srv)
        me, other = await api.user(2)
        direct = await api.direct(me[1], other[0])
        oc = await api.client(other, "other")
        sent = await oc.ok(
            "chat/messages/ack",
            "SendChatMessageWithClientId",
            {"conversation_id": direct, "content": "hi", "client_message_id": "m1"},
        )
        group = await oc.ok(
            "chat/groups",
            "CreateGroup",
            {"name": "fuzz", "member_ids": [me[0]], "client_request_id": "g1"},
        )
        await oc.close()
        await api.aclose()
        conn = FuzzConnection(srv, me[1], "fuzzer")
        await conn.open()
        known = [me[0], other[0], direct, group["data"]["group_id"], sent["data"]["message_id"]]
        return conn, Known([*known, "m1", "g1", str(uuid.uuid4()), "fuzzer"])

    conn, known = lt.run(setup())
    strategies = known.strategies()
    rss_start = rss_mib(pid)

    async def run_batch(batch: list[Input]) -> None:
        nonlocal conn
        if conn.closed is not None:  # a previous example failed by dropping it
            conn = FuzzConnection(srv, conn.token, conn.device)
            await conn.open()
        assert conn.ws is not None
        expected: collections.Counter[str] = collections.Counter()
        maybe: collections.Counter[str] = collections.Counter()  # may get a reply, or not
        sent: dict[str, str | bytes] = {}
        conn.replies.clear()
        conn.unref_errors.clear()
        for item in batch:
            payload = item.render(lambda: next(ids))
            size = len(payload.encode("utf-8") if isinstance(payload, str) else payload)
            if size > SEND_LIMIT:
                tally.skipped_oversize += 1
                continue
            fid, ambiguous = readable_id(payload)
            if fid is not None:
                (maybe if ambiguous else expected)[fid] += 1
                sent[fid] = payload
            tally.inputs += 1
            await conn.ws.send(payload)
        probe = next(ids)
        try:
            answer = await conn.round_trip(probe)
        except AssertionError:
            tally.crashes += 1
            raise
        assert answer["type"] == "StatusResponseReceived", answer
        replies = [f for f in conn.replies if f["ref"] != probe]
        got = collections.Counter(f["ref"] for f in replies)
        tally.with_id += sum(expected.values())
        judged = [(judge(f), f) for f in replies]
        judged_unref = [(judge(f), f) for f in conn.unref_errors]
        tally.codes.update(o for o, _ in judged)
        tally.codes.update(f"{o} (no ref)" for o, _ in judged_unref)
        wrong = [k for k in got | expected if not expected[k] <= got[k] <= expected[k] + maybe[k]]
        if wrong:
            shown = {k: (got[k], expected[k], repr(sent.get(k, ""))[:300]) for k in wrong}
            unref = [f["data"] for f in conn.unref_errors][:5]
            raise AssertionError(f"replies by ref (got, expected, frame): {shown}; {unref}")
        crashes = [f for o, f in judged + judged_unref if o == "internal"]
        untyped = [f for o, f in judged + judged_unref if o == "untyped"]
        tally.crashes += len(crashes)
        tally.untyped += len(untyped)
        assert not crashes and not untyped, (crashes + untyped)[:3]
        # The rate limit is lifted: a rate_limited answer would hide the decoder's.
        assert not tally.codes["rate_limited"], "rate limiter answered"

    def check_log() -> None:
        nonlocal log_seen
        with srv.log_path.open("rb") as fh:
            fh.seek(log_seen)
            text = fh.read()
        log_seen += len(text)
        if b"Traceback" in text:
            tally.crashes += 1
            raise AssertionError(f"server logged a traceback: {text.decode()[-3000:]}")

    def fuzz(batch: list[Input]) -> None:
        tally.batches += 1
        try:
            lt.run(run_batch(batch))
            check_log()
        except BaseException as exc:  # shown at once: hypothesis reports only at the end
            print(f"\nFUZZ FAILURE after {tally.inputs} inputs: {str(exc)[:4000]}", flush=True)
            raise

    batches = st.lists(strategies.inputs(), min_size=BATCH // 5, max_size=BATCH)
    try:
        while tally.inputs < total:  # rounds of up to 500 examples (~12k inputs)
            examples = max(10, min(500, (total - tally.inputs) // (BATCH // 2)))
            run = settings(
                max_examples=examples,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
                # No shrinking: batches of huge frames shrink for many minutes,
                # and the failure message already names the frames at fault.
                phases=(Phase.explicit, Phase.reuse, Phase.generate),
            )(given(batches)(fuzz))
            run()
        rss_end = rss_mib(pid)
        log = srv.log_path.read_text()
        lt.run(conn.close())
    finally:
        lt.close()
        srv.stop()
    codes = ", ".join(f"{k}={v}" for k, v in tally.codes.most_common())
    figure(
        "fuzz_ws_frames",
        "hypothesis-generated /ws frames (bytes, JSON, envelopes, per-channel data) "
        "on one connection, a round trip after each batch",
        f"{tally.inputs} inputs: {tally.crashes} crashes, {tally.untyped} untyped errors; "
        f"RSS {rss_start:.0f} -> {rss_end:.0f} MiB",
        inputs=tally.inputs,
        inputs_with_id=tally.with_id,
        skipped_over_1mib=tally.skipped_oversize,
        batches=tally.batches,
        crashes=tally.crashes,
        untyped_errors=tally.untyped,
        rss_start_mib=round(rss_start, 1),
        rss_end_mib=round(rss_end, 1),
        replies=codes,
    )
    assert tally.crashes == 0 and tally.untyped == 0
    assert "Traceback" not in log
    assert rss_end - rss_start < 200, (rss_start, rss_end)


# --- in-process ---------------------------------------------------------------


def decode_like_handle(raw: str | bytes) -> str:
    """The pure decoding steps of `Connection.handle` / `dispatch`; returns the outcome.

    Any exception other than those `handle` catches propagates and fails the test.
    """
    peeked = endpoint._peek_id(raw)  # must never raise
    try:
        frame = endpoint._frame_decoder.decode(raw)
    except endpoint._UNDECODABLE:
        return "bad_frame"
    assert peeked == frame.id, (peeked, frame.id)
    if frame.type in ("Authenticate", "Subscribe", "Unsubscribe"):
        return frame.type
    found = resolve(frame.channel)
    if found is None:
        return "unknown_channel"
    decl, params = found
    assert all(v and "/" not in v for v in params.values()), params
    assert set(params) == set(decl.parameters)
    if decl.client_message != frame.type or decl.client_type is None:
        return "bad_frame"
    try:
        msg = endpoint._decoder(decl.client_type).decode(frame.data)
    except msgspec.ValidationError as exc:
        failed = endpoint.validation_error(exc)
        assert failed.code == "validation_failed"
        assert failed.path is not None and failed.path.startswith("$.data"), failed.path
        return "validation_failed"
    except endpoint._UNDECODABLE:
        return "bad_frame"
    assert isinstance(msg, decl.client_type)
    again = msgspec.json.decode(msgspec.json.encode(msg), type=decl.client_type)
    assert again == msg
    if b"\\u0000" in bytes(frame.data):
        nul = endpoint._nul_path(msg)  # iterative: must not raise on deep data
        if nul is not None:
            assert nul.startswith("$.data"), nul
            return "validation_failed"
    return "decoded"


@pytest.mark.timeout(max(300, IN_PROCESS_TOTAL // 100))
def test_frame_decoding_fuzz_in_process(figure: Figure) -> None:
    known = Known([str(uuid.uuid4()) for _ in range(4)] + ["m1", "g1"])
    strategies = known.strategies()
    counter = itertools.count()
    outcomes: collections.Counter[str] = collections.Counter()
    failures = 0

    examples = min(5_000, IN_PROCESS_TOTAL)  # per round; rounds until the total is reached

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(strategies.inputs())
    def fuzz(item: Input) -> None:
        nonlocal failures
        raw = item.render(lambda: f"i{next(counter)}")
        try:
            outcomes[decode_like_handle(raw)] += 1
        except BaseException:
            failures += 1
            raise

    while sum(outcomes.values()) < IN_PROCESS_TOTAL:
        fuzz()
    n = sum(outcomes.values())
    figure(
        "fuzz_decoder_in_process",
        "hypothesis-generated frames through the pure decoding steps of Connection.handle",
        f"{n} inputs: {failures} unexpected exceptions or broken assertions",
        inputs=n,
        unexpected_exceptions=failures,
        outcomes=", ".join(f"{k}={v}" for k, v in outcomes.most_common()),
    )
    assert failures == 0
    assert outcomes["decoded"] > 0 and outcomes["validation_failed"] > 0
