"""Spec 002's sockets at their edges: text no backend can store, and why a
connection closed, over a real `/api/ws` and a real Socket.IO client.

Found by the fuzzer (issue #12): on PostgreSQL a bare conversation id holding
U+0000 (`typing:start "a\\x00"`) reached a query, asyncpg raised DataError,
the error escaped `/api/ws`'s loop and the client saw 1006 (Socket.IO: no
ack). SQLite stores NUL, so the same input passed there; now every backend
refuses it as `validation_failed` with the field's path, and the connection
stays usable. Closes are logged at info with code and reason, never content.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.integration.symbia_rt import ApiWs, Sio
from tests.support import Api, ServerProcess

# Every event that takes a bare id or an id field, with NUL where the id goes.
NUL_INPUTS: list[tuple[str, Any, str]] = [
    ("typing:start", "a\x00", "$.data"),
    ("typing:stop", {"conversationId": "a\x00"}, "$.data.conversationId"),
    ("leave:conversation", "a\x00", "$.data"),
    ("join:conversation", {"conversationId": "\x00"}, "$.data.conversationId"),
    ("message:delete", "x\x00y", "$.data"),
    ("presence:update", {"status": "away\x00"}, "$.data.status"),
    ("message:send", {"conversationId": "c", "metadata": {"k\x00": 1}}, "$.data.metadata"),
]


def _refused_nul(ack: Any, path: str) -> None:
    assert ack["success"] is False, ack
    assert ack["code"] == "validation_failed", ack
    assert ack["path"] == path, ack


async def test_nul_in_an_id_is_a_typed_refusal_on_every_backend(
    server: ServerProcess, api: Api
) -> None:
    me, other = await api.user(2)
    cid = await api.direct(me[1], other[0])
    ws = await ApiWs.open(server, query=f"token={me[1]}")
    sio = await Sio.open(server, auth={"token": me[1]})
    for event, data, path in NUL_INPUTS:
        _refused_nul(await ws.call(event, data), path)
        _refused_nul(await sio.call(event, data), path)
    # A binary frame (the protocol is JSON text) is a bad frame, not a dropped socket.
    await ws.ws.send(b'{"event":"typing:start","data":"x"}')
    await ws.wait_until(lambda: ws.acks.get(None))
    assert ws.acks[None]["data"] == {
        "success": False,
        "error": "text frames only",
        "code": "bad_frame",
    }
    # Both connections are still usable: a real send is acked on each.
    sent = await ws.call("message:send", {"conversationId": cid, "content": "after"})
    assert sent["success"] is True and ws.closed is None
    assert (await sio.call("typing:start", cid))["success"] is True
    await ws.close()
    await sio.close()
    assert "Traceback" not in server.log_path.read_text(errors="replace")


async def _logged_close(server: ServerProcess, user_id: str, transport: str) -> dict[str, Any]:
    """The `symbia connection closed` line of that user's connection, once written."""

    def find() -> dict[str, Any] | None:
        for line in server.log_path.read_text(errors="replace").splitlines():
            if '"symbia connection closed"' not in line or user_id not in line:
                continue
            entry: dict[str, Any] = json.loads(line)
            if entry.get("user_id") == user_id and entry.get("transport") == transport:
                return entry
        return None

    deadline = asyncio.get_running_loop().time() + 10
    while (entry := find()) is None:
        assert asyncio.get_running_loop().time() < deadline, "no close logged"
        await asyncio.sleep(0.05)  # a poll interval for the log file, not a timing assumption
    return entry


async def test_every_close_is_logged_at_info_with_code_and_reason(
    server: ServerProcess, api: Api
) -> None:
    (me,) = await api.user(1)
    ws = await ApiWs.open(server, query=f"token={me[1]}")
    await ws.call("typing:stop", "not-a-conversation")  # the connection is set up
    await ws.ws.close(4000, "bye")
    entry = await _logged_close(server, me[0], "api-ws")
    assert entry["level"] == "info"
    assert (entry["code"], entry["forced"]) == (4000, False)
    assert entry["reason"] == "closed by the client"

    # The server closes it (signed out): the client is told the code and the reason.
    (you,) = await api.user(1)
    ws = await ApiWs.open(server, query=f"token={you[1]}")
    await ws.call("typing:stop", "not-a-conversation")
    out = await api.http.post("/v1/auth/logout", headers={"Authorization": f"Bearer {you[1]}"})
    assert out.status_code == 204
    closed = await ws.wait_until(lambda: ws.closed)
    entry = await _logged_close(server, you[0], "api-ws")
    assert entry["level"] == "info" and entry["forced"] is True
    assert closed == (entry["code"], entry["reason"]) and entry["code"] != 1006
    assert you[1] not in server.log_path.read_text(errors="replace")
