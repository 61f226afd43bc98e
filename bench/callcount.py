"""Function calls per message on the real /ws path, counted (deterministic A/B).

    python -m bench.callcount [--members 20] [--pairs 10] [--messages 300] [--json FILE]
    python -m bench.callcount --compare BASE.json INTEG.json [--top 40]

Wall and CPU time on a shared machine move with the neighbours' load; call
counts do not. This runs a hubbub server in this process (uvicorn + the app,
as `tests/integration/test_chat_events.py`'s `inproc` fixture does, SQLite in
a temp dir) and its clients in a child process (`--client`, real `/ws`
connections, so none of their calls are counted). Every server thread runs
under cProfile (the event loop's and, through `threading.setprofile`, every
thread started later: the SQLite writer, `to_thread` workers). Two phases:

- `group`: one sender sends `--messages` messages, one at a time, to a group
  of `--members` members, each sent only after the previous one was accepted
  and delivered to every other member;
- `dms`: `--messages` messages over `--pairs` direct conversations, the two
  members taking turns, again one at a time.

Sending one message at a time keeps batching (the writer's group commit, the
relay's reads) the same in every run, so the counts are repeatable up to the
periodic timers (heartbeats, sweeps) that happen to fire in the window. Each
phase's stats are the difference of two snapshots, taken when the clients are
ready and after every delivery has arrived and the chat-event relay has caught
up; figures are per message. It runs against whichever hubbub is importable
(`PYTHONPATH=/other/src` for another tree); `--compare` prints the per-message
differences of two `--json` files, function by function and module by module.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from types import FrameType
from typing import Any

PHASES = ("group", "dms")
_STDLIB = re.compile(r"/lib/python3\.\d+/")
Key = str  # "module:qualname" (tree-independent) or "<builtin> name"


# --------------------------------------------------------------------------- profiling


class _Profilers:
    """One cProfile per server thread; snapshots summed over all of them."""

    def __init__(self) -> None:
        self.all: list[cProfile.Profile] = []
        self.main: cProfile.Profile | None = None
        self._lock = threading.Lock()

    def start_here(self) -> cProfile.Profile:
        p = cProfile.Profile()
        with self._lock:
            self.all.append(p)
        p.enable()
        return p

    def thread_hook(self, _frame: FrameType, _event: str, _arg: Any) -> None:
        # threading calls this as the new thread's profile function; enabling
        # cProfile replaces it, so it runs once per thread.
        self.start_here()

    def snapshot(self) -> dict[Key, tuple[int, float]]:
        """Every thread's totals so far; the snapshot's own calls are not counted."""
        if self.main is not None:
            self.main.disable()
        try:
            out: dict[Key, list[float]] = defaultdict(lambda: [0, 0.0])
            with self._lock:
                profs = list(self.all)
            for p in profs:
                for entry in p.getstats():  # type: ignore[attr-defined]
                    caller = _key(entry.code)
                    row = out[caller]
                    row[0] += entry.callcount
                    row[1] += entry.inlinetime
                    for sub in entry.calls or ():
                        out[f"{caller} -> {_key(sub.code)}"][0] += sub.callcount
            return {k: (int(v[0]), float(v[1])) for k, v in out.items()}
        finally:
            if self.main is not None:
                self.main.enable()


class _Callgrind:
    """Instruction counts instead of calls: the server runs under
    `valgrind --tool=callgrind --instr-atstart=no` (`--callgrind`, which
    re-executes this script so), and each phase is bracketed by
    `callgrind_control` zeroing, switching collection on, off and dumping.
    `callgrind_control` is run without blocking the event loop, so the
    process keeps running while valgrind's gdbserver takes the command."""

    def __init__(self) -> None:
        self.dumps: list[str] = []

    async def _ctl(self, *args: str) -> None:
        proc = await asyncio.create_subprocess_exec(
            "callgrind_control",
            *args,
            str(os.getpid()),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if await proc.wait() != 0:
            raise RuntimeError(f"callgrind_control {' '.join(args)} failed")

    async def start(self) -> None:
        await self._ctl("-z")
        await self._ctl("-i", "on")

    async def stop(self, name: str) -> None:
        await self._ctl("-i", "off")
        await self._ctl("-d", name)
        self.dumps.append(name)


def _callgrind_costs(path: Path) -> dict[str, int]:
    """Self instruction counts by "object:function" from one callgrind dump
    (`Ir` only; the cost line after a `calls=` line is the call's inclusive
    cost and is skipped)."""
    names: dict[tuple[str, str], str] = {}
    out: dict[str, int] = defaultdict(int)
    ob = fn = "?"
    skip_next = False

    def name(kind: str, rest: str) -> str:
        m = re.match(r"\((\d+)\)(?: (.*))?", rest)
        if not m:
            return rest
        if m.group(2) is not None:
            names[(kind, m.group(1))] = m.group(2)
        return names.get((kind, m.group(1)), rest)

    for line in path.read_text(errors="replace").splitlines():
        if not line:
            continue
        c = line[0]
        if c.isdigit() or c in "+-*":
            if skip_next:
                skip_next = False
                continue
            parts = line.split()
            if len(parts) >= 2:
                out[f"{Path(ob).name}:{fn}"] += int(parts[1])
            continue
        key, _, rest = line.partition("=")
        if key == "ob":
            ob = name("ob", rest)
        elif key == "fn":
            fn = name("fn", rest)
        elif key in ("cob", "cfn"):
            name(key[1:], rest)
        elif key == "calls":
            skip_next = True
    return dict(out)


def _key(code: Any) -> Key:
    if isinstance(code, str):
        return re.sub(r" at 0x[0-9a-f]+", "", code)  # the same builtin in two processes
    fn = code.co_filename.replace(os.sep, "/")
    mod = fn
    for marker in ("/site-packages/", "/src/", "/bench/"):
        if marker in fn:
            mod = ("bench/" if marker == "/bench/" else "") + fn.split(marker, 1)[1]
            break
    else:
        m = _STDLIB.search(fn)
        if m:
            mod = fn[m.end() :]
    if mod.endswith(".py"):
        mod = mod[:-3]
    mod = mod.replace("/", ".").removesuffix(".__init__")
    return f"{mod}:{getattr(code, 'co_qualname', code.co_name)}"


def _diff(
    a: dict[Key, tuple[int, float]], b: dict[Key, tuple[int, float]]
) -> dict[Key, tuple[int, float]]:
    out = {}
    for k, (n, t) in b.items():
        n0, t0 = a.get(k, (0, 0.0))
        if n - n0:
            out[k] = (n - n0, t - t0)
    return out


# --------------------------------------------------------------------------- server side


async def _serve(
    args: argparse.Namespace, profs: _Profilers | None, cg: _Callgrind | None
) -> dict[str, Any]:
    import uvicorn

    from hubbub.app import Edge, create_app
    from hubbub.config import Settings
    from hubbub.protocols.wsserver import websocket_protocol

    with tempfile.TemporaryDirectory(prefix="hubbub-callcount-") as tmp:
        wanted: dict[str, Any] = {
            "port": 0,
            "data_dir": Path(tmp) / "data",
            "node_id": "bench-callcount",
            "argon2_time_cost": 1,
            "argon2_memory_kib": 64,
            "rate_per_second": 100_000.0,
            "rate_burst": 100_000,
            "registration": "open",  # newer trees only
            "auth_rate_limit": False,  # newer trees only
        }
        for item in args.set or ():
            key, _, value = item.partition("=")
            wanted[key] = {"true": True, "false": False}.get(value.lower(), value)
        known = set(getattr(Settings, "model_fields", None) or Settings.__dataclass_fields__)
        settings = Settings(**{k: v for k, v in wanted.items() if k in known})
        app = create_app(settings)
        node = app.state.node
        config = uvicorn.Config(
            Edge(app, node),
            host="127.0.0.1",
            port=0,
            ws=websocket_protocol(),
            lifespan="on",
            log_config=None,
            access_log=False,
        )
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                raise RuntimeError("server failed to start")
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.callcount",
            "--client",
            f"http://127.0.0.1:{port}",
            "--members",
            str(args.members),
            "--pairs",
            str(args.pairs),
            "--messages",
            str(args.messages),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert child.stdin is not None and child.stdout is not None
        result: dict[str, Any] = {"messages": args.messages, "phases": {}}
        try:
            for phase in PHASES:
                line = (await asyncio.wait_for(child.stdout.readline(), 600)).decode().strip()
                if line != f"ready {phase}":
                    raise RuntimeError(f"client said {line!r}, expected 'ready {phase}'")
                await _quiet(node)
                if cg is not None:
                    if not cg.dumps:
                        # what the periodic tasks cost per second with no traffic
                        t0 = time.perf_counter()
                        await cg.start()
                        await asyncio.sleep(args.idle_s)
                        await cg.stop("idle")
                        result["idle_wall_s"] = time.perf_counter() - t0
                    await cg.start()
                before = profs.snapshot() if profs is not None else {}
                t0 = time.perf_counter()
                child.stdin.write(b"go\n")
                await child.stdin.drain()
                line = (await asyncio.wait_for(child.stdout.readline(), 600)).decode().strip()
                if line != f"done {phase}":
                    raise RuntimeError(f"client said {line!r}, expected 'done {phase}'")
                await _quiet(node)
                wall = time.perf_counter() - t0
                if cg is not None:
                    await cg.stop(phase)
                after = profs.snapshot() if profs is not None else {}
                d = _diff(before, after)
                result["phases"][phase] = {
                    "wall_s": wall,
                    "calls": {k: v[0] for k, v in d.items() if " -> " not in k},
                    "tottime": {k: v[1] for k, v in d.items() if " -> " not in k},
                    "edges": {k: v[0] for k, v in d.items() if " -> " in k},
                }
            child.stdin.write(b"go\n")
            await child.stdin.drain()
            await asyncio.wait_for(child.wait(), 60)
        finally:
            with contextlib.suppress(ProcessLookupError):
                child.kill()
            server.should_exit = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 10)
        return result


