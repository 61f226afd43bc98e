"""The `/ws` envelope over real sockets: authentication, typed errors, one reply
per request, origin checks, rate limits, slow consumers and token revocation.

Most tests share the session server. Settings that would disturb other tests
get their own server process, one per group of settings:

- `tight_server`: 1 s authentication timeout, 4 KiB frames, an Origin allowlist;
- `rate_server`: 5 frames/s with a burst of 5;
- `slow_server`: a send queue of 32 frames.
"""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import msgspec
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Origin

from tests.support import Api, Client, ServerProcess

User = tuple[str, str, str]


# -- helpers ------------------------------------------------------------------


def frame(fid: str | None, channel: str, type_: str, data: Any = None) -> str:
    out: dict[str, Any] = {"channel": channel, "type": type_}
    if fid is not None:
        out["id"] = fid
    if data is not None:
        out["data"] = data
    return msgspec.json.encode(out).decode()


def text(cid: str, content: str = "hello") -> dict[str, Any]:
    return {
        "client_message_id": "c-" + secrets.token_hex(6),
        "conversation_id": cid,
        "content": content,
    }


async def marker(c: Client) -> dict[str, Any]:
    """A successful round trip: proves the connection is open and still served."""
    reply = await c.request("sync/request", "SyncRequest", {"request_id": "marker"})
    assert reply["type"] == "SyncResponse", reply
    assert reply["data"]["request_id"] == "marker"
    return reply


async def exchange(c: Client, *raws: str | bytes) -> list[dict[str, Any]]:
    """Send `raws`, then a marker; return every frame that arrived before its reply.

    Frames of one connection are answered in order, so once the marker's reply
    is in, every reply to `raws` is too.
    """
    start = len(c.frames)
    for raw in raws:
        await c.send_raw(raw)
    reply = await marker(c)
    end = next(i for i, f in enumerate(c.frames) if f is reply)
    return c.frames[start:end]


def errors(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in frames if f.get("type") == "Error"]


async def metric(api: Api, name: str) -> float:
    r = await api.http.get("/metrics")
    assert r.status_code == 200
    for line in r.text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"metric {name} not exposed")


def raw_client(server: ServerProcess, user: User, device: str = "") -> Client:
    uid, token, _ = user
    return Client(server, uid, token, device or "dev-" + secrets.token_hex(3))


async def ws_connect(
    server: ServerProcess, token: str | None = None, origin: str | None = None, **kw: Any
) -> ClientConnection:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await connect(
        server.ws_url,
        additional_headers=headers,
        origin=Origin(origin) if origin else None,
        max_size=2**24,
        **kw,
    )


async def first_frame(ws: ClientConnection) -> dict[str, Any]:
    raw = await asyncio.wait_for(ws.recv(), 10)
    out: dict[str, Any] = msgspec.json.decode(raw)
    return out


def _start(factory: pytest.TempPathFactory, name: str, env: dict[str, str]) -> ServerProcess:
    return ServerProcess(factory.mktemp(name), extra_env=env).start()


@pytest.fixture(scope="module")
def tight_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = _start(
        tmp_path_factory,
        "tight",
        {
            "HUBBUB_AUTH_TIMEOUT_S": "1",
            "HUBBUB_MAX_FRAME_BYTES": "4096",
            "HUBBUB_ALLOWED_ORIGINS": "http://app.example",
        },
    )
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def rate_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = _start(
        tmp_path_factory, "rate", {"HUBBUB_RATE_PER_SECOND": "5", "HUBBUB_RATE_BURST": "5"}
    )
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = _start(
        tmp_path_factory,
        "slow",
        {
            "HUBBUB_SEND_QUEUE_LIMIT": "32",
            "HUBBUB_RATE_PER_SECOND": "100000",
            "HUBBUB_RATE_BURST": "100000",
        },
    )
    yield proc
    proc.stop()


@pytest.fixture
async def tight_api(tight_server: ServerProcess) -> AsyncIterator[Api]:
    a = Api(tight_server)
    yield a
    await a.aclose()


@pytest.fixture
async def rate_api(rate_server: ServerProcess) -> AsyncIterator[Api]:
    a = Api(rate_server)
    yield a
    await a.aclose()


