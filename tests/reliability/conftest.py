"""Reliability and security suite: short runs in CI, long runs for the figures.

`HUBBUB_RELIABILITY_LONG=1` selects the long runs (20 crash runs, 10^6 fuzz
inputs, a 30-minute soak...). Each test reports its figure with the `figure`
fixture; when `HUBBUB_RELIABILITY_OUT` names a file, figures are appended to it
as JSON lines and `python -m tests.reliability.report` renders them into
docs/reliability.md (`make reliability` does both).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

LONG = os.environ.get("HUBBUB_RELIABILITY_LONG") == "1"
OUT = os.environ.get("HUBBUB_RELIABILITY_OUT", "")

Figure = Callable[..., None]


def scale(short: int, long: int) -> int:
    """Pick the short (CI) or long (figures) size of a run."""
    return long if LONG else short


@pytest.fixture
def figure(request: pytest.FixtureRequest) -> Figure:
    """Record `test`, `what` it does and its `result` (plus any numbers)."""

    def record(test: str, what: str, result: str, **numbers: float | int | str) -> None:
        row = {
            "test": test,
            "what": what,
            "result": result,
            "numbers": numbers,
            "mode": "long" if LONG else "short",
            "node": request.node.nodeid,
            "at": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
        }
        print(f"\nFIGURE {json.dumps(row)}")
        if OUT:
            with Path(OUT).open("a") as fh:
                fh.write(json.dumps(row) + "\n")

    return record