async def _quiet(node: Any, timeout: float = 60) -> None:
    """Wait until the chat-event relay has read every committed event (both trees have it).

    The head is read once (nothing is sent while this waits), so the wait adds
    one query per phase, not one per poll."""
    relay = getattr(node, "chat_relay", None)
    if relay is None or not getattr(node.settings, "chat_events_relay", True):
        return
    head = await node.stores.events.max_pos()
    deadline = time.monotonic() + timeout
    while (relay._cursor or 0) < head:
        if time.monotonic() > deadline:
            raise RuntimeError("the relay did not catch up")
        # Coarse: a relay with nobody consuming moves only every second
        # (`skip_idle_s`), and polling every 10 ms meanwhile was itself ~0.4
        # event-loop callbacks per message counted against the tree.
        await asyncio.sleep(0.25)


# --------------------------------------------------------------------------- client side


async def _client(args: argparse.Namespace) -> None:
    import httpx
    import msgspec
    from websockets.asyncio.client import ClientConnection, connect

    base = args.client
    ws_url = base.replace("http://", "ws://") + "/ws"
    inbox: dict[int, asyncio.Queue[dict[str, Any]]] = {}

    async with httpx.AsyncClient(base_url=base, timeout=60) as http:

        async def register() -> tuple[str, str]:
            name = "cc" + secrets.token_hex(6)
            r = await http.post(
                "/v1/auth/register", json={"username": name, "password": "correct horse battery"}
            )
            r.raise_for_status()
            return r.json()["user_id"], r.json()["token"]

        n_users = max(args.members, 2 * args.pairs)
        users = [await register() for _ in range(n_users)]
        conns: list[ClientConnection] = []

        async def reader(i: int, ws: ClientConnection) -> None:
            with contextlib.suppress(Exception):
                async for raw in ws:
                    await inbox[i].put(msgspec.json.decode(raw))

        readers = []
        for i, (_uid, token) in enumerate(users):
            ws = await connect(
                ws_url,
                additional_headers={"Authorization": f"Bearer {token}", "X-Device-Id": f"d{i}"},
                max_size=2**24,
                # as `python -m bench` by default: permessage-deflate is a
                # per-delivery zlib cost (a third of a group message's
                # instructions) that is the same on every tree
                compression=None,
            )
            conns.append(ws)
            inbox[i] = asyncio.Queue()
            readers.append(asyncio.create_task(reader(i, ws)))
            await _expect(inbox[i], lambda f: f.get("type") == "Authenticated")

        frame = {
            "id": "create",
            "channel": "chat/groups",
            "type": "CreateGroup",
            "data": {
                "name": "callcount",
                "member_ids": [u[0] for u in users[1 : args.members]],
                "client_request_id": "cc-" + secrets.token_hex(4),
            },
        }
        await conns[0].send(json.dumps(frame))
        ack = await _expect(inbox[0], lambda f: f.get("ref") == "create")
        if ack.get("type") != "CreateGroupAck":
            raise RuntimeError(f"CreateGroup failed: {ack}")
        group = str(ack["data"]["group_id"])
        dms = []
        for p in range(args.pairs):
            a, b = 2 * p, 2 * p + 1
            r = await http.post(
                "/v1/conversations/direct",
                json={"user_id": users[b][0]},
                headers={"Authorization": f"Bearer {users[a][1]}"},
            )
            r.raise_for_status()
            dms.append((a, b, str(r.json()["conversation_id"])))
        # setup noise (group notices, DM creation frames) must not leak into a phase
        await asyncio.sleep(0.5)
        for q in inbox.values():
            while not q.empty():
                q.get_nowait()

        async def send(n: int, sender: int, conv: str, receivers: list[int]) -> None:
            ref = f"m{n}"
            await conns[sender].send(
                json.dumps(
                    {
                        "id": ref,
                        "channel": "chat/messages/ack",
                        "type": "SendChatMessageWithClientId",
                        "data": {
                            "client_message_id": ref,
                            "conversation_id": conv,
                            "content": f"callcount message {n} " + "x" * 40,
                        },
                    }
                )
            )
            reply = await _expect(inbox[sender], lambda f: f.get("ref") == ref)
            if reply.get("type") != "ChatMessageAccepted":
                raise RuntimeError(f"send failed: {reply}")
            for r in receivers:
                await _expect(inbox[r], lambda f: f.get("type") == "ChatMessageReceived")

        await _say("ready group")
        await _wait_go()
        others = list(range(1, args.members))
        for n in range(args.messages):
            await send(n, 0, group, others)
        await _say("done group")

        await _say("ready dms")
        await _wait_go()
        for n in range(args.messages):
            a, b, conv = dms[n % len(dms)]
            s, r = (a, b) if (n // len(dms)) % 2 == 0 else (b, a)
            await send(100_000 + n, s, conv, [r])
        await _say("done dms")
        await _wait_go()  # closing the connections is not part of a phase

        for ws in conns:
            with contextlib.suppress(Exception):
                await ws.close()
        for t in readers:
            t.cancel()


async def _expect(q: asyncio.Queue[dict[str, Any]], pred: Any, timeout: float = 60) -> Any:
    async def find() -> Any:
        while True:
            f = await q.get()
            if pred(f):
                return f

    return await asyncio.wait_for(find(), timeout)


async def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def _wait_go() -> None:
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    if line.strip() != "go":
        raise RuntimeError(f"expected 'go', got {line!r}")


# --------------------------------------------------------------------------- report


def _group_of(key: Key) -> str:
    if ":" not in key or key.startswith("<"):
        return "<builtins>"
    mod = key.split(":", 1)[0]
    parts = mod.split(".")
    if parts[0] == "hubbub":
        return ".".join(parts[:3])
    return parts[0]


def _print_run(res: dict[str, Any], top: int) -> None:
    n = res["messages"]
    for phase, data in res["phases"].items():
        calls: dict[str, int] = data["calls"]
        tot: dict[str, float] = data["tottime"]
        total = sum(calls.values()) / n
        print(f"\n## {phase}: {total:.0f} calls/message, wall {data['wall_s']:.2f} s")
        for k in sorted(calls, key=lambda k: -calls[k])[:top]:
            print(f"{calls[k] / n:9.2f}  {tot[k] / n * 1e6:8.1f} us  {k}")


def _compare_instructions(a: dict[str, Any], b: dict[str, Any], top: int) -> None:
    """B-A of two `--callgrind` summaries: per message, by object and function."""
    print(f"idle: A {a['idle_ir_per_s'] / 1e6:,.1f}, B {b['idle_ir_per_s'] / 1e6:,.1f} M/s")
    for phase in PHASES:
        pa, pb = a[phase], b[phase]
        x, y = pa["ir_per_message"], pb["ir_per_message"]
        print(
            f"\n## {phase}: k instructions/message A {x / 1e3:,.1f}, B {y / 1e3:,.1f}, "
            f"B-A {(y - x) / 1e3:+,.1f} ({(y - x) / x:+.1%}); less idle: A "
            f"{pa['ir_per_message_less_idle'] / 1e3:,.1f}, "
            f"B {pb['ir_per_message_less_idle'] / 1e3:,.1f}"
        )
        for part in ("by_object", "by_function"):
            da: dict[str, float] = pa[part]
            db: dict[str, float] = pb[part]
            keys = sorted(set(da) | set(db), key=lambda k: -abs(db.get(k, 0) - da.get(k, 0)))
            print(f"\n   {part.replace('_', ' ')} (k instructions/message): A, B, B-A")
            for k in keys[:top]:
                u, v = da.get(k, 0.0), db.get(k, 0.0)
                if abs(v - u) >= 100:
                    print(f"   {u / 1e3:9.1f} {v / 1e3:9.1f} {(v - u) / 1e3:+9.1f}  {k}")


def _compare(a: dict[str, Any], b: dict[str, Any], top: int) -> None:
    if "idle_ir_per_s" in a:
        _compare_instructions(a, b, top)
        return
    na, nb = a["messages"], b["messages"]
    for phase in PHASES:
        ca: dict[str, int] = a["phases"][phase]["calls"]
        cb: dict[str, int] = b["phases"][phase]["calls"]
        ta: dict[str, float] = a["phases"][phase]["tottime"]
        tb: dict[str, float] = b["phases"][phase]["tottime"]
        sa, sb = sum(ca.values()) / na, sum(cb.values()) / nb
        print(f"\n## {phase}: total calls/message A {sa:.1f}, B {sb:.1f}, B-A {sb - sa:+.1f}")
        print(
            f"   tottime us/message (profiled, indicative) A {sum(ta.values()) / na * 1e6:.0f}"
            f", B {sum(tb.values()) / nb * 1e6:.0f}"
        )
        ga: dict[str, float] = defaultdict(float)
        gb: dict[str, float] = defaultdict(float)
        for k, v in ca.items():
            ga[_group_of(k)] += v / na
        for k, v in cb.items():
            gb[_group_of(k)] += v / nb
        print("\n   by module (calls/message): A, B, B-A")
        mods = sorted(set(ga) | set(gb), key=lambda m: -abs(gb[m] - ga[m]))
        for m in mods[:top]:
            if abs(gb[m] - ga[m]) >= 0.05:
                print(f"   {ga[m]:9.2f} {gb[m]:9.2f} {gb[m] - ga[m]:+9.2f}  {m}")
        print("\n   by function (calls/message): A, B, B-A, B tottime us/message")
        keys = sorted(set(ca) | set(cb), key=lambda k: -abs(cb.get(k, 0) / nb - ca.get(k, 0) / na))
        for k in keys[:top]:
            x, y = ca.get(k, 0) / na, cb.get(k, 0) / nb
            if abs(y - x) >= 0.05:
                print(f"   {x:9.2f} {y:9.2f} {y - x:+9.2f} {tb.get(k, 0.0) / nb * 1e6:8.1f}  {k}")
        print("\n   hubbub functions only (calls/message): A, B, B-A, B tottime us/message")
        for k in keys:
            x, y = ca.get(k, 0) / na, cb.get(k, 0) / nb
            if k.startswith("hubbub") and abs(y - x) >= 0.1:
                print(f"   {x:9.2f} {y:9.2f} {y - x:+9.2f} {tb.get(k, 0.0) / nb * 1e6:8.1f}  {k}")


# --------------------------------------------------------------------------- callgrind


def _run_callgrind(args: argparse.Namespace) -> int:
    """Re-run this script's server under callgrind, then sum each phase's dump.

    Instruction counts repeat for the same tree and inputs whatever the
    neighbours do, but valgrind runs the server some 50x slower, so the
    periodic tasks fire 50x more often per message than they would natively:
    the `idle` window measures them per wall second, and each phase's figure
    is reported with and without that rate times the phase's wall time."""
    out: Path = args.callgrind
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("callgrind.out.*"):
        old.unlink()
    raw = out / "run.json"
    cmd = [
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        "--dump-instr=no",
        f"--callgrind-out-file={out}/callgrind.out.%p",
        sys.executable,
        "-m",
        "bench.callcount",
        "--under-callgrind",
        "--json",
        str(raw),
        "--members",
        str(args.members),
        "--pairs",
        str(args.pairs),
        "--messages",
        str(args.messages),
        "--idle-s",
        str(args.idle_s),
        *(f"--set={item}" for item in args.set or ()),
    ]
    subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)
    res = json.loads(raw.read_text())
    dumps = sorted(out.glob("callgrind.out.*.*"), key=lambda p: int(p.name.rsplit(".", 1)[1]))
    names = ["idle", *PHASES]
    if len(dumps) < len(names):
        raise RuntimeError(f"expected {len(names)} dumps in {out}, found {len(dumps)}")
    costs = {n: _callgrind_costs(d) for n, d in zip(names, dumps[-len(names) :], strict=True)}
    idle_rate = sum(costs["idle"].values()) / res["idle_wall_s"]
    summary: dict[str, Any] = {"idle_ir_per_s": idle_rate, "messages": args.messages}
    print(f"idle: {idle_rate / 1e6:,.1f} M instructions per wall second")
    for phase in PHASES:
        total = sum(costs[phase].values())
        wall = res["phases"][phase]["wall_s"]
        per = total / args.messages
        net = (total - idle_rate * wall) / args.messages
        by_obj: dict[str, int] = defaultdict(int)
        for k, v in costs[phase].items():
            by_obj[k.split(":", 1)[0]] += v
        summary[phase] = {
            "ir_per_message": per,
            "ir_per_message_less_idle": net,
            "wall_s": wall,
            "by_object": {k: v / args.messages for k, v in by_obj.items()},
            "by_function": {k: v / args.messages for k, v in costs[phase].items()},
        }
        print(
            f"{phase}: {per / 1e3:,.0f} k instructions per message "
            f"({net / 1e3:,.0f} k less the idle rate over {wall:.1f} s)"
        )
        for k, v in sorted(by_obj.items(), key=lambda kv: -kv[1])[:8]:
            print(f"   {v / args.messages / 1e3:10,.1f} k  {k}")
    (out / "summary.json").write_text(json.dumps(summary))
    return 0


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m bench.callcount", description=__doc__.split("\n")[0]
    )
    ap.add_argument("--members", type=int, default=20)
    ap.add_argument("--pairs", type=int, default=10)
    ap.add_argument("--messages", type=int, default=300)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--client", help=argparse.SUPPRESS)
    ap.add_argument("--compare", nargs=2, type=Path, metavar=("A.json", "B.json"))
    ap.add_argument(
        "--callgrind",
        type=Path,
        metavar="DIR",
        help="count instructions under valgrind instead (dumps and a summary in DIR)",
    )
    ap.add_argument("--idle-s", type=float, default=10.0, help="idle window under --callgrind")
    ap.add_argument("--under-callgrind", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="a server setting for the run, e.g. chat_events_relay=false (repeatable)",
    )
    args = ap.parse_args(argv)
    if args.compare:
        a, b = (json.loads(p.read_text()) for p in args.compare)
        _compare(a, b, args.top)
        return 0
    if args.client:
        asyncio.run(_client(args))
        return 0
    if args.callgrind:
        return _run_callgrind(args)
    if args.under_callgrind:
        res = asyncio.run(_serve(args, None, _Callgrind()))
        args.json.write_text(json.dumps(res))
        return 0
    profs = _Profilers()
    threading.setprofile(profs.thread_hook)
    profs.main = profs.start_here()
    res = asyncio.run(_serve(args, profs, None))
    threading.setprofile(None)  # type: ignore[arg-type]
    import hubbub

    res["hubbub"] = str(Path(hubbub.__file__).parent)
    _print_run(res, args.top)
    if args.json:
        args.json.write_text(json.dumps(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