@pytest.fixture
async def slow_api(slow_server: ServerProcess) -> AsyncIterator[Api]:
    a = Api(slow_server)
    yield a
    await a.aclose()


# -- authentication -----------------------------------------------------------


async def test_bearer_header_authenticates(api: Api) -> None:
    user = await api.register()
    c = await api.client(user, "laptop-1")
    try:
        auth = c.frames[0]
        assert auth["type"] == "Authenticated"
        assert "ref" not in auth
        assert auth["data"]["user_id"] == user[0]
        assert auth["data"]["device_id"] == "laptop-1"
        assert isinstance(auth["data"]["head_seq"], int)
        await marker(c)
    finally:
        await c.close()


async def test_x_device_id_header_sets_the_device(api: Api) -> None:
    # The token was issued for another device (registration picks a random one).
    r = await api.http.post(
        "/v1/auth/register",
        json={"username": "u" + secrets.token_hex(6), "password": "correct horse battery"},
        headers={"X-Device-Id": "registered-on"},
    )
    assert r.status_code == 201
    uid, token = r.json()["user_id"], r.json()["token"]
    c = await Client(api.server, uid, token, "phone-7").connect()
    try:
        assert c.frames[0]["data"]["device_id"] == "phone-7"
    finally:
        await c.close()
    # Without the header the token's own device is used.
    ws = await ws_connect(api.server, token)
    try:
        auth = await first_frame(ws)
        assert auth["type"] == "Authenticated"
        assert auth["data"]["device_id"] == "registered-on"
    finally:
        await ws.close()


async def test_invalid_device_id_header_is_refused(api: Api) -> None:
    # Device ids are stored (sync cursors, 128 characters); REST refuses such
    # ids at login, and /ws must too.
    user = await api.register()
    c = Client(api.server, user[0], user[1], "d" * 200)
    await c.connect(wait_ready=False)
    err = await c.wait_for(lambda f: f.get("type") == "Error")
    assert err["data"]["code"] == "validation_failed"
    assert err["data"]["path"] == "$.headers.x-device-id"
    code, _reason = await c.wait_closed()
    assert code == 1008
    assert not any(f.get("type") == "Authenticated" for f in c.frames)


async def test_invalid_device_id_in_authenticate_is_refused_and_can_be_retried(
    api: Api,
) -> None:
    user = await api.register()
    c = raw_client(api.server, user, "header-device")
    await c.connect(header_auth=False)
    try:
        await c.send_raw(frame("a1", "", "Authenticate", {"token": user[1], "device_id": "x y"}))
        err = await c.wait_for(lambda f: f.get("ref") == "a1")
        assert err["type"] == "Error"
        assert err["data"]["code"] == "validation_failed"
        assert err["data"]["path"] == "$.data.device_id"
        # Without a device id in the frame, the X-Device-Id header applies.
        await c.send_raw(frame("a2", "", "Authenticate", {"token": user[1]}))
        auth = await c.wait_for(lambda f: f.get("ref") == "a2")
        assert auth["type"] == "Authenticated"
        assert auth["data"]["device_id"] == "header-device"
    finally:
        await c.close()


async def test_authenticate_frame_authenticates_and_replies_with_ref(api: Api) -> None:
    user = await api.register()
    c = raw_client(api.server, user)
    await c.connect(header_auth=False)
    try:
        await c.send_raw(frame("a", "", "Authenticate", {"token": user[1], "device_id": "d1"}))
        auth = await c.wait_for(lambda f: f.get("ref") == "a")
        assert auth["type"] == "Authenticated"
        assert auth["data"]["user_id"] == user[0]
        assert auth["data"]["device_id"] == "d1"
        await marker(c)
    finally:
        await c.close()


async def test_bad_bearer_header_gets_unauthorized_and_4401(api: Api) -> None:
    user = await api.register()
    c = Client(api.server, user[0], "not-a-token-" + secrets.token_hex(8), "dev")
    await c.connect(wait_ready=False)
    err = await c.wait_for(lambda f: f.get("type") == "Error")
    assert err["data"]["code"] == "unauthorized"
    code, _reason = await c.wait_closed()
    assert code == 4401
    assert not any(f.get("type") == "Authenticated" for f in c.frames)


