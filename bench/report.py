"""Tables, ratios and the record in docs/performance.md.

Every scenario reports figures per target in one table (figures as rows,
targets as columns) followed by `hubbub/<peer>` ratio columns: hubbub's
figure divided by the peer's, from the same run on the same machine. A
throughput ratio below 1 means hubbub delivers less; a latency, CPU or
memory ratio above 1 means hubbub costs more.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.traffic import PhaseResult, RunResult

__all__ = [
    "Check",
    "ScenarioResult",
    "Table",
    "markdown",
    "record",
    "render_run",
    "text",
    "traffic_table",
]


@dataclass
class Table:
    title: str
    columns: list[str]  # after the first ("figure") column
    rows: list[list[str]]  # first cell: the figure's name


@dataclass
class Check:
    """One of the issue's targets, evaluated on this run's figures."""

    what: str
    value: str
    goal: str
    met: bool | None  # None: not measured in this run


@dataclass
class ScenarioResult:
    key: str  # "a".."e"
    name: str  # "fanout"...
    title: str
    workload: str  # what ran, in one line
    tables: list[Table] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    raw: list[dict[str, object]] = field(default_factory=list)
    ok: bool = True


# --------------------------------------------------------------------------- numbers
def num(v: float, digits: int = 1) -> str:
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.{digits}f}"


def ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or not b:
        return "-"
    return f"{a / b:.2f}x"


Figure = Callable[[RunResult, PhaseResult], float]
TRAFFIC_FIGURES: list[tuple[str, Figure, int]] = [
    ("delivered msg/s", lambda r, p: p.delivered_per_s, 0),
    ("sent (acked) msg/s", lambda r, p: p.sent_per_s, 0),
    ("send->receive p50 ms", lambda r, p: p.latency_ms["p50"], 2),
    ("send->receive p99 ms", lambda r, p: p.latency_ms["p99"], 2),
    ("send->receive max ms", lambda r, p: p.latency_ms["max"], 2),
    ("server CPU s per 10k deliveries", lambda r, p: p.cpu_s_per_10k, 3),
    ("server RSS KiB per idle connection", lambda r, p: r.rss_per_conn_kib, 1),
]


def _status(r: RunResult) -> str:
    return f"skipped: {r.skipped}" if r.skipped else f"failed: {r.error}"


def traffic_table(title: str, runs: Sequence[RunResult], phase: int, ref: str = "hubbub") -> Table:
    """One phase of a traffic scenario: a column per target, then `ref`/other ratios."""
    hub = next((r for r in runs if r.target == ref), None)
    peers = [r for r in runs if r is not hub]
    ratio_peers = [p for p in peers if _has(p, phase)] if hub and _has(hub, phase) else []
    columns = [r.target for r in runs] + [f"{ref}/{p.target}" for p in ratio_peers]
    rows: list[list[str]] = []
    for name, fig, digits in TRAFFIC_FIGURES:
        row = [name]
        for r in runs:
            row.append(num(fig(r, r.phases[phase]), digits) if _has(r, phase) else "-")
        for p in ratio_peers:
            assert hub is not None
            row.append(ratio(fig(hub, hub.phases[phase]), fig(p, p.phases[phase])))
        rows.append(row)
    lost, limit = ["lost / dup / reordered"], ["what ran out first"]
    for r in runs:
        if _has(r, phase):
            ph = r.phases[phase]
            lost.append(f"{ph.lost} / {ph.late_or_duplicate} / {ph.seq_out_of_order}")
            limit.append(ph.limit)
        else:
            lost.append(_status(r)[:60])
            limit.append("-")
    blank = [""] * len(ratio_peers)
    rows += [lost + blank, limit + blank]
    return Table(title, columns, rows)


def _has(r: RunResult, phase: int) -> bool:
    return not r.skipped and not r.error and len(r.phases) > phase


# --------------------------------------------------------------------------- rendering
def text(s: ScenarioResult) -> str:
    """A scenario for the terminal: aligned tables, checks, notes."""
    out = [f"== ({s.key}) {s.title}", f"   {s.workload}"]
    for t in s.tables:
        out.append(f"-- {t.title}")
        header = ["figure", *t.columns]
        cells = [header, *t.rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
        for row in cells:
            first = row[0].ljust(widths[0])
            rest = "  ".join(c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True))
            out.append(f"   {first}  {rest}")
    for c in s.checks:
        out.append(f"   target: {c.what}: {c.value} (goal {c.goal}) -> {_met(c.met)}")
    out += [f"   note: {n}" for n in s.notes]
    if not s.ok:
        out.append("   !!!!!!!! BENCHMARK FOUND A PROBLEM (see the details above) !!!!!!!!")
    return "\n".join(out)


def _met(met: bool | None) -> str:
    return "not measured" if met is None else ("met" if met else "MISSED")


def markdown(s: ScenarioResult) -> str:
    out = [f"### ({s.key}) {s.title}", "", s.workload, ""]
    for t in s.tables:
        out += [f"**{t.title}**", ""]
        out.append("| figure | " + " | ".join(t.columns) + " |")
        out.append("|---" * (len(t.columns) + 1) + "|")
        out += ["| " + " | ".join(c.replace("|", "/") for c in row) + " |" for row in t.rows]
        out.append("")
    for c in s.checks:
        out.append(f"- Target: {c.what}: **{c.value}** (goal {c.goal}): {_met(c.met)}")
    out += [f"- {n}" for n in s.notes]
    if not s.ok:
        out.append("- **The run found a problem** (lost, duplicated or reordered messages).")
    return "\n".join(out).rstrip() + "\n"


def record(
    path: Path,
    results: Sequence[ScenarioResult],
    *,
    command: str,
    machine: str,
    pinning: str,
    source: str,
    busy_note: str,
) -> None:
    """Append one dated section to docs/performance.md; earlier runs stay."""
    when = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    parts = [
        "",
        f"## Harness run {when}",
        "",
        f"- Machine: {machine}; loopback.",
        f"- Command: `{command}`",
        f"- Pinning: {pinning}.",
        f"- Server code: {source}.",
    ]
    if busy_note:
        parts.append(f"- {busy_note}")
    parts.append("")
    parts += [markdown(s) for s in results]
    with path.open("a", encoding="utf-8") as f:
        f.write("\n".join(parts))


def render_run(r: RunResult) -> str:
    """Every figure of one traffic run (the `bench.fanout` single-run view)."""
    if r.skipped or r.error:
        return f"== {r.target}: {_status(r)}"
    lines = [
        f"== {r.target}: {r.conns} connections; {r.pinning}",
        f"   connect             {r.conns} in {r.connect_s:.2f}s (setup {r.setup_s:.1f}s),"
        f" {r.connect_failures} failed {r.connect_errors or ''}",
        f"   server RSS KiB      before {r.rss_before_kib}  connected {r.rss_connected_kib}"
        f"  => {r.rss_per_conn_kib:.1f} KiB per idle connection; end {r.rss_end_kib}",
    ]
    for p in r.phases:
        lat, ack = p.latency_ms, p.ack_ms
        mode = f"{p.rate_per_sender:g} msg/s per sender" if p.rate_per_sender else "max"
        lines += [
            f" -- {p.label}: {p.senders} senders, {mode}, window {p.window}",
            f"   sent (acked)        {p.sent:>10}   {p.sent_per_s:>10.1f} msg/s"
            f"  over {p.send_s:.2f}s",
            f"   delivered           {p.delivered:>10}   {p.delivered_per_s:>10.1f} msg/s"
            f"  over {p.active_s:.2f}s (drain {p.drain_s:.2f}s after last ack)",
            f"   send->receive ms    p50 {lat['p50']:.2f}  p99 {lat['p99']:.2f}"
            f"  max {lat['max']:.2f}",
            f"   send->ack ms        p50 {ack['p50']:.2f}  p99 {ack['p99']:.2f}"
            f"  max {ack['max']:.2f}",
            f"   server CPU          {p.server_cpu_s:.2f}s ({p.server_cpu_pct:.0f}% of a core),"
            f" {p.cpu_s_per_10k:.3f} CPU-s per 10k deliveries",
            "   load CPU            "
            + " ".join(f"{k}={v:.0f}%" for k, v in p.load_cpu_pct.items()),
            f"   machine             {p.machine_busy_cores:.2f} cores busy"
            f" ({p.other_cpu_cores:.2f} neither server nor load: PostgreSQL, NATS, others)",
            f"   ran out first       {p.limit}",
            f"   frame size          {p.frame_bytes} bytes",
        ]
        if p.commits:
            lines.append(
                f"   group commits       {p.commits} ({p.units_per_commit:.2f} writes per commit)"
            )
        if p.frames_per_write:
            lines.append(f"   socket writes       {p.frames_per_write:.2f} frames per write")
        lines += _problems(p)
    if r.server_log_problems:
        lines.append("   server logged warnings/errors:")
        lines += [f"     {x}" for x in r.server_log_problems]
    if r.server_log:
        lines.append(f"   server log kept: {r.server_log}")
    return "\n".join(lines)


def _problems(p: PhaseResult) -> list[str]:
    found = []
    if p.lost or p.delivered != p.expected:
        found.append(f"LOST {p.lost} of {p.expected} expected deliveries ({p.delivered} got)")
    if p.late_or_duplicate:
        found.append(f"{p.late_or_duplicate} duplicate or reordered deliveries")
    if p.seq_out_of_order:
        found.append(f"{p.seq_out_of_order} frames with non-increasing seq")
    if p.send_errors:
        found.append(f"{p.send_errors} send errors: {p.error_codes}")
    if p.disconnects:
        found.append(f"{p.disconnects} connections closed: {p.close_reasons}")
    echo = [f"   note: {p.echoed_to_sender} messages pushed back to the connection that sent them"]
    echo = echo if p.echoed_to_sender else []
    if not found:
        ok = f"   lost: 0 (every member got all {p.sent} messages of its room, in order)"
        return [ok, *echo]
    problem = ["   !!!!!!!! BENCHMARK FOUND A PROBLEM !!!!!!!!", *[f"   !!! {x}" for x in found]]
    return problem + echo
