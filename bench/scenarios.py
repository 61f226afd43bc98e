"""The five scenarios of issue 5, at their documented sizes or a smoke size.

    (a) fanout  1 sender -> one group of 1,000 members: a fixed rate giving
                ~10,000 deliveries/s, then as fast as the sender's window allows
    (b) dms     2,000 connections in 1,000 direct conversations, both members
                of each sending: 0.5 msg/s each (1,000 msg/s), then max
    (c) idle    10,000 idle connections (authenticated, for hubbub), held 10 s
    (d) store   store inserts through group commit, SQLite and PostgreSQL
    (e) nodes   (a)'s shape with 4 senders on PostgreSQL + NATS: 2 nodes vs 1

(a)-(c) run against hubbub (SQLite) and the bare peers, in that order, with
the same plan; (d) and (e) are hubbub alone (the peers store nothing and
have no cluster). `smoke=True` shrinks everything to a few connections and
0.3 s per phase: the test suite runs that so the harness cannot rot.
"""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from bench.report import Check, ScenarioResult, Table, num, ratio, traffic_table
from bench.store_insert import StoreResult, run_store
from bench.sysinfo import Pinning, plan_pinning
from bench.targets import NATS_URL, PG_ADMIN_URL, Hubbub, Peer, Target, TargetUnavailable
from bench.traffic import Log, Phase, Plan, RunResult, run

__all__ = ["ALIASES", "SCENARIOS", "Options", "run_scenario"]

TARGETS = ("hubbub", "python", "node")


@dataclass
class Options:
    smoke: bool = False
    targets: tuple[str, ...] = TARGETS  # which of hubbub / python / node run (a)-(c)
    pin: bool = True
    workers: int | None = None  # load processes; default one per load core
    conns: int | None = None  # override a scenario's connection count
    duration: float | None = None  # override seconds per phase (per path for the store)
    db: str = "sqlite"  # hubbub's database in (a)-(c)
    pg_admin_url: str = PG_ADMIN_URL
    nats_url: str = NATS_URL
    log: Log | None = None

    def pinning(self) -> Pinning:
        return plan_pinning(self.pin)

    def nworkers(self, pinning: Pinning) -> int:
        if self.workers:
            return self.workers
        return max(1, len(pinning.load)) if pinning.load else 2

    def phase_s(self, full: float) -> float:
        return self.duration or (0.3 if self.smoke else full)

    def make(self, target: str) -> Target:
        if target == "hubbub":
            return Hubbub(db=self.db, pg_admin_url=self.pg_admin_url)
        return Peer(target)


async def _traffic(opts: Options, plan: Plan, targets: list[Target]) -> list[RunResult]:
    """The same plan against each target in turn (never two servers at once)."""
    pinning = opts.pinning()
    return [await run(t, plan, pinning, opts.nworkers(pinning), opts.log) for t in targets]


def _finish(s: ScenarioResult, runs: list[RunResult]) -> ScenarioResult:
    s.raw = [asdict(r) for r in runs]
    s.ok = all(r.ok or r.skipped for r in runs)
    for r in runs:
        if r.skipped:
            s.notes.append(f"{r.target} skipped: {r.skipped}")
        elif r.error:
            s.notes.append(f"{r.target} failed: {r.error}")
        s.notes += [f"{r.target}: {n}" for n in r.notes]
        for p in r.phases:
            if p.echoed_to_sender:
                s.notes.append(
                    f"{r.target} {p.label}: {p.echoed_to_sender} messages pushed back to the"
                    " connection that sent them (not counted as deliveries)"
                )
            if not p.ok:
                s.notes.append(
                    f"{r.target} {p.label}: NOT CLEAN: delivered {p.delivered} of {p.expected},"
                    f" lost {p.lost}, dup {p.late_or_duplicate}, reordered {p.seq_out_of_order},"
                    f" send errors {p.error_codes or 0}, closed {p.close_reasons or 0}"
                )
        if r.server_log_problems:
            s.notes.append(f"{r.target} server logged: {r.server_log_problems[0]}")
    return s


