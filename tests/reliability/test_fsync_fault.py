"""The ack comes after the commit: a failing fsync is never acknowledged.

SQLite in WAL mode with `synchronous=FULL` makes each commit durable with
`fdatasync` on the WAL file. Once the server has started and acked some
messages, `strace` attaches to it and makes every further `fdatasync`/`fsync`
fail with EIO. Every send must then be answered with a typed `Error`
(`unavailable`: the storage is failing, try again later), never
`ChatMessageAccepted`. The server is then SIGKILLed and restarted on the same
data without the fault: every message acked before is there exactly once,
and no message that got an Error was ever acked. A message that got an Error
may still come back after the restart: its WAL frames were written before the
fsync failed, and SQLite's recovery replays a complete, checksummed commit.
That is allowed (the sender was told nothing was promised, and a retry with
the same client id returns it without duplicating it); acking it would not
have been.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.conftest import Figure, scale
from tests.support import Api, Client, ServerProcess, full_resume

FAST = {"HUBBUB_RATE_PER_SECOND": "100000", "HUBBUB_RATE_BURST": "100000"}


def _strace_or_skip() -> str:
    exe = shutil.which("strace")
    if exe is None:
        pytest.skip("strace is not installed (apt-get install -y strace)")
    probe = subprocess.run(
        [exe, "-f", "-e", "trace=fdatasync", "-e", "inject=fdatasync:error=EIO", "true"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if probe.returncode != 0:
        pytest.skip(f"strace cannot trace here (ptrace not permitted?): {probe.stderr.strip()}")
    return exe


def send(cid: str, key: str) -> dict[str, Any]:
    return {"client_message_id": key, "conversation_id": cid, "content": key}


def _spawn_strace(exe: str, pid: int, out: Path, err: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            exe,
            "-f",
            "-p",
            str(pid),
            "-e",
            "trace=fdatasync,fsync",
            "-e",
            "inject=fdatasync,fsync:error=EIO",
            "-o",
            str(out),
        ],
        stderr=err.open("wb"),
    )


async def attach_fault(exe: str, pid: int, out: Path) -> subprocess.Popen[bytes]:
    """Attach strace to every thread of `pid`; from then on each fsync fails with EIO."""
    err = out.with_suffix(".err")
    tracer = _spawn_strace(exe, pid, out, err)

    async def attached() -> None:
        # With -f -p, strace seizes every thread first, then reports
        # "Process <pid> attached with <n> threads".
        while True:
            text = err.read_text() if err.exists() else ""
            if tracer.poll() is not None:
                if "Operation not permitted" in text:  # e.g. Yama ptrace_scope >= 1
                    pytest.skip(f"ptrace attach not permitted: {text.strip()}")
                raise RuntimeError(f"strace exited: {text}")
            if f"Process {pid} attached" in text:
                return
            await asyncio.sleep(0.05)  # bounded by the wait_for below

    await asyncio.wait_for(attached(), timeout=15)
    return tracer


async def test_failed_fsync_is_never_acked(tmp_path: Path, figure: Figure) -> None:
    exe = _strace_or_skip()
    before, during = scale(20, 200), scale(10, 100)
    srv = ServerProcess(tmp_path / "data", extra_env=FAST).start()
    tracer: subprocess.Popen[bytes] | None = None
    try:
        api = Api(srv)
        a, b = await api.user(2)
        cid = await api.direct(a[1], b[0])
        await api.aclose()
        ca = await Client(srv, a[0], a[1], "a1").connect()
        acked: dict[str, str] = {}
        for i in range(before):
            r = await ca.ok("chat/messages/ack", "SendChatMessageWithClientId", send(cid, f"k{i}"))
            acked[f"k{i}"] = r["data"]["message_id"]

        assert srv.proc is not None
        trace = tmp_path / "fsync.trace"
        tracer = await attach_fault(exe, srv.proc.pid, trace)

        refused: dict[str, dict[str, Any]] = {}
        for i in range(during):
            r = await ca.request(
                "chat/messages/ack", "SendChatMessageWithClientId", send(cid, f"e{i}"), timeout=30
            )
            assert r["type"] == "Error", f"acked while every fsync fails: {r}"
            refused[f"e{i}"] = r["data"]
        codes = {d["code"] for d in refused.values()}
        assert codes == {"unavailable"}, refused
        # The connection stays usable: a read still answers.
        await ca.ok("status/response", "RequestStatus", {"target": "server"})
        injected = trace.read_text().count("(INJECTED)")
        assert injected >= during, "the fault did not hit the commits"
        # Nothing for a refused message was accepted later either.
        late = [
            f
            for f in ca.frames
            if f.get("type") == "ChatMessageAccepted"
            and f["data"].get("client_message_id") in refused
        ]
        assert late == []
        await ca.close()

        srv.kill9()
        tracer.wait(15)
        tracer = None
        srv.start()  # same data dir, no fault

        cb = await Client(srv, b[0], b[1], "b1").connect()
        got: dict[str, list[str]] = {}
        for ch in await full_resume(cb, "s"):
            if ch["type"] == "ChatMessageReceived" and ch["data"]["conversation_id"] == cid:
                got.setdefault(ch["data"]["content"], []).append(ch["data"]["message_id"])
        lost = [k for k in acked if k not in got]
        dups = [k for k, ids in got.items() if len(ids) > 1]
        assert lost == [] and dups == [], (lost, dups)
        assert all(got[k] == [mid] for k, mid in acked.items())
        came_back = sorted(k for k in got if k in refused)
        assert set(got) <= set(acked) | set(refused)

        # A retry with the same client id stores each refused message exactly once.
        ca = await Client(srv, a[0], a[1], "a1").connect()
        for key in refused:
            r = await ca.ok("chat/messages/ack", "SendChatMessageWithClientId", send(cid, key))
            if key in got:
                assert r["data"]["message_id"] == got[key][0]
        counts: dict[str, int] = {}
        for ch in await full_resume(cb, "s"):
            if ch["type"] == "ChatMessageReceived" and ch["data"]["conversation_id"] == cid:
                counts[ch["data"]["content"]] = counts.get(ch["data"]["content"], 0) + 1
        assert counts == {k: 1 for k in [*acked, *refused]}
        await asyncio.gather(ca.close(), cb.close())

        figure(
            "Failed fsync is never acked",
            f"SQLite WAL, synchronous=FULL; after {before} acked messages every fdatasync "
            f"fails with EIO (strace fault injection) while {during} more are sent; then "
            "SIGKILL and restart without the fault",
            f"acks without commit: 0; {during}/{during} sends answered Error `unavailable`; "
            f"{before}/{before} earlier acks survive, 0 duplicates; "
            f"{len(came_back)} of the refused messages were recovered from the WAL "
            "on restart (never acked; a retry with the same client id returns them once)",
            acks_without_commit=0,
            refused=during,
            refused_recovered=len(came_back),
            recovered_keys=",".join(came_back),
        )
    finally:
        if tracer is not None:  # a traced server cannot stop cleanly: fsync fails
            srv.kill9()
            tracer.wait(15)
        srv.stop()
