"""Fuzzing the public room's frames (spec 001) end to end, with hypothesis.

The room has no request ids, so the property is counted instead: every
frame a client sends has exactly one outcome, an `error` with one of the
room's codes (`frames.ERROR_CODES`, never `internal`, `validation_failed`
always with a `path`), or what the frame asked for (`userData` for an
accepted `init`, a `message` for an accepted `text` or `file`). Inputs, in
batches on one connection to a private server (its rate limit lifted so the
limiter does not answer in the decoder's place), some batches on a fresh
connection so they run before `init`:

  (a) random bytes (binary frames, often invalid UTF-8) and text, and valid
      frames with bytes flipped, inserted or cut;
  (b) JSON values of any shape (tests/reliability/test_fuzz.py's strategies);
  (c) objects with a random or real `type` (the server's own types too) and
      fields of any type;
  (d) `init`, `text` and `file` frames built field by field, each field
      valid or not (lengths at the limits, patterns, wrong types, bad base64,
      a declared size that lies, MIME types off the allowlist, oversize
      frames), as text or as binary frames.

After each batch two probes (an unknown `type` naming the batch, and once
initialised a text) prove the connection open and usable and mark the end
of the batch's outcomes; the server log must have gained no traceback. Every
`message` received is one the client sent, and at the end a new client's
`history` ends with the last messages the fuzzing client was sent: accepted
data is not lost. `HUBBUB_RELIABILITY_LONG=1` runs 100,000 inputs instead of
600.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import itertools
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import ClientConnection, connect

from hubbub.protocols.simplechat.frames import CLIENT_FRAMES, ERROR_CODES, SERVER_FRAMES
from tests.reliability.conftest import Figure, scale
from tests.reliability.loopthread import LoopThread
from tests.reliability.test_fuzz import (
    chars,
    edge_text,
    huge_text,
    ints,
    json_values,
    rss_mib,
    small_text,
    specials,
    strings,
    unicode_text,
    weighted,
)
from tests.support import ServerProcess

TOTAL = int(os.environ.get("HUBBUB_FUZZ_INPUTS", "0")) or scale(600, 100_000)
BATCH = 30
SEND_LIMIT = 4 * 256 * 1024  # above this the WebSocket layer closes the connection (1009)
HISTORY = 50  # the server's --simplechat-history (default)
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
TYPES = sorted({*CLIENT_FRAMES, *SERVER_FRAMES, "Init", "TEXT", "", "file ", "ping"})
MISSING = object()

any_value = weighted((12, json_values), (1, specials))
handles = weighted(
    (6, st.text("abcdefXYZ0189-", min_size=1, max_size=24).map(lambda s: s + secrets.token_hex(3))),
    (2, st.sampled_from(["a b", "é", "x" * 65, "", "-", "a/b", "a\x00"])),
    (2, strings),
    (1, ints | st.booleans() | st.none()),
)
usernames = weighted(
    (
        6,
        st.text(
            st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"]), min_size=3, max_size=14
        ),
    ),
    (2, st.sampled_from(["ab", "x" * 21, "   ", "a\tb\nc", "\x00\x00\x00", "ok" + "\u0301" * 30])),
    (2, strings),
    (1, ints | st.booleans() | st.none()),
)
texts = weighted(
    (8, st.text(chars, min_size=1, max_size=80)),
    (2, st.sampled_from(["", "x" * 1000, "x" * 1001, "\U0001d573" * 1000, "a\x00", " "])),
    (2, edge_text | unicode_text),
    (1, huge_text | st.just("y" * 800_000)),  # past the room's frame limit: too_large
    (1, ints | st.booleans() | st.none() | st.lists(small_text, max_size=2)),
)
b64 = base64.b64encode(PNG).decode()
file_bodies = st.fixed_dictionaries(
    {},
    optional={
        "name": weighted((5, st.just("dot.png")), (2, strings), (1, ints)),
        "type": weighted(
            (5, st.just("image/png")),
            (2, st.sampled_from(["text/html", "application/x-sh", "IMAGE/PNG", "image/png "])),
            (1, strings | ints),
        ),
        "size": weighted((5, st.just(len(PNG))), (3, ints), (1, strings | st.none() | st.floats())),
        "data": weighted(
            (5, st.just(b64)),
            (2, st.sampled_from(["", "!!!!", b64[:-2], b64 + "=", "A" * 750_000])),
            (1, strings | ints),
        ),
    },
)


@st.composite
def shaped(draw: st.DrawFn) -> dict[str, Any]:
    """An `init`, `text` or `file` frame, every field valid or not, some missing."""
    kind = draw(st.sampled_from(["init", "init", "text", "text", "text", "file"]))
    frame: dict[str, Any] = {"type": kind}
    fields: dict[str, st.SearchStrategy[Any]] = {
        "init": {"username": usernames, "id": handles},
        "text": {"text": texts},
        "file": {"file": weighted((6, file_bodies), (1, any_value))},
    }[kind]
    for name, strategy in fields.items():
        value = draw(weighted((12, strategy), (1, st.just(MISSING))))
        if value is not MISSING:
            frame[name] = value
    extra = draw(
        st.dictionaries(
            st.sampled_from(["traceparent", "token", "zz", "type2"]), any_value, max_size=2
        )
    )
    return {**extra, **frame}


valid = weighted(
    (
        2,
        st.builds(
            lambda n: {"type": "init", "username": "fz" + n, "id": "fz-" + n},
            st.text("abcdef0123456789", min_size=8, max_size=8),
        ),
    ),
    (
        6,
        st.builds(
            lambda t: {"type": "text", "text": t},
            st.text(
                st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=200
            ),
        ),
    ),
    (
        1,
        st.just(
            {
                "type": "file",
                "file": {"name": "dot.png", "type": "image/png", "size": len(PNG), "data": b64},
            }
        ),
    ),
)


@st.composite
def loose(draw: st.DrawFn) -> dict[str, Any]:
    """An object with a random or real `type` and fields of any type."""
    frame = draw(
        st.dictionaries(
            st.sampled_from(["username", "id", "text", "file", "data"]), any_value, max_size=3
        )
    )
    frame["type"] = draw(weighted((4, st.sampled_from(TYPES)), (1, any_value)))
    return frame


@dataclass
class Input:
    kind: str  # raw: `payload` is sent as is; value: JSON-encoded first
    payload: Any
    binary: bool
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
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data  # only a binary frame can carry invalid UTF-8


mutation = st.tuples(
    st.sampled_from(["flip", "insert", "cut"]), st.floats(0, 1), st.integers(0, 255)
)
inputs = weighted(
    (2, st.builds(Input, st.just("raw"), st.binary(max_size=200), st.just(True))),
    (2, st.builds(Input, st.just("raw"), st.text(chars, max_size=200), st.just(False))),
    (3, st.builds(Input, st.just("value"), any_value, st.booleans())),
    (4, st.builds(Input, st.just("value"), loose(), st.booleans())),
    (14, st.builds(Input, st.just("value"), shaped(), st.integers(0, 4).map(lambda n: n == 0))),
    (6, st.builds(Input, st.just("value"), valid, st.integers(0, 4).map(lambda n: n == 0))),
    (
        3,
        st.builds(
            Input,
            st.just("value"),
            shaped(),
            st.booleans(),
            st.lists(mutation, min_size=1, max_size=3),
        ),
    ),
)
batches = st.tuples(
    st.integers(0, 5).map(lambda n: n == 0), st.lists(inputs, min_size=5, max_size=BATCH)
)


class RoomConn:
    """A lean room client that keeps every frame it receives."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.ws: ClientConnection | None = None
        self.frames: list[dict[str, Any]] = []
        self.closed: tuple[int | None, str | None] | None = None
        self.changed = asyncio.Event()
        self.reader: asyncio.Task[None] | None = None

    @property
    def initialised(self) -> bool:
        return any(f.get("type") == "userData" for f in self.frames)

    async def open(self) -> RoomConn:
        url = self.server.base_url.replace("http://", "ws://") + "/"
        # No keepalive pings: they draw from `random`, which hypothesis watches.
        self.ws = await connect(url, max_size=2**24, ping_interval=None)
        self.reader = asyncio.create_task(self._read())
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

    async def wait_for(self, pred: Any, after: int, timeout: float = 60) -> dict[str, Any]:
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
    fresh_connections: int = 0
    skipped_oversize: int = 0
    accepted: int = 0  # messages and inits
    crashes: int = 0
    untyped: int = 0
    codes: collections.Counter[str] = field(default_factory=collections.Counter)
    message_ids: list[str] = field(default_factory=list)


