"""Smoke run of the fan-out benchmark harness: it completes and counts right.

A real server process (SQLite), 5 members, 1 sender, 20 messages. Nothing
here looks at timings; only that every member but the sender got every
message once, in order, and that nothing was lost or cut off.
"""

from __future__ import annotations

from bench.fanout import Config, run


async def test_fanout_smoke() -> None:
    cfg = Config(members=5, senders=1, messages=20, db="sqlite", workers=1, window=8)
    result = await run(cfg, quiet=True)

    assert result.sent == 20
    assert result.send_errors == 0, result.error_codes
    assert result.expected == (cfg.members - cfg.senders) * 20
    assert result.delivered == (cfg.members - cfg.senders) * 20
    assert result.lost == 0
    assert result.late_or_duplicate == 0
    assert result.seq_out_of_order == 0
    assert result.disconnects == 0, result.close_reasons
    assert result.ok
