"""Smoke runs of the benchmark harness (bench/), so it cannot rot.

Every scenario of `python -m bench` runs at its smoke size: real server
processes, a handful of connections, half a second per phase. Nothing here
looks at a timing; only that each run completed, lost nothing, and reported
every figure (and every ratio column). hubbub and the Python peer always run;
the Node peer runs when `npm ci` can install bench/peers/node_modules, and
`test_node_peer_available` says why when it cannot. (d) needs PostgreSQL for
half its figures and (e) needs PostgreSQL and NATS: they skip (or fail, with
HUBBUB_REQUIRE_SERVICES=1) like the rest of the suite.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import pytest
from bench.report import ScenarioResult
from bench.scenarios import Options, run_scenario
from bench.targets import TargetUnavailable, ensure_node_modules

PG_ADMIN_URL = os.environ.get("HUBBUB_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
NATS_URL = os.environ.get("HUBBUB_TEST_NATS", "nats://127.0.0.1:4222")
PEER_COLUMNS = {"python": "py-websockets", "node": "node-ws"}


@functools.cache
def node_unavailable() -> str:
    """Why the Node peer cannot run here ("" when it can); installs it once."""
    try:
        ensure_node_modules()
    except TargetUnavailable as exc:
        return str(exc)
    return ""


def targets() -> tuple[str, ...]:
    return ("hubbub", "python") if node_unavailable() else ("hubbub", "python", "node")


def smoke(**kw: Any) -> Options:
    return Options(
        smoke=True, targets=targets(), pg_admin_url=PG_ADMIN_URL, nats_url=NATS_URL, **kw
    )


def assert_traffic_clean(s: ScenarioResult, names: list[str], phases: int) -> None:
    assert s.ok, s.notes
    assert [r["target"] for r in s.raw] == names
    for run in s.raw:
        assert not run["error"] and not run["skipped"], run["error"] or run["skipped"]
        assert run["connect_failures"] == 0, run["connect_errors"]
        assert isinstance(run["rss_per_conn_kib"], float)
        assert len(run["phases"]) == phases
        for ph in run["phases"]:
            where = f"{run['target']} {ph['label']}"
            assert ph["sent"] > 0, where
            assert ph["send_errors"] == 0, (where, ph["error_codes"])
            assert ph["delivered"] == ph["expected"] > 0, where
            assert ph["lost"] == 0, where
            assert ph["late_or_duplicate"] == 0, where
            assert ph["seq_out_of_order"] == 0, where
            assert ph["disconnects"] == 0, (where, ph["close_reasons"])
            assert ph["delivered_per_s"] > 0, where
            assert set(ph["latency_ms"]) == {"p50", "p99", "max"}, where
            assert ph["cpu_s_per_10k"] >= 0, where
            assert ph["limit"], where
            assert ph["ok"], where


def assert_ratio_columns(s: ScenarioResult, ref: str, others: list[str]) -> None:
    for table in s.tables:
        for other in others:
            assert f"{ref}/{other}" in table.columns, table.columns
        names = [row[0] for row in table.rows]
        assert "delivered msg/s" in names or "connections held" in names, names
        assert all(len(row) == len(table.columns) + 1 for row in table.rows)


def test_node_peer_available() -> None:
    if reason := node_unavailable():
        pytest.skip(f"Node peer not run by the smoke tests: {reason}")


async def test_fanout_smoke() -> None:
    opts = smoke()
    s = await run_scenario("a", opts)
    peers = [PEER_COLUMNS[t] for t in opts.targets if t != "hubbub"]
    assert_traffic_clean(s, ["hubbub", *peers], phases=2)
    assert_ratio_columns(s, "hubbub", peers)
    assert len(s.checks) == 3  # vs each peer (max rate), p99 at the fixed rate
    fixed = s.raw[0]["phases"][0]
    assert fixed["rate_per_sender"] and fixed["sent"] == fixed["delivered"] // 5  # 6 members


async def test_dms_smoke() -> None:
    opts = smoke()
    s = await run_scenario("b", opts)
    peers = [PEER_COLUMNS[t] for t in opts.targets if t != "hubbub"]
    assert_traffic_clean(s, ["hubbub", *peers], phases=2)
    assert_ratio_columns(s, "hubbub", peers)
    for run in s.raw:  # every connection sends to its partner: a delivery per message
        assert all(ph["delivered"] == ph["sent"] for ph in run["phases"])


async def test_idle_smoke() -> None:
    opts = smoke()
    s = await run_scenario("c", opts)
    assert s.ok, s.notes
    assert_ratio_columns(s, "hubbub", [PEER_COLUMNS[t] for t in opts.targets if t != "hubbub"])
    for run in s.raw:
        assert not run["error"] and not run["skipped"], run["error"] or run["skipped"]
        assert run["held"] == run["conns"] == 20
        assert run["server_held"] in (None, 20)
        assert isinstance(run["rss_per_conn_kib"], float)
    assert [c.met is not None for c in s.checks] == [True, True]


async def test_store_smoke() -> None:
    s = await run_scenario("d", smoke())
    assert s.ok, s.notes
    got = {(r["db"], r["path"]): r for r in s.raw}
    dbs = ["sqlite"]
    if ("postgres", "store") in got or os.environ.get("HUBBUB_REQUIRE_SERVICES") == "1":
        dbs.append("postgres")
    for db in dbs:
        for path in ("store", "service"):
            r = got[(db, path)]
            assert r["ok"] and not r["error"] and not r["errors"], r
            assert r["inserts"] > 0 and r["inserts_per_s"] > 0 and r["commits"] > 0
            assert set(r["insert_ms"]) == {"p50", "p99", "max"}
    assert s.checks[0].met is not None


@pytest.mark.postgres
async def test_nodes_smoke(pg_url: str, jetstream_url: str) -> None:
    s = await run_scenario("e", smoke())
    assert_traffic_clean(s, ["1 node", "2 nodes"], phases=1)
    assert_ratio_columns(s, "2 nodes", ["1 node"])
    assert s.checks[0].met is not None
