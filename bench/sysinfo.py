"""What the harness reads from the machine: /proc figures, pinning, fd limits.

Everything here is Linux /proc or a syscall, so the load generator can read
the server's CPU and RSS without asking the server (a peer has no metrics
endpoint, and the figures must be measured the same way for every target).
"""

from __future__ import annotations

import contextlib
import os
import platform
import resource
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "Pinning",
    "cpu_model",
    "machine_busy_s",
    "machine_summary",
    "percentiles",
    "pin",
    "plan_pinning",
    "postgres_cpu_s",
    "proc_cpu_s",
    "proc_rss_kib",
    "raise_nofile",
    "server_source",
]

CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_cpu_s(pid: int, tid: int | None = None) -> float:
    """utime + stime of a process (all its threads) or of one thread, in seconds."""
    path = f"/proc/{pid}/task/{tid}/stat" if tid is not None else f"/proc/{pid}/stat"
    try:
        text = Path(path).read_text()
    except OSError:
        return 0.0
    fields = text.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_rss_kib(pid: int) -> int:
    """VmRSS of a process; 0 when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def machine_busy_s() -> float:
    """CPU seconds all cores spent not idle since boot (to see who else is busy)."""
    vals = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = vals[3] + (vals[4] if len(vals) > 4 else 0)
    return (sum(vals[:8]) - idle) / CLK_TCK


def postgres_cpu_s() -> float:
    """CPU seconds of every process named `postgres` (the backends serving hubbub)."""
    total = 0.0
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                text = (d / "stat").read_text()
                if text.split("(", 1)[1].startswith("postgres)"):
                    total += proc_cpu_s(int(d.name))
    return total


def percentiles(values: Sequence[int], scale: float) -> dict[str, float]:
    """p50/p99/max of integer samples, divided by `scale` (1e6: ns -> ms)."""
    if not values:
        return {"p50": 0.0, "p99": 0.0, "max": 0.0}
    s = sorted(values)
    n = len(s)

    def at(q: float) -> float:
        return round(s[min(n - 1, int(q * n))] / scale, 3)

    return {"p50": at(0.50), "p99": at(0.99), "max": round(s[-1] / scale, 3)}


# --------------------------------------------------------------------------- pinning
@dataclass(frozen=True)
class Pinning:
    """Which cores the servers and the load generator may use (None: any).

    On a small machine the server and the load generator compete for the same
    cores and the scheduler decides who wins; pinning them apart makes the
    server's share a fixed core, so its figures mean "one core of server".
    PostgreSQL and NATS are not ours and stay unpinned.
    """

    server: frozenset[int] | None = None
    load: frozenset[int] | None = None

    def describe(self) -> str:
        if self.server is None or self.load is None:
            return "not pinned (servers and load generator share all cores)"
        return (
            f"servers pinned to core {_cores(self.server)}, "
            f"load generator to core {_cores(self.load)}"
        )


def _cores(cores: Iterable[int]) -> str:
    return ",".join(str(c) for c in sorted(cores))


def plan_pinning(enabled: bool) -> Pinning:
    """Servers on the first half of our cores (at least one), load on the rest."""
    try:
        cores = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return Pinning()
    if not enabled or len(cores) < 2:
        return Pinning()
    k = max(1, len(cores) // 2)
    return Pinning(frozenset(cores[:k]), frozenset(cores[k:]))


def pin(pid: int, cores: frozenset[int] | None) -> None:
    """Pin every thread of a process (threads started later inherit the mask)."""
    if cores is None:
        return
    tids = [pid]
    with contextlib.suppress(OSError):
        tids = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    for tid in tids:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(tid, cores)


# --------------------------------------------------------------------------- limits
def raise_nofile() -> tuple[int, int]:
    """Soft RLIMIT_NOFILE up to the hard limit; children (servers, workers) inherit it.

    10,000 connections need 10,000 descriptors in the server and as many,
    spread over the load processes; the usual soft default is 1024.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft < want:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


# --------------------------------------------------------------------------- descriptions
def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _mem_total_gib() -> float:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    return 0.0


def _run(cmd: list[str], cwd: str | None = None) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30, cwd=cwd)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def machine_summary() -> str:
    """One line for the record: CPU, cores, memory, kernel, runtimes."""
    node = _run(["node", "--version"]) if shutil.which("node") else ""
    parts = [
        cpu_model(),
        f"{os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable)",
        f"{_mem_total_gib():.0f} GiB RAM",
        f"Linux {platform.release()}",
        f"Python {platform.python_version()}",
    ]
    if node:
        parts.append(f"Node {node}")
    return ", ".join(parts)


def server_source() -> str:
    """The `hubbub` package the server imports, and its git commit (dirty or not)."""
    where = _run(
        [sys.executable, "-c", "import hubbub, os; print(os.path.dirname(hubbub.__file__))"]
    )
    if not where:
        return "unknown"
    head = _run(["git", "rev-parse", "--short", "HEAD"], cwd=where)
    if not head:
        return where
    dirty = _run(["git", "status", "--porcelain", "."], cwd=where)
    return f"{where} @ {head}{' + uncommitted changes' if dirty else ''}"