async def test_bad_token_in_authenticate_frame_gets_unauthorized_with_ref_and_4401(
    api: Api,
) -> None:
    user = await api.register()
    c = raw_client(api.server, user)
    await c.connect(header_auth=False)
    await c.send_raw(frame("b", "", "Authenticate", {"token": user[1] + "x"}))
    err = await c.wait_for(lambda f: f.get("ref") == "b")
    assert err["type"] == "Error"
    assert err["data"]["code"] == "unauthorized"
    code, _reason = await c.wait_closed()
    assert code == 4401


async def test_frames_before_authentication_are_refused_and_connection_stays_open(
    api: Api,
) -> None:
    a, b = await api.user(2)
    cid = await api.direct(a[1], b[0])
    cb = await api.client(b)
    ca = raw_client(api.server, a)
    await ca.connect(header_auth=False)
    try:
        await ca.send_raw(
            frame("p1", "chat/messages/ack", "SendChatMessageWithClientId", text(cid))
        )
        await ca.send_raw(frame("p2", "sync/request", "SyncRequest", {}))
        await ca.send_raw("{not json")
        await ca.send_raw(frame("p3", "", "Authenticate", {}))
        for fid in ("p1", "p2"):
            err = await ca.wait_for(lambda f, fid=fid: f.get("ref") == fid)
            assert err["type"] == "Error"
            assert err["data"]["code"] == "unauthorized"
        bad = await ca.wait_for(lambda f: f.get("type") == "Error" and "ref" not in f)
        assert bad["data"]["code"] == "bad_frame"
        missing = await ca.wait_for(lambda f: f.get("ref") == "p3")
        assert missing["data"]["code"] == "validation_failed"
        assert missing["data"]["path"] == "$.data.token"

        await ca.send_raw(frame("a", "", "Authenticate", {"token": a[1]}))
        auth = await ca.wait_for(lambda f: f.get("ref") == "a")
        assert auth["type"] == "Authenticated"
        sent = await ca.ok("chat/messages/ack", "SendChatMessageWithClientId", text(cid, "after"))
        got = await cb.events("ChatMessageReceived", 1, conversation_id=cid)
        # The refused pre-auth message was never sent; only the one after auth.
        assert [f["data"]["content"] for f in got] == ["after"]
        assert got[0]["data"]["message_id"] == sent["data"]["message_id"]
    finally:
        await ca.close()
        await cb.close()


async def test_authenticate_after_authentication_is_a_bad_frame(api: Api) -> None:
    user = await api.register()
    c = await api.client(user)
    try:
        reply = await c.request("", "Authenticate", {"token": user[1]})
        assert reply["type"] == "Error"
        assert reply["data"]["code"] == "bad_frame"
        await marker(c)
    finally:
        await c.close()


async def test_no_authenticate_within_timeout_closes(tight_api: Api) -> None:
    user = await tight_api.register()
    c = raw_client(tight_api.server, user)
    await c.connect(header_auth=False)
    code, _reason = await c.wait_closed(timeout=15)
    assert code == 4401
    assert not any(f.get("type") == "Authenticated" for f in c.frames)


async def test_auth_deadline_holds_even_while_the_client_sends_other_frames(
    tight_api: Api,
) -> None:
    user = await tight_api.register()
    c = raw_client(tight_api.server, user)
    await c.connect(header_auth=False)
    await c.send_raw(frame("x", "sync/request", "SyncRequest", {}))
    err = await c.wait_for(lambda f: f.get("ref") == "x")
    assert err["data"]["code"] == "unauthorized"
    code, _reason = await c.wait_closed(timeout=15)
    assert code == 4401


async def test_prompt_authenticate_frame_beats_a_short_timeout(tight_api: Api) -> None:
    user = await tight_api.register()
    c = raw_client(tight_api.server, user)
    await c.connect(header_auth=False)
    try:
        await c.send_raw(frame("a", "", "Authenticate", {"token": user[1]}))
        auth = await c.wait_for(lambda f: f.get("ref") == "a")
        assert auth["type"] == "Authenticated"
        await marker(c)
        assert c.closed is None
    finally:
        await c.close()


