"""`python -m bench [SCENARIO ...]`: the issue-5 harness, one command.

    python -m bench                   # every scenario at its documented size
    python -m bench a c --no-pin      # fan-out and idle capacity only, unpinned
    python -m bench fanout --conns 200 --duration 3 --targets hubbub,python
    python -m bench all --record      # what `make bench` runs: appends to docs/performance.md
    python -m bench all --smoke       # a few connections, half a second per phase

Progress goes to stderr, the tables to stdout. Exit status 0 when every run
was clean (nothing lost, duplicated, reordered or cut off), 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bench.loadgen import uvloop_run
from bench.report import ScenarioResult, record, text
from bench.scenarios import ALIASES, SCENARIOS, TARGETS, Options, run_scenario
from bench.sysinfo import machine_busy_s, machine_summary, raise_nofile, server_source
from bench.targets import NATS_URL, PG_ADMIN_URL

__all__ = ["main"]

DOC = Path(__file__).resolve().parent.parent / "docs" / "performance.md"


_T0 = time.monotonic()


def _log(msg: str) -> None:
    print(f"  .. [{time.monotonic() - _T0:6.1f}s] {msg}", file=sys.stderr, flush=True)


def parse(argv: Sequence[str] | None) -> tuple[list[str], Options, argparse.Namespace]:
    p = argparse.ArgumentParser(
        prog="python -m bench", description=(__doc__ or "").split("\n", 1)[0]
    )
    known = ", ".join(f"{k}|{v}" for k, v in ALIASES.items())
    p.add_argument("scenarios", nargs="*", help=f"{known} or all (default: all)")
    p.add_argument("--scenario", action="append", default=[], help="same as the positional")
    p.add_argument(
        "--targets",
        default=",".join(TARGETS),
        help="comma-separated subset of hubbub,python,node for (a)-(c) (default: all three)",
    )
    p.add_argument("--smoke", action="store_true", help="tiny sizes (the test suite's run)")
    p.add_argument("--conns", type=int, help="override the connection count of (a)-(c), (e)")
    p.add_argument("--duration", type=float, help="override the seconds per phase")
    p.add_argument("--workers", type=int, help="load processes (default: one per load core)")
    p.add_argument("--no-pin", action="store_true", help="do not pin server and load to cores")
    p.add_argument(
        "--db", choices=("sqlite", "postgres"), default="sqlite", help="hubbub's db in (a)-(c)"
    )
    p.add_argument("--pg", default=PG_ADMIN_URL, help="PostgreSQL admin URL (HUBBUB_BENCH_PG)")
    p.add_argument("--nats", default=NATS_URL, help="NATS URL for (e) (HUBBUB_BENCH_NATS)")
    p.add_argument(
        "--record", action="store_true", help="append a dated section to docs/performance.md"
    )
    p.add_argument("--record-to", metavar="FILE", help="append that section to FILE instead")
    p.add_argument("--json", metavar="FILE", help="also write every raw figure to FILE")
    ns = p.parse_args(argv)
    wanted = [*ns.scenarios, *ns.scenario] or ["all"]
    names: list[str] = []
    for w in wanted:
        if w == "all":
            names += list(SCENARIOS)
        elif ALIASES.get(w, w) in SCENARIOS:
            names.append(ALIASES.get(w, w))
        else:
            p.error(f"unknown scenario {w!r} (choose from {known} or all)")
    targets = tuple(t.strip() for t in ns.targets.split(",") if t.strip())
    if bad := [t for t in targets if t not in TARGETS]:
        p.error(f"unknown target(s) {bad}; choose from {','.join(TARGETS)}")
    opts = Options(
        smoke=ns.smoke,
        targets=targets,
        pin=not ns.no_pin,
        workers=ns.workers,
        conns=ns.conns,
        duration=ns.duration,
        db=ns.db,
        pg_admin_url=ns.pg,
        nats_url=ns.nats,
        log=_log,
    )
    return list(dict.fromkeys(names)), opts, ns


async def run_all(names: Sequence[str], opts: Options) -> list[ScenarioResult]:
    out = []
    for name in names:
        t = time.monotonic()
        s = await run_scenario(name, opts)
        _log(f"({s.key}) {s.name} took {time.monotonic() - t:.0f}s")
        print(text(s), flush=True)
        out.append(s)
    return out


def _command(argv: Sequence[str]) -> str:
    cmd = " ".join(["python -m bench", *argv])
    return f"make bench  (= {cmd})" if os.environ.get("MAKELEVEL") else cmd


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    names, opts, ns = parse(args)
    soft, hard = raise_nofile()
    pinning = opts.pinning()
    machine = machine_summary()
    _log(f"machine: {machine}")
    _log(f"open files limit {soft} (hard {hard}); {pinning.describe()}")
    b0, t0 = machine_busy_s(), time.monotonic()
    results = uvloop_run(run_all(names, opts))
    busy = (machine_busy_s() - b0) / (time.monotonic() - t0)
    ok = all(s.ok for s in results)
    if ns.json:
        Path(ns.json).write_text(json.dumps([s.raw for s in results], indent=1, default=str))
    if ns.record or ns.record_to:
        where = Path(ns.record_to or DOC)
        record(
            where,
            results,
            command=_command(args),
            machine=machine,
            pinning=pinning.describe(),
            source=server_source(),
            busy_note=f"The machine averaged {busy:.2f} busy cores over the whole run.",
        )
        _log(f"appended to {where}")
    if not ok:
        print("!!! at least one run was not clean; see above", file=sys.stderr)
    return 0 if ok else 1
