"""WebSocket conformance of `/ws`, Autobahn-style, with hand-built frames.

Each case opens an authenticated connection with our raw client
(`tests/reliability/rawws.py`), sends frames no real client library would
send, and checks the server's answer against RFC 6455 as the Autobahn
testsuite scores it: the close code of the server's close frame, that the
server then closes the TCP connection, and that the server stays healthy (a
fresh normal client still gets a reply). A second group checks behaviour
that must not close anything: ping/pong, unsolicited pongs, fragmented
messages reassembled (also with a UTF-8 character split across fragments,
and a ping in between).

The frames are parsed by the `websockets` Sans-I/O protocol inside uvicorn
("websockets-sansio"); invalid UTF-8 in text messages is caught by uvicorn
itself. What the stack does differently from Autobahn's strict expectations
is written down in docs/reliability-notes.md.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field

import msgspec
import pytest

from tests.reliability.conftest import Figure
from tests.reliability.rawws import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    Frame,
    RawWS,
    build_frame,
    close_payload,
)
from tests.support import Api, Client, ServerProcess

MAX_FRAME = 16 * 1024
WS_MAX = MAX_FRAME * 4 + 1024  # the WebSocket layer's limit for this --max-frame-bytes (cli.py)
NO_CODE = -1  # the server's close frame carries no code (an echo of an empty close)
UTF8_LOG = "Invalid UTF-8 sequence received from client."


def status_request(fid: str) -> bytes:
    return msgspec.json.encode(
        {"id": fid, "channel": "status/response", "type": "RequestStatus", "data": {}}
    )


@dataclass
class Case:
    name: str
    family: str  # the Autobahn section it mirrors
    frames: list[bytes]
    expect: int  # the close code the server must answer with (NO_CODE: none)
    got: int | None = None  # None: TCP closed without a close frame
    eof: bool = False
    notes: list[str] = field(default_factory=list)


f = build_frame


def close_cases() -> Iterator[Case]:
    ok = f(OP_TEXT, status_request("before"))
    for op in (3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF):
        yield Case(f"reserved opcode {op:#x}", "4.1-4.2", [f(op, b"reserved")], 1002)
    yield Case("reserved opcode after a valid frame", "4.1.3", [ok, f(5)], 1002)
    for rsv, label in ((4, "RSV1"), (2, "RSV2"), (1, "RSV3"), (7, "RSV1+2+3")):
        yield Case(f"{label} on text, no extension", "3.1-3.7", [f(OP_TEXT, b"{}", rsv=rsv)], 1002)
    yield Case("RSV1 on ping", "3.6", [f(OP_PING, b"p", rsv=4)], 1002)
    yield Case("RSV2 on close", "3.7", [f(OP_CLOSE, close_payload(1000), rsv=2)], 1002)
    yield Case("unmasked text", "RFC 5.1", [f(OP_TEXT, b"{}", mask=False)], 1002)
    yield Case("unmasked ping", "RFC 5.1", [f(OP_PING, b"p", mask=False)], 1002)
    yield Case("unmasked close", "RFC 5.1", [f(OP_CLOSE, close_payload(1000), mask=False)], 1002)
    bad_utf8 = {
        "invalid start byte": b"\xff\xfe",
        "overlong encoding": b'{"x":"\xc0\xaf"}',
        "UTF-8 encoded surrogate": b'{"x":"\xed\xa0\x80"}',
        "code point above U+10FFFF": b'{"x":"\xf4\x90\x80\x80"}',
        "truncated sequence at the end": b'{"x":"ab\xe2\x82',
    }
    for label, payload in bad_utf8.items():
        yield Case(f"invalid UTF-8: {label}", "6.3-6.8", [f(OP_TEXT, payload)], 1007)
    yield Case(
        "invalid UTF-8 in a continuation fragment",
        "6.4",
        [f(OP_TEXT, b'{"x":"ab', fin=False), f(OP_CONT, b"\xc3", fin=False), f(OP_CONT, b'("}')],
        1007,
    )
    yield Case(
        "invalid UTF-8 in the first of 3 fragments",
        "6.4",
        [f(OP_TEXT, b"\xff", fin=False), f(OP_CONT, b"ab", fin=False), f(OP_CONT, b"cd")],
        1007,
    )
    yield Case(
        "declared length above the limit (no payload sent)",
        "9.x",
        [f(OP_TEXT, b"", length=WS_MAX + 1)],
        1009,
    )
    yield Case("text frame above the limit", "9.1", [f(OP_TEXT, b"x" * (WS_MAX + 1))], 1009)
    yield Case("binary frame above the limit", "9.2", [f(OP_BINARY, b"\0" * (WS_MAX + 1))], 1009)
    half = b"x" * (WS_MAX // 2 + 1)
    yield Case(
        "fragmented message above the limit",
        "9.3-9.4",
        [f(OP_TEXT, half, fin=False), f(OP_CONT, half)],
        1009,
    )
    yield Case("ping with 126 bytes", "2.5", [f(OP_PING, b"p" * 126)], 1002)
    yield Case("pong with 126 bytes", "2.5", [f(OP_PONG, b"p" * 126)], 1002)
    yield Case(
        "close with 126 bytes", "7.3.6", [f(OP_CLOSE, close_payload(1000, b"r" * 124))], 1002
    )
    yield Case("fragmented ping", "5.1", [f(OP_PING, b"a", fin=False), f(OP_CONT, b"b")], 1002)
    yield Case("fragmented pong", "5.2", [f(OP_PONG, b"a", fin=False), f(OP_CONT, b"b")], 1002)
    yield Case(
        "fragmented close",
        "5.x",
        [f(OP_CLOSE, close_payload(1000), fin=False), f(OP_CONT, b"")],
        1002,
    )
    yield Case("continuation without start (fin)", "5.9", [f(OP_CONT, b"x")], 1002)
    yield Case("continuation without start (no fin)", "5.10", [f(OP_CONT, b"x", fin=False)], 1002)
    yield Case(
        "new text message inside a fragmented one",
        "5.18",
        [f(OP_TEXT, b'{"a":', fin=False), f(OP_TEXT, b"1}")],
        1002,
    )
    yield Case(
        "binary frame inside a fragmented text",
        "5.x",
        [f(OP_TEXT, b'{"a":', fin=False), f(OP_BINARY, b"1}")],
        1002,
    )
    yield Case("clean close 1000", "7.1.1", [f(OP_CLOSE, close_payload(1000))], 1000)
    yield Case("close without a code", "7.3.1", [f(OP_CLOSE, b"")], NO_CODE)
    yield Case(
        "close 1000 with a 123-byte reason",
        "7.3.5",
        [f(OP_CLOSE, close_payload(1000, b"r" * 123))],
        1000,
    )
    for code in (1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999):
        yield Case(f"close with valid code {code}", "7.7", [f(OP_CLOSE, close_payload(code))], code)
    for code in (0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999, 5000, 65535):
        yield Case(
            f"close with invalid code {code}", "7.9", [f(OP_CLOSE, close_payload(code))], 1002
        )
    yield Case("close with a 1-byte payload", "7.3.2", [f(OP_CLOSE, b"\x03")], 1002)
    yield Case(
        "close reason with invalid UTF-8",
        "7.5.1",
        [f(OP_CLOSE, close_payload(1000, b"bye \xce\xba\xe1\xbd\xb9\xf0\x90"))],
        1007,
    )


# -- behaviour that must not close the connection --------------------------------


async def reply_to(ws: RawWS, fid: str) -> dict[str, object]:
    reply = await ws.recv_json(lambda m: m.get("ref") == fid)
    assert reply["type"] == "StatusResponseReceived", reply
    return reply


async def ping_empty(ws: RawWS) -> None:
    await ws.send(OP_PING, b"")
    pong = await next_control(ws, OP_PONG)
    assert pong.payload == b""


async def ping_125_binary(ws: RawWS) -> None:
    payload = bytes(range(125))
    await ws.send(OP_PING, payload)
    pong = await next_control(ws, OP_PONG)
    assert pong.payload == payload


async def unsolicited_pong(ws: RawWS) -> None:
    await ws.send(OP_PONG, b"nobody asked")
    await ws.send(OP_TEXT, status_request("after-pong"))
    await reply_to(ws, "after-pong")


async def three_fragments(ws: RawWS) -> None:
    m = status_request("frag3")
    a, b = len(m) // 3, 2 * len(m) // 3
    await ws.send(OP_TEXT, m[:a], fin=False)
    await ws.send(OP_CONT, m[a:b], fin=False)
    await ws.send(OP_CONT, m[b:])
    await reply_to(ws, "frag3")


async def utf8_split_across_fragments(ws: RawWS) -> None:
    fid = "frag-\u20ac-\U0001d11e"
    m = status_request(fid)
    cut = m.index("\u20ac".encode()) + 1  # inside the 3-byte euro sign
    cut2 = m.index("\U0001d11e".encode()) + 2  # inside the 4-byte clef
    await ws.send(OP_TEXT, m[:cut], fin=False)
    await ws.send(OP_CONT, m[cut:cut2], fin=False)
    await ws.send(OP_CONT, m[cut2:])
    await reply_to(ws, fid)


async def ping_between_fragments(ws: RawWS) -> None:
    m = status_request("frag-ping")
    await ws.send(OP_TEXT, m[:10], fin=False)
    await ws.send(OP_PING, b"mid")
    await ws.send(OP_CONT, m[10:])
    pong = await next_control(ws, OP_PONG)
    assert pong.payload == b"mid"
    await reply_to(ws, "frag-ping")


async def empty_fragments(ws: RawWS) -> None:
    m = status_request("frag-empty")
    await ws.send(OP_TEXT, b"", fin=False)
    await ws.send(OP_CONT, m, fin=False)
    await ws.send(OP_CONT, b"")
    await reply_to(ws, "frag-empty")


async def next_control(ws: RawWS, opcode: int) -> Frame:
    while True:
        fr = await ws.recv()
        assert fr.opcode != OP_CLOSE, f"closed {fr.close_code} {fr.close_reason!r}"
        if fr.opcode == opcode:
            return fr


BEHAVIOUR: dict[str, tuple[str, Callable[[RawWS], Awaitable[None]]]] = {
    "ping without payload -> pong": ("2.1", ping_empty),
    "ping with 125 binary bytes -> same pong": ("2.3-2.4", ping_125_binary),
    "unsolicited pong ignored": ("2.7", unsolicited_pong),
    "text in 3 fragments reassembled": ("5.3-5.5", three_fragments),
    "UTF-8 characters split across fragments": ("6.2", utf8_split_across_fragments),
    "ping between fragments answered": ("5.6-5.8", ping_between_fragments),
    "empty fragments": ("6.1", empty_fragments),
}


# -- the test ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def conformance_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(
        tmp_path_factory.mktemp("conformance"),
        extra_env={"HUBBUB_MAX_FRAME_BYTES": str(MAX_FRAME)},
    ).start()
    yield srv
    srv.stop()


async def healthy(srv: ServerProcess, user: tuple[str, str, str], tag: str) -> None:
    c = await Client(srv, user[0], user[1], "health").connect()
    try:
        reply = await c.request("status/response", "RequestStatus", {"request_id": tag})
        assert reply["type"] == "StatusResponseReceived", (tag, reply)
    finally:
        await c.close()


async def utf8_fail_fast(srv: ServerProcess, token: str) -> bool:
    """Does the server close on invalid UTF-8 in a first fragment, before the
    message is complete (Autobahn 6.4 "strict")? A ping after the fragment
    tells: a pong means the connection is still open."""
    ws = await RawWS.connect(srv.ws_url, token)
    try:
        await ws.wait_ready()
        await ws.send(OP_TEXT, b"\xff\xfe", fin=False)
        await ws.send(OP_PING, b"probe")
        while True:
            fr = await ws.recv()
            if fr.opcode == OP_CLOSE:
                assert fr.close_code == 1007, fr.close_code
                return True
            if fr.opcode == OP_PONG and fr.payload == b"probe":
                # Not fail-fast; finishing the message still gets 1007.
                await ws.send(OP_CONT, b"x")
                close = await ws.wait_close()
                assert close is not None and close.close_code == 1007
                return False
    finally:
        await ws.abort()


async def run_close_case(srv: ServerProcess, token: str, case: Case) -> None:
    ws = await RawWS.connect(srv.ws_url, token)
    try:
        await ws.wait_ready()
        with contextlib.suppress(ConnectionError):  # the server may close mid-way
            for raw in case.frames:
                await ws.send_bytes(raw)
        try:
            close = await ws.wait_close(timeout=5)
        except TimeoutError:
            case.notes.append("no close frame within 5 s")
            return
        if close is not None:
            code = close.close_code
            case.got = NO_CODE if code is None else code
            if close.close_reason:
                case.notes.append(close.close_reason.decode(errors="replace"))
        # After its close frame the server closes the TCP connection (RFC 6455 7.1.1).
        try:
            await ws.wait_eof(timeout=5)
            case.eof = True
        except TimeoutError:
            case.notes.append("TCP left open")
    finally:
        await ws.abort()


async def test_ws_conformance(conformance_server: ServerProcess, figure: Figure) -> None:
    srv = conformance_server
    api = Api(srv)
    try:
        user = await api.register()
        cases = list(close_cases())
        for case in cases:
            await run_close_case(srv, user[1], case)
            await healthy(srv, user, case.name)
        fail_fast = await utf8_fail_fast(srv, user[1])
        await healthy(srv, user, "fail-fast probe")
        behaviour_failed: list[str] = []
        for name, (_family, check) in BEHAVIOUR.items():
            ws = await RawWS.connect(srv.ws_url, user[1])
            try:
                await ws.wait_ready()
                await check(ws)
                # Still open and served afterwards.
                await ws.send(OP_TEXT, status_request("still-open"))
                await reply_to(ws, "still-open")
            except (AssertionError, TimeoutError, ConnectionError) as exc:
                behaviour_failed.append(f"{name}: {exc!r}")
            finally:
                await ws.close()
            await healthy(srv, user, name)
    finally:
        await api.aclose()

    wrong = [
        f"{c.name} [{c.family}]: expected {c.expect}, got {c.got} {c.notes}"
        for c in cases
        if c.got != c.expect or not c.eof
    ]
    # The server's log: nothing at error level. uvicorn logs a client's invalid
    # UTF-8 as an error with a traceback; hubbub.logs demotes it to a warning.
    records = [
        json.loads(line) for line in srv.log_path.read_text().splitlines() if line.startswith("{")
    ]
    errors = [r["event"] for r in records if r.get("level") in ("error", "critical")]
    utf8_warnings = sum(
        1 for r in records if r["event"] == UTF8_LOG and r.get("level") == "warning"
    )
    # Text messages with invalid UTF-8: the 1007 cases but the close reason, and the probe.
    utf8_text_cases = sum(1 for c in cases if c.expect == 1007 and "close" not in c.name) + 1
    n_close, n_beh = len(cases), len(BEHAVIOUR)
    ok_close, ok_beh = n_close - len(wrong), n_beh - len(behaviour_failed)
    figure(
        "WebSocket conformance (Autobahn-style)",
        f"{n_close} raw-frame cases that must be answered with a given close code "
        "(reserved opcodes, RSV bits, unmasked frames, invalid UTF-8, oversized and "
        "fragmented control frames, bad fragmentation, close codes and reasons) and "
        f"{n_beh} that must not close (ping/pong, fragments); after each, a fresh "
        "client is served",
        f"{ok_close}/{n_close} answered with the expected close code and the TCP "
        f"connection closed; {ok_beh}/{n_beh} behaviour cases as expected; server "
        "healthy after every case; invalid UTF-8 in a first fragment "
        + (
            "closes at once (fail fast, Autobahn STRICT)"
            if fail_fast
            else "is detected only once the message is complete (no fail fast: Autobahn NON-STRICT)"
        )
        + "; a client's invalid UTF-8 is logged as a warning, not an error",
        close_cases=n_close,
        close_ok=ok_close,
        behaviour_cases=n_beh,
        behaviour_ok=ok_beh,
        fail_fast_utf8=int(fail_fast),
    )
    assert wrong == [], wrong
    assert behaviour_failed == [], behaviour_failed
    assert errors == [], errors
    assert utf8_warnings == utf8_text_cases