# -- envelope and error codes -------------------------------------------------

# (raw frame, code, ref the error must carry, path it must name)
ENVELOPE_CASES: dict[str, tuple[str, str, str | None, str | None]] = {
    "malformed_json": ('{"id":"e1","channel":"sync/request",', "bad_frame", None, None),
    "array": ('[{"id":"e1","type":"SyncRequest"}]', "bad_frame", None, None),
    "scalar": ("42", "bad_frame", None, None),
    "missing_type": ('{"id":"e1","channel":"sync/request","data":{}}', "bad_frame", "e1", None),
    "type_not_string": ('{"id":"e1","channel":"sync/request","type":7}', "bad_frame", "e1", None),
    "id_not_string": (
        '{"id":7,"channel":"sync/request","type":"SyncRequest"}',
        "bad_frame",
        None,
        None,
    ),
    "unknown_channel": (
        frame("e1", "no/such/channel", "Anything", {}),
        "unknown_channel",
        "e1",
        None,
    ),
    "server_only_channel": (
        frame("e1", "user/presence", "PresenceStatusUpdated", {}),
        "bad_frame",
        "e1",
        None,
    ),
    "server_message_on_client_channel": (
        frame("e1", "chat/messages", "EncryptedMessageReceived", {}),
        "bad_frame",
        "e1",
        None,
    ),
    "wrong_type_for_channel": (
        frame("e1", "chat/messages", "SendChatMessageWithClientId", {}),
        "bad_frame",
        "e1",
        None,
    ),
    "missing_field": (
        frame("e1", "chat/messages/ack", "SendChatMessageWithClientId", {"content": "hi"}),
        "validation_failed",
        "e1",
        "$.data.conversation_id",
    ),
    "wrong_field_type": (
        frame(
            "e1",
            "chat/messages/ack",
            "SendChatMessageWithClientId",
            {"conversation_id": "c", "content": 5},
        ),
        "validation_failed",
        "e1",
        "$.data.content",
    ),
    "wrong_item_type": (
        frame("e1", "chat/groups", "CreateGroup", {"name": "g", "member_ids": ["a", 5]}),
        "validation_failed",
        "e1",
        "$.data.member_ids[1]",
    ),
    "data_not_object": (
        frame("e1", "sync/request", "SyncRequest", [1, 2]),
        "validation_failed",
        "e1",
        "$.data",
    ),
    "no_handler_yet": (
        frame(
            "e1", "business/stats", "RequestBusinessStats", {"business_id": "b1", "window": "7d"}
        ),
        "unavailable",
        "e1",
        None,
    ),
    "subscribe_unknown_channel": (
        frame("e1", "no/such", "Subscribe", {}),
        "unknown_channel",
        "e1",
        None,
    ),
}


@pytest.mark.parametrize("case", list(ENVELOPE_CASES))
async def test_bad_frame_gets_typed_error_and_connection_stays_usable(api: Api, case: str) -> None:
    raw, code, ref, path = ENVELOPE_CASES[case]
    c = await api.client(await api.register())
    try:
        got = errors(await exchange(c, raw))
        assert len(got) == 1, got
        err = got[0]
        assert err["data"]["code"] == code, err
        assert err["data"]["message"]
        assert err.get("ref") == ref
        if ref is None:
            assert "ref" not in err
        if path is not None:
            assert err["data"]["path"] == path
        assert c.closed is None
    finally:
        await c.close()


async def test_binary_frames_are_served_like_text(api: Api) -> None:
    c = await api.client(await api.register())
    try:
        got = await exchange(c, frame("bin", "sync/request", "SyncRequest", {}).encode())
        reply = [f for f in got if f.get("ref") == "bin"]
        assert len(reply) == 1 and reply[0]["type"] == "SyncResponse"
    finally:
        await c.close()