def judge(frame: dict[str, Any]) -> str:
    code = frame.get("code")
    if (
        not isinstance(code, str)
        or code not in ERROR_CODES
        or not isinstance(frame.get("message"), str)
    ):
        return "untyped"
    if code == "validation_failed" and not str(frame.get("path", "")).startswith("$"):
        return "untyped"
    return code


@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")
@pytest.mark.timeout(max(300, TOTAL // 20))
def test_room_frame_fuzz_end_to_end(tmp_path: Path, figure: Figure) -> None:
    env = {"HUBBUB_RATE_PER_SECOND": "1000000000", "HUBBUB_RATE_BURST": "1000000000"}
    srv = ServerProcess(tmp_path / "fuzz", extra_env=env).start()
    assert srv.proc is not None
    pid = srv.proc.pid
    lt = LoopThread()
    tally = Tally()
    probes = (f"zz-probe-{secrets.token_hex(4)}-{n}" for n in itertools.count())
    log_seen = 0
    conn = lt.run(RoomConn(srv).open())
    rss_start = rss_mib(pid)

    async def run_batch(fresh: bool, batch: list[Input]) -> None:
        nonlocal conn
        if fresh or conn.closed is not None:
            await conn.close()
            conn = await RoomConn(srv).open()
            tally.fresh_connections += 1
        assert conn.ws is not None
        mark = len(conn.frames)
        sent_texts: set[str] = set()
        sent = 0
        for item in batch:
            payload = item.render()
            size = len(payload.encode("utf-8") if isinstance(payload, str) else payload)
            if size > SEND_LIMIT:
                tally.skipped_oversize += 1
                continue
            if isinstance(item.payload, dict) and isinstance(item.payload.get("text"), str):
                sent_texts.add(item.payload["text"])
            # A mutation can leave valid JSON with another text (a flipped byte
            # inside the string): what was sent is what the frame says.
            try:
                sent_json = msgspec.json.decode(payload)
            except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
                sent_json = None  # nested past msgspec's depth: the server refuses it too
            if isinstance(sent_json, dict) and isinstance(sent_json.get("text"), str):
                sent_texts.add(sent_json["text"])
            sent += 1
            await conn.ws.send(payload)
        # Probe 1: any connection answers an unknown type, naming it.
        probe = next(probes)
        await conn.ws.send(msgspec.json.encode({"type": probe}).decode())
        errors_at = await conn.wait_for(
            lambda f: f.get("type") == "error" and probe in f.get("message", ""), mark
        )
        # Probe 2: once initialised, a text comes back after every earlier message.
        if conn.initialised:
            await conn.ws.send(msgspec.json.encode({"type": "text", "text": probe}).decode())
            await conn.wait_for(
                lambda f: f.get("type") == "message" and f.get("content") == probe, mark
            )
        frames = [
            f for f in conn.frames[mark:] if probe not in (f.get("message"), f.get("content"))
        ]
        frames = [f for f in frames if f is not errors_at and f.get("content") != probe]
        errors = [f for f in frames if f.get("type") == "error"]
        messages = [f for f in frames if f.get("type") == "message"]
        inits = [f for f in frames if f.get("type") == "userData"]
        outcomes = len(errors) + len(messages) + len(inits)
        judged = [judge(f) for f in errors]
        tally.codes.update(judged)
        tally.inputs += sent
        tally.accepted += len(messages) + len(inits)
        tally.crashes += judged.count("internal")
        tally.untyped += judged.count("untyped")
        assert "internal" not in judged and "untyped" not in judged, errors[:3]
        assert outcomes == sent, (outcomes, sent, [f.get("type") for f in frames][:40])
        strange = [m for m in messages if "file" not in m and m.get("content") not in sent_texts]
        assert not strange, strange[:3]  # a message is exactly what was sent
        ids = [f["id"] for f in conn.frames[mark:] if f.get("type") == "message"]
        tally.message_ids.extend(ids)
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

    def fuzz(batch: tuple[bool, list[Input]]) -> None:
        tally.batches += 1
        try:
            lt.run(run_batch(*batch))
            check_log()
        except BaseException as exc:  # shown at once: hypothesis reports only at the end
            print(f"\nFUZZ FAILURE after {tally.inputs} inputs: {str(exc)[:4000]}", flush=True)
            raise

    async def history() -> list[str]:
        reader = await RoomConn(srv).open()
        assert reader.ws is not None
        join = {"type": "init", "username": "reader", "id": "reader-" + secrets.token_hex(4)}
        await reader.ws.send(msgspec.json.encode(join).decode())
        found = await reader.wait_for(lambda f: f.get("type") == "history", 0)
        await reader.close()
        return [m["id"] for m in found["messages"]]

    try:
        while tally.inputs < TOTAL:
            examples = max(10, min(500, (TOTAL - tally.inputs) // (BATCH // 2)))
            run = settings(
                max_examples=examples,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
                phases=(Phase.explicit, Phase.reuse, Phase.generate),  # no shrinking (huge frames)
            )(given(batches)(fuzz))
            run()
        lt.run(conn.close())
        kept = lt.run(history())
        rss_end = rss_mib(pid)
        log = srv.log_path.read_text()
    finally:
        lt.close()
        srv.stop()
    codes = ", ".join(f"{k}={v}" for k, v in tally.codes.most_common())
    figure(
        "fuzz_room_frames",
        "hypothesis-generated spec-001 room frames (bytes, JSON, typed objects, init/text/file "
        "field by field, binary frames, before and after init), probes after each batch",
        f"{tally.inputs} inputs, {tally.accepted} accepted: {tally.crashes} crashes, "
        f"{tally.untyped} untyped errors; RSS {rss_start:.0f} -> {rss_end:.0f} MiB",
        inputs=tally.inputs,
        accepted=tally.accepted,
        batches=tally.batches,
        fresh_connections=tally.fresh_connections,
        skipped_over_1mib=tally.skipped_oversize,
        crashes=tally.crashes,
        untyped_errors=tally.untyped,
        rss_start_mib=round(rss_start, 1),
        rss_end_mib=round(rss_end, 1),
        replies=codes,
    )
    assert tally.crashes == 0 and tally.untyped == 0
    assert "Traceback" not in log
    # Accepted data is not lost: the room's history ends with the last messages.
    tail = tally.message_ids[-HISTORY:]
    assert tail and kept[-len(tail) :] == tail
    assert rss_end - rss_start < 200, (rss_start, rss_end)
