"""Soak: mixed traffic for a while; memory and file descriptors stay flat.

Several users in a group and in direct chats send, acknowledge, reconnect and
resume continuously. The server's RSS and open file descriptors are sampled;
after the run every client is closed and the descriptors must return to the
baseline, RSS must not keep growing, and the log must hold no error.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import secrets
import time
from pathlib import Path

from tests.reliability.conftest import Figure, scale
from tests.support import Api, Client, ServerProcess


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def sockets(pid: int) -> int:
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            n += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
    return n


async def test_soak_mixed_traffic(tmp_path: Path, figure: Figure) -> None:
    seconds = scale(15, 1800)
    env = {"HUBBUB_RATE_PER_SECOND": "1000", "HUBBUB_RATE_BURST": "1000"}
    srv = ServerProcess(tmp_path / "soak", extra_env=env).start()
    assert srv.proc is not None
    pid = srv.proc.pid
    try:
        api = Api(srv)
        users = await api.user(6)
        base_sockets = sockets(pid)
        clients = [await api.client(u, f"d{i}") for i, u in enumerate(users)]
        g = await clients[0].ok(
            "chat/groups",
            "CreateGroup",
            {"name": "soak", "member_ids": [u[0] for u in users[1:]], "client_request_id": "s"},
        )
        gid = g["data"]["group_id"]
        dms = [await api.direct(users[i][1], users[(i + 1) % 6][0]) for i in range(6)]
        rng = random.Random(7)
        sent = 0
        reconnects = 0
        samples: list[tuple[float, float, int]] = []
        start = time.monotonic()
        warm_rss = 0.0
        while time.monotonic() - start < seconds:
            i = rng.randrange(6)
            c = clients[i]
            action = rng.random()
            if action < 0.7:
                cid = gid if rng.random() < 0.5 else dms[i]
                r = await c.ok(
                    "chat/messages/ack",
                    "SendChatMessageWithClientId",
                    {
                        "client_message_id": secrets.token_hex(6),
                        "conversation_id": cid,
                        "content": "x" * rng.randrange(1, 2000),
                    },
                )
                sent += 1
                assert r["type"] == "ChatMessageAccepted"
            elif action < 0.85:
                await c.ok("status/response", "RequestStatus", {"target": "sync"})
            else:
                last = c.max_seq()
                await c.close()
                fresh = Client(srv, users[i][0], users[i][1], f"d{i}")
                await fresh.connect()
                resp = await fresh.ok(
                    "sync/request", "SyncRequest", {"request_id": "r", "since_sequence": last}
                )
                assert resp["data"]["from_sequence"] == last
                clients[i] = fresh
                reconnects += 1
            for other in clients:  # keep the test client's own memory bounded
                if len(other.frames) > 2000:
                    del other.frames[:-200]
            elapsed = time.monotonic() - start
            if not samples or elapsed - samples[-1][0] >= max(1.0, seconds / 30):
                samples.append((elapsed, rss_mib(pid), fds(pid)))
                if not warm_rss and elapsed >= seconds / 3:
                    warm_rss = samples[-1][1]
        warm_fds = max(s[2] for s in samples)
        await asyncio.gather(*(c.close() for c in clients))
        await api.aclose()

        async def sockets_back() -> None:
            while sockets(pid) > base_sockets:  # noqa: ASYNC110 - polls the server's fd table
                await asyncio.sleep(0.1)

        await asyncio.wait_for(sockets_back(), timeout=15)
        # The database pool may have grown to its bound; nothing else may.
        assert fds(pid) <= warm_fds, (fds(pid), warm_fds)
        end_rss = rss_mib(pid)
        peak_rss = max(s[1] for s in samples)
        warm_rss = warm_rss or samples[0][1]
        errors = [
            line
            for line in srv.log_path.read_text().splitlines()
            if line.startswith("{")
            and json.loads(line).get("level") in ("error", "critical", "exception")
        ]
        assert errors == [], errors[:3]
        # Flat: after warm-up, memory may not grow by more than a small margin.
        growth = end_rss - warm_rss
        assert growth < max(20.0, warm_rss * 0.25), (warm_rss, end_rss, samples)
        figure(
            "Soak",
            f"{seconds} s of mixed traffic (6 users, group + DMs, sends, status, reconnect+resume)",
            f"{sent} messages, {reconnects} reconnects; RSS warm {warm_rss:.1f} MiB, "
            f"peak {peak_rss:.1f}, end {end_rss:.1f}; sockets back to {sockets(pid)}, "
            f"fds {fds(pid)} (peak {warm_fds}); 0 errors in log",
            seconds=seconds,
            messages=sent,
            rss_growth_mib=round(growth, 1),
        )
    finally:
        srv.stop()