async def test_not_a_member_is_indistinguishable_from_not_existing(api: Api) -> None:
    a, b, stranger = await api.user(3)
    cid = await api.direct(a[1], b[0])
    c = await api.client(stranger)
    try:
        theirs = await c.request("chat/messages/ack", "SendChatMessageWithClientId", text(cid))
        nowhere = await c.request(
            "chat/messages/ack", "SendChatMessageWithClientId", text(str(uuid.uuid4()))
        )
        assert theirs["type"] == nowhere["type"] == "Error"
        assert theirs["data"]["code"] == "not_found"
        assert theirs["data"] == nowhere["data"]
        await marker(c)
    finally:
        await c.close()


async def test_every_frame_with_an_id_gets_exactly_one_reply(api: Api) -> None:
    a, b = await api.user(2)
    cid = await api.direct(a[1], b[0])
    c = await api.client(a)
    good: list[tuple[str, str, Any, str]] = [
        ("sync/request", "SyncRequest", {}, "SyncResponse"),
        ("chat/messages/ack", "SendChatMessageWithClientId", text(cid), "ChatMessageAccepted"),
    ]
    bad: list[tuple[str, str, Any, str]] = [
        ("no/such/channel", "X", {}, "unknown_channel"),
        ("chat/messages/ack", "SendChatMessageWithClientId", {"content": 1}, "validation_failed"),
        ("user/presence", "PresenceStatusUpdated", {}, "bad_frame"),
        (
            "business/stats",
            "RequestBusinessStats",
            {"business_id": cid, "window": "7d"},
            "unavailable",
        ),
        ("chat/messages/ack", "SendChatMessageWithClientId", text(str(uuid.uuid4())), "not_found"),
        ("", "Authenticate", {"token": a[1]}, "bad_frame"),
    ]
    expected: dict[str, tuple[str, str]] = {}
    raws: list[str] = []
    n_good = n_bad = 0
    for i in range(20):
        fid = f"m{i}"
        if i % 3 == 0:
            channel, type_, data, want = good[n_good % len(good)]
            n_good += 1
            if type_ == "SendChatMessageWithClientId":
                data = text(cid, f"n{i}")
            expected[fid] = ("ok", want)
        else:
            channel, type_, data, want = bad[n_bad % len(bad)]
            n_bad += 1
            expected[fid] = ("Error", want)
        raws.append(frame(fid, channel, type_, data))
    assert {w for k, w in expected.values() if k == "Error"} == {b[3] for b in bad}
    try:
        got = await exchange(c, *raws)
        refs = Counter(f["ref"] for f in got if "ref" in f)
        assert refs == Counter({fid: 1 for fid in expected}), refs
        for f in got:
            if "ref" not in f:
                continue
            kind, want = expected[f["ref"]]
            if kind == "ok":
                assert f["type"] == want, f
            else:
                assert f["type"] == "Error" and f["data"]["code"] == want, f
    finally:
        await c.close()


async def test_frames_without_id_get_errors_without_ref_and_no_success_reply(api: Api) -> None:
    a, b = await api.user(2)
    cid = await api.direct(a[1], b[0])
    ca, cb = await api.client(a), await api.client(b)
    try:
        got = await exchange(
            ca,
            frame(None, "no/such/channel", "X", {}),
            frame(None, "chat/messages/ack", "SendChatMessageWithClientId", {"content": "x"}),
            "{broken",
            frame(None, "chat/messages/ack", "SendChatMessageWithClientId", text(cid, "fire")),
        )
        errs = errors(got)
        assert [e["data"]["code"] for e in errs] == [
            "unknown_channel",
            "validation_failed",
            "bad_frame",
        ]
        assert all("ref" not in f for f in got)
        assert not any(f.get("type") == "ChatMessageAccepted" for f in got)
        # The fire-and-forget message was still sent.
        received = await cb.events("ChatMessageReceived", 1, conversation_id=cid)
        assert received[0]["data"]["content"] == "fire"
    finally:
        await ca.close()
        await cb.close()


async def test_frame_over_max_frame_bytes_is_too_large(tight_api: Api) -> None:
    c = await tight_api.client(await tight_api.register())
    try:
        pad = "x" * 5000
        big = frame("big", "sync/request", "SyncRequest", {"request_id": "r", "pad": pad})
        assert len(big.encode()) > 4096
        got = await exchange(c, big)
        assert len(got) == 1
        assert got[0]["type"] == "Error"
        assert got[0]["data"]["code"] == "too_large"
        assert got[0].get("ref") == "big"
    finally:
        await c.close()


