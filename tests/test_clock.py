"""Wire timestamps: `iso` and `parse_iso` are exact inverses to the millisecond."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from hubbub.clock import iso, parse_iso

MS = st.integers(0, 253402300799999)  # 1970 .. 9999-12-31T23:59:59.999Z


@given(MS)
def test_round_trip_is_exact(ms: int) -> None:
    assert parse_iso(iso(ms)) == ms


@given(MS)
def test_iso_is_utc_with_milliseconds(ms: int) -> None:
    text = iso(ms)
    whole = datetime.fromtimestamp(ms // 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    assert text == f"{whole}.{ms % 1000:03d}Z"


def test_a_value_float_arithmetic_got_wrong() -> None:
    assert parse_iso("1987-04-15T14:05:07.476Z") == 545493907476


def test_offsets_and_naive_times() -> None:
    assert parse_iso("2026-11-23T11:18:36.123+01:00") == parse_iso("2026-11-23T10:18:36.123Z")
    assert parse_iso("2026-11-23T10:18:36.123") == parse_iso("2026-11-23T10:18:36.123Z")
