"""No secret in the logs or in the database; the /ws Origin allowlist.

A dedicated server runs at log level debug (the most talkative). Every value
below is a unique marker, so finding it anywhere is a leak:

- passwords (register, login, a wrong login), tokens (issued by register and
  login, used by REST, /ws header auth and /ws `Authenticate`, revoked by
  logout, and a bogus one), plaintext message content, E2E ciphertext, and
  the same markers inside frames the server refuses (bad frames, validation
  failures, unknown channels).
- The server log (`server.log`) holds none of them, not even 12 characters of
  one (a truncated copy is a leak too).
- The SQLite database (main file, WAL and shared memory, while running and
  after shutdown) holds no token and no password: only hashes. It does hold
  the plaintext content and the ciphertext (the positive control that the
  bytes searched are the right ones); the E2E message's plaintext, which the
  client never sent, is not there.

The Origin tests start servers with a multi-origin allowlist and with `*`.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

from tests.reliability.conftest import Figure
from tests.support import Api, Client, ServerProcess

KINDS = ("password", "token", "content", "ciphertext", "e2e_plaintext")


def marker(kind: str) -> str:
    return f"{kind}-{secrets.token_hex(12)}"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def debug_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(
        tmp_path_factory.mktemp("secrets"), extra_env={"HUBBUB_LOG_LEVEL": "debug"}
    ).start()
    yield proc
    proc.stop()


@pytest.fixture
async def debug_api(debug_server: ServerProcess) -> AsyncIterator[Api]:
    a = Api(debug_server)
    yield a
    await a.aclose()


def db_bytes(data_dir: Path) -> bytes:
    files = sorted(data_dir.glob("hubbub.db*"))
    assert any(f.name == "hubbub.db" for f in files), files
    return b"".join(f.read_bytes() for f in files)


async def exercise(api: Api) -> dict[str, list[str]]:
    """Use every path that handles a secret; returns the secrets by kind."""
    found: dict[str, list[str]] = {kind: [] for kind in KINDS}
    users = []
    for _ in range(2):
        password = marker("password")
        uid, token, name = await api.register(password=password)
        found["password"].append(password)
        found["token"].append(token)
        r = await api.http.post(
            "/v1/auth/login", json={"username": name, "password": password, "device_id": "d2"}
        )
        assert r.status_code == 200
        found["token"].append(r.json()["token"])
        users.append((uid, token, name, r.json()["token"]))
    wrong = marker("password")
    found["password"].append(wrong)
    r = await api.http.post("/v1/auth/login", json={"username": users[0][2], "password": wrong})
    assert r.status_code == 401
    bogus = marker("token")
    found["token"].append(bogus)
    assert (await api.http.get("/v1/conversations", headers=auth(bogus))).status_code == 401

    (a_id, a_token, a_name, a_token2), (b_id, b_token, _, _) = users
    cid = await api.direct(a_token, b_id)
    assert (await api.http.get(f"/v1/users/{b_id}", headers=auth(a_token))).status_code == 200

    # /ws: header auth (a), Authenticate frame (b), and a bogus token both ways.
    a = await api.client((a_id, a_token, a_name))
    b = Client(api.server, b_id, b_token, "frame-dev")
    await b.connect(header_auth=False)
    reply = await b.request("", "Authenticate", {"token": b_token})
    assert reply["type"] == "Authenticated"
    for how in ("header", "frame"):
        bad = Client(api.server, a_id, bogus, "bad")
        await bad.connect(header_auth=how == "header", wait_ready=False)
        if how == "frame":
            await bad.send_raw(json.dumps({"type": "Authenticate", "data": {"token": bogus}}))
        assert (await bad.wait_closed())[0] == 4401
        await bad.close()

    try:
        content = marker("content")
        found["content"].append(content)
        sent = await a.ok(
            "chat/messages/ack",
            "SendChatMessageWithClientId",
            {"client_message_id": "m1", "conversation_id": cid, "content": content},
        )
        await b.events("ChatMessageReceived", message_id=sent["data"]["message_id"])

        # E2E: the client encrypts; the server only ever sees the ciphertext.
        plaintext, ciphertext = marker("e2e_plaintext"), marker("ciphertext")
        found["e2e_plaintext"].append(plaintext)
        found["ciphertext"].append(ciphertext)
        e2e = await a.ok(
            "chat/messages",
            "SendEncryptedMessage",
            {
                "conversation_id": cid,
                "ciphertext": ciphertext,
                "nonce": "bm9uY2U=",
                "algorithm": "AES-GCM",
                "key_id": "k1",
            },
        )
        await b.events("EncryptedMessageReceived", message_id=e2e["data"]["ids"]["message_id"])
        await b.ok(
            "chat/acks",
            "SendEncryptedAck",
            {"message_id": e2e["data"]["ids"]["message_id"], "conversation_id": cid},
        )

        # Refused frames that carry secrets: they must not be logged either.
        leaky = marker("content")
        found["content"].append(leaky)
        text = "chat/messages/ack SendChatMessageWithClientId"
        refused: list[tuple[str, dict[str, Any]]] = [
            (text, {"conversation_id": cid, "content": 7, "client_message_id": leaky}),
            (text, {"conversation_id": "nope", "content": leaky, "client_message_id": "z"}),
            ("no/such/" + leaky + " Nope", {}),
            ("chat/messages " + leaky, {}),
            (" Authenticate", {"token": a_token}),
        ]
        for route, data in refused:
            channel, type_ = route.split(" ")
            reply = await a.request(channel, type_, data)
            assert reply["type"] == "Error", reply
        await a.send_raw('{"id": "x6", "channel": "chat/messages", "data": "' + leaky)
        await a.ok("sync/request", "SyncRequest", {"request_id": "done"})
    finally:
        await a.close()
        await b.close()

    # Logout, and the revoked token tried again.
    r = await api.http.post("/v1/auth/logout", headers=auth(a_token2))
    assert r.status_code == 204
    assert (await api.http.get("/v1/conversations", headers=auth(a_token2))).status_code == 401
    return found


def fragments(value: str, size: int = 12) -> list[bytes]:
    """Every `size`-character window of the random part: a truncated copy leaks too."""
    random_part = value.split("-", 1)[1] if value.split("-", 1)[0] in KINDS else value
    raw = random_part.encode()
    return [raw[i : i + size] for i in range(len(raw) - size + 1)]


def hits(haystack: bytes, by_kind: dict[str, list[str]], kinds: tuple[str, ...]) -> list[str]:
    return [
        f"{kind}:{value[:12]}..."
        for kind in kinds
        for value in by_kind[kind]
        if any(part in haystack for part in fragments(value))
    ]


async def test_no_secret_in_debug_logs_or_in_the_database(
    debug_api: Api, debug_server: ServerProcess, figure: Figure
) -> None:
    found = await exercise(debug_api)
    running_db = db_bytes(debug_server.data_dir)
    debug_server.stop()  # flush the log, checkpoint the WAL
    log = debug_server.log_path.read_bytes()
    db = running_db + db_bytes(debug_server.data_dir)

    # The log was really written at debug level, and the DB files are the real ones.
    lines = [json.loads(line) for line in log.splitlines() if line.startswith(b"{")]
    debug = [line for line in lines if line.get("level") == "debug"]
    assert any(line.get("logger") == "hubbub.ws" for line in debug), log[-2000:]
    assert b"$argon2id$" in db
    assert all(c.encode() in db for c in found["content"][:1] + found["ciphertext"])

    in_log = hits(log, found, tuple(found))
    in_db = hits(db, found, ("password", "token", "e2e_plaintext"))
    n = sum(len(v) for v in found.values())
    figure(
        "secrets_in_logs",
        "server at log level debug: register, login (right and wrong password), logout, "
        "REST and /ws auth by header and by Authenticate frame (good, bogus and revoked "
        "tokens), plaintext and E2E messages, refused frames carrying the markers; then "
        "grep the server log and the SQLite files (db, -wal, -shm) for every marker",
        f"secrets found in logs: {len(in_log)}, in DB: {len(in_db)} (of {n} markers; "
        "DB holds hashes only for passwords and tokens)",
        markers=n,
        log_lines=len(lines),
        debug_lines=len(debug),
        secrets_in_logs=len(in_log),
        secrets_in_db=len(in_db),
    )
    assert in_log == []
    assert in_db == []


# -- Origin allowlist ------------------------------------------------------------


def origin_server(factory: pytest.TempPathFactory, allowed: str) -> ServerProcess:
    env = {"HUBBUB_ALLOWED_ORIGINS": allowed}
    return ServerProcess(factory.mktemp("origin"), extra_env=env).start()


async def handshake(server: ServerProcess, token: str, origin: str | None) -> int:
    """101 when the upgrade is accepted and authenticated, else the HTTP status."""
    try:
        ws = await connect(
            server.ws_url,
            additional_headers={"Authorization": f"Bearer {token}"},
            origin=Origin(origin) if origin else None,
        )
    except InvalidStatus as exc:
        return exc.response.status_code
    try:
        first: dict[str, Any] = json.loads(await ws.recv())
        assert first["type"] == "Authenticated", first
        return 101
    finally:
        await ws.close()


def register(server: ServerProcess) -> str:
    r = httpx.post(
        server.base_url + "/v1/auth/register",
        json={"username": "o" + secrets.token_hex(5), "password": "correct horse battery"},
    )
    assert r.status_code == 201
    return str(r.json()["token"])


async def test_origin_allowlist_with_several_origins_and_wildcard(
    tmp_path_factory: pytest.TempPathFactory, figure: Figure
) -> None:
    listed = origin_server(tmp_path_factory, "http://app.example, https://web.example:8443")
    anyone = origin_server(tmp_path_factory, "*")
    try:
        same = f"http://127.0.0.1:{listed.port}"
        cases: list[tuple[ServerProcess, str | None, bool]] = [
            (listed, "http://app.example", True),
            (listed, "https://web.example:8443", True),
            (listed, None, True),  # native apps and bots send no Origin
            (listed, same, True),
            (listed, "http://evil.example", False),
            (listed, "https://web.example", False),  # port differs
            (listed, "http://web.example:8443", False),  # scheme differs
            (listed, "https://app.example", False),
            (listed, "http://app.example.evil.example", False),
            (listed, "null", False),
            (anyone, "http://evil.example", True),
            (anyone, "https://anything.example:1234", True),
            (anyone, None, True),
        ]
        tokens = {id(s): register(s) for s in (listed, anyone)}
        wrong = []
        for server, origin, allowed in cases:
            status = await handshake(server, tokens[id(server)], origin)
            if status != (101 if allowed else 403):
                wrong.append(f"{origin!r} on {'allowlist' if server is listed else '*'}: {status}")
    finally:
        listed.stop()
        anyone.stop()
    figure(
        "origin_allowlist",
        "/ws handshakes with Origin headers against --allowed-origins "
        "'http://app.example, https://web.example:8443' and '*' (plus no Origin, same origin)",
        f"{len(cases)} handshakes, {len(wrong)} wrong (allowed must authenticate, others 403)",
        handshakes=len(cases),
        wrong=len(wrong),
    )
    assert wrong == []