async def test_max_frame_bytes_counts_utf8_bytes_not_characters(tight_api: Api) -> None:
    c = await tight_api.client(await tight_api.register())
    try:
        # 2,000 characters, 6,000 bytes on the wire.
        wide = frame("wide", "sync/request", "SyncRequest", {"request_id": "r", "pad": "€" * 2000})
        assert len(wide) < 4096 < len(wide.encode())
        got = await exchange(c, wide)
        assert [f["data"]["code"] for f in errors(got)] == ["too_large"]
        assert got[0].get("ref") == "wide"
    finally:
        await c.close()


async def test_frame_just_under_the_limit_is_served(tight_api: Api) -> None:
    c = await tight_api.client(await tight_api.register())
    try:
        small = frame("ok", "sync/request", "SyncRequest", {"request_id": "r", "pad": "x" * 3900})
        assert len(small.encode()) <= 4096
        got = await exchange(c, small)
        assert [f["type"] for f in got if f.get("ref") == "ok"] == ["SyncResponse"]
    finally:
        await c.close()


async def test_flood_is_rate_limited_without_affecting_other_users(rate_api: Api) -> None:
    flooder = await rate_api.client(await rate_api.register())
    bystander = await rate_api.client(await rate_api.register())
    try:
        ids = [f"f{i}" for i in range(20)]
        for fid in ids:
            await flooder.send_raw(frame(fid, "sync/request", "SyncRequest", {}))
        replies = [await flooder.wait_for(lambda f, fid=fid: f.get("ref") == fid) for fid in ids]
        limited = [r for r in replies if r["type"] == "Error"]
        served = [r for r in replies if r["type"] == "SyncResponse"]
        assert len(limited) + len(served) == 20
        # A burst of 5, refilling at 5/s: most of a 20-frame flood is refused.
        assert len(limited) >= 10, [r["type"] for r in replies]
        assert len(served) >= 5
        for r in limited:
            assert r["data"]["code"] == "rate_limited"
            assert isinstance(r["data"]["retry_after_ms"], int)
            assert r["data"]["retry_after_ms"] > 0
        assert flooder.closed is None

        # Another user's connection on the same server has its own budget.
        await marker(bystander)

        # The flooder may try again after the advertised delay (its own
        # backoff, not a guess at timing): the retry must then be served.
        await asyncio.sleep(limited[-1]["data"]["retry_after_ms"] / 1000)
        await marker(flooder)
    finally:
        await flooder.close()
        await bystander.close()


# -- origin -------------------------------------------------------------------


async def test_foreign_origin_is_refused_at_handshake(api: Api) -> None:
    _uid, token, _ = await api.register()
    with pytest.raises(InvalidStatus) as info:
        await ws_connect(api.server, token, origin="http://evil.example")
    assert info.value.response.status_code == 403


@pytest.mark.parametrize("same_origin", [False, True], ids=["no_origin", "same_origin"])
async def test_no_origin_or_same_origin_is_accepted(api: Api, same_origin: bool) -> None:
    uid, token, _ = await api.register()
    origin = f"http://127.0.0.1:{api.server.port}" if same_origin else None
    ws = await ws_connect(api.server, token, origin=origin)
    try:
        auth = await first_frame(ws)
        assert auth["type"] == "Authenticated"
        assert auth["data"]["user_id"] == uid
    finally:
        await ws.close()


async def test_allowlisted_origin_is_accepted_and_others_still_refused(tight_api: Api) -> None:
    uid, token, _ = await tight_api.register()
    ws = await ws_connect(tight_api.server, token, origin="http://app.example")
    try:
        auth = await first_frame(ws)
        assert auth["type"] == "Authenticated"
        assert auth["data"]["user_id"] == uid
    finally:
        await ws.close()
    for origin in ("http://evil.example", "http://app.example.evil.example"):
        with pytest.raises(InvalidStatus) as info:
            await ws_connect(tight_api.server, token, origin=origin)
        assert info.value.response.status_code == 403


# -- slow consumers -------------------------------------------------------------


