"""Ids: RFC 9562 UUIDv7, unguessable yet ordered by creation (see `hubbub.ids`)."""

from __future__ import annotations

import time
import uuid

from hubbub.ids import new_id


def test_ids_are_version_7_uuids_carrying_their_creation_millisecond() -> None:
    before = time.time_ns() // 1_000_000
    value = new_id()
    after = time.time_ns() // 1_000_000
    parsed = uuid.UUID(value)
    assert str(parsed) == value
    assert parsed.version == 7 and parsed.variant == uuid.RFC_4122
    assert before <= parsed.int >> 80 <= after


def test_ids_sort_by_creation_and_never_repeat() -> None:
    first = [new_id() for _ in range(50_000)]
    deadline = time.monotonic() + 5
    while time.time_ns() // 1_000_000 <= uuid.UUID(first[-1]).int >> 80:
        assert time.monotonic() < deadline  # the clock must move on
    later = new_id()
    assert len(set(first)) == len(first)
    assert all(later > earlier for earlier in first)


def test_the_random_part_varies_within_one_millisecond() -> None:
    same_ms: dict[int, list[int]] = {}
    for _ in range(2_000):
        parsed = uuid.UUID(new_id())
        same_ms.setdefault(parsed.int >> 80, []).append(parsed.int & ((1 << 74) - 1))
    crowded = max(same_ms.values(), key=len)
    assert len(crowded) > 1 and len(set(crowded)) == len(crowded)
