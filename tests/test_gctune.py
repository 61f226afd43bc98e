"""The garbage collector's tuning for a server process (`hubbub.gctune`)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from hubbub import gctune


@pytest.fixture
def restore_gc() -> Iterator[None]:
    saved = gc.get_threshold()
    yield
    gc.set_threshold(*saved)
    gc.unfreeze()


def test_thresholds_parse_and_refuse_nonsense() -> None:
    assert gctune.parse_thresholds(gctune.DEFAULT) == (50_000, 20, 100)
    assert gctune.parse_thresholds(" 700, 10 ,10") == (700, 10, 10)
    for bad in ("", "1,2", "1,2,3,4", "0,10,10", "a,b,c", "-5,1,1"):
        with pytest.raises(ValueError):
            gctune.parse_thresholds(bad)


def test_tune_sets_the_thresholds_and_freezes_what_exists(restore_gc: None) -> None:
    survivor = [object() for _ in range(10)]
    gctune.tune((12_345, 7, 3))
    assert gc.get_threshold() == (12_345, 7, 3)
    assert gc.get_freeze_count() > len(survivor)


def test_pauses_are_reported_per_generation() -> None:
    seen: list[tuple[int, float]] = []
    callback = gctune.watch_pauses(lambda gen, s: seen.append((gen, s)))
    try:
        gc.collect(0)
        gc.collect(2)
    finally:
        gc.callbacks.remove(callback)
    assert [gen for gen, _ in seen] == [0, 2]
    assert all(s >= 0 for _, s in seen)
