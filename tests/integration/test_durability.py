"""An acknowledged message survives `kill -9`; retries create nothing new.

The sender keeps sending while the server is SIGKILLed. Afterwards it
re-sends every message it had not seen acknowledged, plus a few it had, with
the same client ids. The recipient's change feed must then hold every message
exactly once, in send order; a self-destruct timer set before the crash must
still fire after it.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import pytest

from tests.support import Api, Client, ServerProcess, full_resume


async def _send_until_dead(client: Client, cid: str, acked: dict[str, str], n: int) -> None:
    with contextlib.suppress(Exception):
        for i in range(n):
            r = await client.request(
                "chat/messages/ack",
                "SendChatMessageWithClientId",
                {"client_message_id": f"k{i}", "conversation_id": cid, "content": f"m{i}"},
                timeout=5,
            )
            assert r["type"] == "ChatMessageAccepted", r
            acked[f"k{i}"] = r["data"]["message_id"]


@pytest.mark.parametrize("db", ["sqlite", "postgres"])
async def test_kill9_loses_no_acked_message(
    db: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("pg_url") if db == "postgres" else ""
    fast = {"HUBBUB_RATE_PER_SECOND": "100000", "HUBBUB_RATE_BURST": "100000"}
    srv = ServerProcess(tmp_path / "data", database_url=url, extra_env=fast).start()
    try:
        api = Api(srv)
        a, b = await api.user(2)
        cid = await api.direct(a[1], b[0])
        ca = await api.client(a)
        burn = await ca.ok(
            "chat/messages/ack",
            "SendChatMessageWithClientId",
            {
                "client_message_id": "burn",
                "conversation_id": cid,
                "content": "ephemeral",
                "self_destruct": True,
                "ttl_seconds": 2,
            },
        )
        total = 400
        acked: dict[str, str] = {}
        sender = asyncio.create_task(_send_until_dead(ca, cid, acked, total))
        await ca.wait_for(lambda _f: len(acked) >= 40, timeout=30)
        srv.kill9()
        await sender
        await ca.close()
        await api.aclose()
        assert 40 <= len(acked) < total

        srv.start()  # same data dir / database, new port
        api = Api(srv)
        ca = Client(srv, a[0], a[1], "dev-a")
        await ca.connect()
        for i in range(total):  # retry everything: acked ones must not duplicate
            r = await ca.ok(
                "chat/messages/ack",
                "SendChatMessageWithClientId",
                {"client_message_id": f"k{i}", "conversation_id": cid, "content": f"m{i}"},
            )
            if f"k{i}" in acked:
                assert r["data"]["message_id"] == acked[f"k{i}"]

        cb = Client(srv, b[0], b[1], "dev-b")
        await cb.connect()
        seen = await full_resume(cb, "s")
        contents = [
            c["data"]["content"]
            for c in seen
            if c["type"] == "ChatMessageReceived"
            and c["data"].get("content") != "ephemeral"
            and "content" in c["data"]
        ]
        assert contents == [f"m{i}" for i in range(total)]  # all, once, in order
        seqs = [c["seq"] for c in seen]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)

        # the timer written before the crash still fires (already in the feed,
        # or pushed live soon)
        def expired(f: dict[str, Any]) -> bool:
            return bool(
                f["type"] == "ChatMessageExpired"
                and f["data"]["message_id"] == burn["data"]["message_id"]
            )

        if not any(expired(c) for c in seen):
            await cb.wait_for(expired, timeout=20)
        await asyncio.gather(ca.close(), cb.close())
        await api.aclose()
    finally:
        srv.stop()