def _find(runs: list[RunResult], name: str, phase: int) -> RunResult | None:
    for r in runs:
        if r.target == name and not r.skipped and not r.error and len(r.phases) > phase:
            return r
    return None


# --------------------------------------------------------------------------- (a) fan-out
async def fanout(opts: Options) -> ScenarioResult:
    n = opts.conns or (6 if opts.smoke else 1000)
    rate = 20.0 if opts.smoke else round(10_000 / (n - 1), 2)
    dur = opts.phase_s(10)
    fixed = Phase(f"fixed rate: {rate:g} msg/s = {rate * (n - 1):,.0f} deliveries/s", rate, 32, dur)
    plan = Plan(n, [list(range(n))], [0], [fixed, Phase("max rate (window 32)", None, 32, dur)])
    s = ScenarioResult(
        "a",
        "fanout",
        f"fan-out: 1 sender -> group of {n:,} members",
        f"{n:,} connections in one room (a group for hubbub); connection 0 sends {dur:g} s "
        f"at {rate:g} msg/s, then {dur:g} s as fast as 32 unacked messages allow.",
    )
    runs = await _traffic(opts, plan, [opts.make(t) for t in opts.targets])
    s.tables = [traffic_table(p.label, runs, i) for i, p in enumerate(plan.phases)]
    hub = _find(runs, "hubbub", 1)
    for peer, goal in (("py-websockets", 0.5), ("node-ws", 0.25)):
        other = _find(runs, peer, 1)
        if hub and other and other.phases[1].delivered_per_s:
            got = hub.phases[1].delivered_per_s / other.phases[1].delivered_per_s
            s.checks.append(
                Check(
                    f"max-rate delivered/s vs {peer}", f"{got:.2f}x", f">= {goal:.2f}x", got >= goal
                )
            )
        else:
            s.checks.append(Check(f"max-rate delivered/s vs {peer}", "-", f">= {goal:.2f}x", None))
    hub = _find(runs, "hubbub", 0)
    if hub:
        p = hub.phases[0]
        s.checks.append(
            Check(
                f"p99 send->receive at {p.delivered_per_s:,.0f} deliveries/s",
                f"{p.latency_ms['p99']:.1f} ms",
                "< 20 ms at 10,000/s",
                p.latency_ms["p99"] < 20,
            )
        )
    return _finish(s, runs)


# --------------------------------------------------------------------------- (b) DMs
async def dms(opts: Options) -> ScenarioResult:
    n = opts.conns or (6 if opts.smoke else 2000)
    n -= n % 2
    rate = 10.0 if opts.smoke else 0.5
    dur = opts.phase_s(10)
    pairs = [[i, i + 1] for i in range(0, n, 2)]
    phases = [
        Phase(f"fixed rate: {rate:g} msg/s per connection = {rate * n:,.0f} msg/s", rate, 8, dur),
        Phase("max rate (window 4 per connection)", None, 4, dur),
    ]
    plan = Plan(n, pairs, list(range(n)), phases)
    s = ScenarioResult(
        "b",
        "dms",
        f"many small DMs: {n:,} connections in pairs",
        f"{n // 2:,} rooms of 2 (direct conversations for hubbub); both members of every "
        f"pair send to each other, {dur:g} s at {rate:g} msg/s each, then {dur:g} s max.",
    )
    runs = await _traffic(opts, plan, [opts.make(t) for t in opts.targets])
    s.tables = [traffic_table(p.label, runs, i) for i, p in enumerate(plan.phases)]
    return _finish(s, runs)


