"""Ad-hoc fan-out runs: one group, N members, S senders, every figure printed.

    python -m bench.fanout [--members N] [--senders S] [--rate R | --max]
                           [--duration SECONDS | --messages M] [--window W]
                           [--db sqlite|postgres|both] [--nodes K]
                           [--target hubbub|python|node] [--json]

The same engine as `python -m bench` (bench/traffic.py), for exploring one
shape at a time: one target, one phase, and the detailed view of the run
(ack latency, load CPU, group commits, what ran out first). The harness's
scenario (a) is this with 1 sender and 1,000 members, against every target.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from bench.loadgen import uvloop_run
from bench.report import render_run
from bench.sysinfo import plan_pinning, raise_nofile
from bench.targets import NATS_URL, PG_ADMIN_URL, Hubbub, Peer, Target
from bench.traffic import Phase, Plan, RunResult, run

__all__ = ["main"]


def _args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__.split("\n")[0])
    p.add_argument("--members", type=int, default=200, help="group size, senders included")
    p.add_argument("--senders", type=int, default=2)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--rate", type=float, help="messages/s per sender")
    g.add_argument("--max", action="store_true", help="as fast as acks allow (default)")
    p.add_argument("--duration", type=float, default=10.0, help="seconds of sending")
    p.add_argument("--messages", type=int, help="messages per sender (instead of --duration)")
    p.add_argument("--window", type=int, default=32, help="unacked sends per sender")
    p.add_argument("--payload", type=int, default=64, help="content characters")
    p.add_argument("--target", choices=("hubbub", "python", "node"), default="hubbub")
    p.add_argument("--db", choices=("sqlite", "postgres", "both"), default="sqlite")
    p.add_argument("--nodes", type=int, default=1, help=">1: PostgreSQL + NATS cluster")
    p.add_argument("--workers", type=int, help="load processes (default: one per load core)")
    p.add_argument("--no-pin", action="store_true", help="do not pin server and load to cores")
    p.add_argument("--deflate", action="store_true", help="clients offer permessage-deflate")
    p.add_argument(
        "--connect-after-group",
        action="store_true",
        help="create the group first, then connect (measures the presence storm)",
    )
    p.add_argument("--default-limits", action="store_true", help="keep hubbub's rate limits")
    p.add_argument("--pg", default=PG_ADMIN_URL, help="PostgreSQL admin URL")
    p.add_argument("--nats", default=NATS_URL, help="NATS URL for --nodes > 1")
    p.add_argument("--json", action="store_true", help="one JSON object per run on stdout")
    ns = p.parse_args(argv)
    if not 1 <= ns.senders < ns.members:
        p.error("need 1 <= senders < members")
    if ns.nodes > 1 and ns.db == "sqlite":
        p.error("--nodes > 1 needs --db postgres (and NATS)")
    return ns


def _targets(ns: argparse.Namespace) -> list[Target]:
    if ns.target != "hubbub":
        return [Peer(ns.target)]
    dbs = ["sqlite", "postgres"] if ns.db == "both" else [ns.db]
    return [
        Hubbub(
            db=db,
            nodes=ns.nodes,
            pg_admin_url=ns.pg,
            nats_url=ns.nats,
            default_limits=ns.default_limits,
            name=f"hubbub ({db}{f', {ns.nodes} nodes' if ns.nodes > 1 else ''})",
        )
        for db in dbs
    ]


def main(argv: Sequence[str] | None = None) -> list[RunResult]:
    ns = _args(argv)
    raise_nofile()
    pinning = plan_pinning(not ns.no_pin)
    label = f"{ns.rate:g} msg/s per sender" if ns.rate else f"max (window {ns.window})"
    plan = Plan(
        ns.members,
        [list(range(ns.members))],
        list(range(ns.senders)),
        [Phase(label, ns.rate, ns.window, ns.duration, ns.messages)],
        payload=ns.payload,
        rooms_first=ns.connect_after_group,
        deflate=ns.deflate,
    )
    workers = ns.workers or (max(1, len(pinning.load)) if pinning.load else 2)

    def log(msg: str) -> None:
        if not ns.json:
            print(f"  .. {msg}", file=sys.stderr, flush=True)

    out = []
    for target in _targets(ns):
        r = uvloop_run(run(target, plan, pinning, workers, log))
        out.append(r)
        print(json.dumps(asdict(r)) if ns.json else render_run(r), flush=True)
    return out


if __name__ == "__main__":
    results: list[Any] = main()
    sys.exit(0 if all(r.ok for r in results) else 1)