async def test_slow_consumer_is_cut_off_and_everyone_else_gets_everything(
    slow_api: Api,
) -> None:
    sender_u, slow_u, normal_u = await slow_api.user(3)
    sender = await slow_api.client(sender_u)
    normal = await slow_api.client(normal_u)
    group = await sender.ok(
        "chat/groups",
        "CreateGroup",
        {"name": "firehose", "member_ids": [slow_u[0], normal_u[0]], "client_request_id": "g"},
    )
    gid = group["data"]["group_id"]
    before = await metric(slow_api, "hubbub_ws_slow_consumer_disconnects_total")

    # No compression, so the bytes on the wire are the bytes sent; no client
    # pings, which a reader that never reads could not answer anyway.
    slow = await ws_connect(slow_api.server, slow_u[1], compression=None, ping_interval=None)
    assert (await first_frame(slow))["type"] == "Authenticated"
    slow.transport.pause_reading()

    accepted: list[str] = []
    cut = False
    try:
        # Incompressible ~48 KB messages, 4 in flight at a time (well under
        # the queue limit for a reader that keeps up), until the server cuts
        # the slow reader off; a few hundred fill any kernel buffer.
        while len(accepted) < 1200:
            replies = await asyncio.gather(
                *(
                    sender.request(
                        "chat/messages/ack",
                        "SendChatMessageWithClientId",
                        text(gid, base64.b64encode(os.urandom(36_000)).decode()),
                    )
                    for _ in range(4)
                )
            )
            for r in replies:
                assert r["type"] == "ChatMessageAccepted", r
                accepted.append(r["data"]["message_id"])
            if len(accepted) % 20 == 0:
                now = await metric(slow_api, "hubbub_ws_slow_consumer_disconnects_total")
                if now > before:
                    cut = True
                    break
        assert cut, f"slow reader never cut off after {len(accepted)} messages"

        # The sender and the member who reads got every message, in order.
        got = await normal.events("ChatMessageReceived", len(accepted), conversation_id=gid)
        assert [f["data"]["message_id"] for f in got] == accepted
        assert normal.closed is None and sender.closed is None

        # Once it reads again, the slow client finds its connection closed
        # after what was already in flight: a fraction of the messages.
        slow.transport.resume_reading()
        seen = 0
        with pytest.raises(ConnectionClosed):
            while True:
                raw = await asyncio.wait_for(slow.recv(), 10)
                if msgspec.json.decode(raw).get("type") == "ChatMessageReceived":
                    seen += 1
        assert seen < len(accepted)
        assert slow.close_code in (1013, 1006)
    finally:
        await slow.close()

    # The server keeps serving: old and new connections alike.
    await marker(sender)
    late = await slow_api.client(await slow_api.register())
    try:
        await marker(late)
    finally:
        await late.close()
        await sender.close()
        await normal.close()


# -- revocation -----------------------------------------------------------------


async def test_logout_closes_live_connection_and_refuses_the_token(api: Api) -> None:
    uid, token, username = await api.register()
    r = await api.http.post(
        "/v1/auth/login",
        json={"username": username, "password": "correct horse battery", "device_id": "other"},
    )
    assert r.status_code == 200
    other_token = r.json()["token"]
    revoked = await api.client((uid, token, username))
    kept = await Client(api.server, uid, other_token, "other").connect()
    try:
        r = await api.http.post("/v1/auth/logout", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 204
        code, _reason = await revoked.wait_closed()
        assert code == 4401

        # The same user's other token is untouched.
        await marker(kept)

        again = Client(api.server, uid, token, "dev")
        await again.connect(wait_ready=False)
        err = await again.wait_for(lambda f: f.get("type") == "Error")
        assert err["data"]["code"] == "unauthorized"
        assert (await again.wait_closed())[0] == 4401

        frame_auth = Client(api.server, uid, token, "dev")
        await frame_auth.connect(header_auth=False)
        await frame_auth.send_raw(frame("a", "", "Authenticate", {"token": token}))
        err = await frame_auth.wait_for(lambda f: f.get("ref") == "a")
        assert err["type"] == "Error" and err["data"]["code"] == "unauthorized"
        assert (await frame_auth.wait_closed())[0] == 4401
    finally:
        await revoked.close()
        await kept.close()