# --------------------------------------------------------------------------- (c) idle
async def idle(opts: Options) -> ScenarioResult:
    n = opts.conns or (20 if opts.smoke else 10_000)
    hold = 0.3 if opts.smoke else 10.0
    s = ScenarioResult(
        "c",
        "idle",
        f"idle capacity: {n:,} connections",
        f"{n:,} connections (hubbub: each a registered user, authenticated on /ws with a "
        f"bearer token), opened 64 at a time per load process, then held idle {hold:g} s.",
    )
    runs = await _traffic(opts, Plan(n, hold_s=hold), [opts.make(t) for t in opts.targets])
    s.tables = [_idle_table(runs)]
    hub = next((r for r in runs if r.target == "hubbub" and not r.error and not r.skipped), None)
    if hub:
        s.checks.append(Check("connections held", f"{hub.held:,}/{n:,}", f"{n:,}", hub.held == n))
        s.checks.append(
            Check(
                "server RSS per idle authenticated connection",
                f"{hub.rss_per_conn_kib:.1f} KiB",
                "< 40 KiB",
                hub.rss_per_conn_kib < 40,
            )
        )
    return _finish(s, runs)


def _idle_table(runs: list[RunResult]) -> Table:
    ok = [r for r in runs if not r.skipped and not r.error]
    hub = next((r for r in ok if r.target == "hubbub"), None)
    peers = [r for r in ok if r is not hub] if hub else []
    figures: list[tuple[str, Callable[[RunResult], float], int]] = [
        ("connections held", lambda r: r.held, 0),
        ("server RSS KiB per idle connection", lambda r: r.rss_per_conn_kib, 1),
        ("server RSS MiB, all connected", lambda r: r.rss_connected_kib / 1024, 1),
        ("connect time s", lambda r: r.connect_s, 2),
        ("connects/s", lambda r: r.conns / (r.connect_s or 1e-9), 0),
    ]
    rows = []
    for name, fig, digits in figures:
        row = [name]
        for r in runs:
            row.append(num(fig(r), digits) if r in ok else "-")
        for p in peers:
            assert hub is not None
            row.append(ratio(fig(hub), fig(p)))
        rows.append(row)
    return Table(
        "idle connections",
        [r.target for r in runs] + [f"hubbub/{p.target}" for p in peers],
        rows,
    )


# --------------------------------------------------------------------------- (d) store
async def store(opts: Options) -> ScenarioResult:
    producers = 8 if opts.smoke else 256
    dur = opts.duration or (0.3 if opts.smoke else 5.0)
    s = ScenarioResult(
        "d",
        "store",
        "store insert throughput (group commit), SQLite and PostgreSQL",
        f"In one process on the server cores: {producers} concurrent producers insert "
        f"messages into one group for {dur:g} s, each waiting for its commit; `store` is "
        f"`MessageStore.append_message`, `service` the core send path `Messages.send_text`.",
    )
    pinning = opts.pinning()
    results: list[StoreResult] = []
    for db in ("sqlite", "postgres"):
        if opts.log:
            opts.log(f"store: {db}, {producers} producers, {dur:g}s per path")
        try:
            got = await run_store(db, producers, dur, pinning, opts.pg_admin_url)
        except TargetUnavailable as exc:
            s.notes.append(f"{db} skipped: {exc}")
            continue
        except Exception as exc:
            s.notes.append(f"{db} failed: {type(exc).__name__}: {exc}")
            s.ok = False
            continue
        for r in got:
            if opts.log:
                opts.log(f"store: {db} {r.path}: {r.inserts_per_s:,.0f} inserts/s {r.error}")
            if r.error:
                s.notes.append(f"{db} {r.path} failed: {r.error}")
            elif r.errors:
                s.notes.append(f"{db} {r.path}: insert errors {r.errors}")
        results += got
    s.ok = s.ok and all(r.ok for r in results)
    s.raw = [asdict(r) for r in results]
    s.tables = [_store_table(results)] if results else []
    s.notes.append("no peer figures: the bare peers store nothing")
    sqlite = next((r for r in results if r.db == "sqlite" and r.path == "store" and r.ok), None)
    s.checks.append(
        Check(
            "SQLite store inserts/s through group commit",
            f"{sqlite.inserts_per_s:,.0f}/s" if sqlite else "-",
            ">= 20,000/s",
            sqlite.inserts_per_s >= 20_000 if sqlite else None,
        )
    )
    return s


def _store_table(results: list[StoreResult]) -> Table:
    label = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
    figures: list[tuple[str, Callable[[StoreResult], float], int]] = [
        ("inserts/s", lambda r: r.inserts_per_s, 0),
        ("insert (submit -> committed) p50 ms", lambda r: r.insert_ms.get("p50", 0.0), 2),
        ("insert p99 ms", lambda r: r.insert_ms.get("p99", 0.0), 2),
        ("insert max ms", lambda r: r.insert_ms.get("max", 0.0), 2),
        ("inserts per commit", lambda r: r.units_per_commit, 1),
        ("process CPU % of a core", lambda r: r.cpu_pct, 0),
        ("process CPU s per 10k inserts", lambda r: r.cpu_s_per_10k, 3),
        ("PostgreSQL CPU s", lambda r: r.postgres_cpu_s, 2),
    ]
    rows = [
        [name, *[num(fig(r), d) if r.ok else "failed" for r in results]] for name, fig, d in figures
    ]
    return Table(
        "inserts through the group-commit writer",
        [f"{label[r.db]} {r.path}" for r in results],
        rows,
    )


# --------------------------------------------------------------------------- (e) nodes
async def nodes(opts: Options) -> ScenarioResult:
    n = opts.conns or (6 if opts.smoke else 1000)
    senders = 2 if opts.smoke else 4
    dur = opts.phase_s(10)
    plan = Plan(
        n, [list(range(n))], list(range(senders)), [Phase("max rate (window 16)", None, 16, dur)]
    )
    s = ScenarioResult(
        "e",
        "nodes",
        "two nodes vs one on PostgreSQL + NATS",
        f"{n:,} members of one group, spread round-robin over the nodes; {senders} senders "
        f"(on alternate nodes) send {dur:g} s as fast as 16 unacked messages each allow. "
        f"Both runs use PostgreSQL and NATS JetStream; only the node count differs.",
    )
    pinning = opts.pinning()
    s.notes.append(
        f"{pinning.describe()}; PostgreSQL and NATS unpinned. With one server core both "
        "nodes share it, so this shows the cluster's cost, not scale-out."
        if pinning.server is not None and len(pinning.server) < 2
        else pinning.describe()
    )
    try:
        _probe_nats(opts.nats_url)
    except OSError as exc:
        s.notes.append(f"skipped: NATS unreachable at {opts.nats_url}: {exc!r}")
        return s
    targets: list[Target] = [
        Hubbub(
            db="postgres",
            nodes=k,
            nats=True,
            name=f"{k} node{'s' if k > 1 else ''}",
            pg_admin_url=opts.pg_admin_url,
            nats_url=opts.nats_url,
        )
        for k in (1, 2)
    ]
    runs = await _traffic(opts, plan, targets)
    s.tables = [traffic_table(plan.phases[0].label, runs, 0, ref="2 nodes")]
    one, two = _find(runs, "1 node", 0), _find(runs, "2 nodes", 0)
    if one and two and one.phases[0].delivered_per_s:
        got = two.phases[0].delivered_per_s / one.phases[0].delivered_per_s
        s.checks.append(Check("2 nodes / 1 node delivered/s", f"{got:.2f}x", ">= 1.6x", got >= 1.6))
    else:
        s.checks.append(Check("2 nodes / 1 node delivered/s", "-", ">= 1.6x", None))
    return _finish(s, runs)


def _probe_nats(url: str) -> None:
    """NATS answers with an INFO line that says whether JetStream is on."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 4222), 2) as sock:
        line = sock.makefile("rb").readline()
    if not line.startswith(b"INFO ") or b'"jetstream":true' not in line.replace(b" ", b""):
        raise ConnectionError(f"not NATS with JetStream: {line[:60]!r}")


# --------------------------------------------------------------------------- registry
SCENARIOS: dict[str, Callable[[Options], Awaitable[ScenarioResult]]] = {
    "fanout": fanout,
    "dms": dms,
    "idle": idle,
    "store": store,
    "nodes": nodes,
}
ALIASES = {"a": "fanout", "b": "dms", "c": "idle", "d": "store", "e": "nodes"}


async def run_scenario(name: str, opts: Options) -> ScenarioResult:
    return await SCENARIOS[ALIASES.get(name, name)](opts)
