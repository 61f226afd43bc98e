"""`status/response`: a client asks how the service (or one part of it) is.

Targets: `server` (default), `database`, `bus`, `sync` (the caller's stream
position). Each answer is measured at request time, never a constant.
"""

from __future__ import annotations

import time
from typing import Any

from hubbub.clock import Clock, iso
from hubbub.core.context import Caller
from hubbub.core.ports import Bus, EventStream
from hubbub.errors import ValidationFailed

__all__ = ["TARGETS", "StatusService"]

TARGETS = ("server", "database", "bus", "sync")


class StatusService:
    def __init__(self, events: EventStream, bus: Bus, clock: Clock, node_id: str) -> None:
        self.events = events
        self.bus = bus
        self.clock = clock
        self.node_id = node_id
        self.started_ms = clock.now_ms()

    async def _probe(self, what: str) -> tuple[bool, str]:
        t0 = time.perf_counter()
        try:
            if what == "database":
                await self.events.ping()
            else:
                await self.bus.ping()
        except Exception as exc:  # report, never raise: this is a health answer
            return False, f"{what} unreachable ({type(exc).__name__})"
        return True, f"{what} ok in {(time.perf_counter() - t0) * 1000:.1f} ms"

    async def request(self, caller: Caller, target: str | None) -> dict[str, Any]:
        target = target or "server"
        if target not in TARGETS:
            raise ValidationFailed(
                f"target must be one of {', '.join(TARGETS)}", path="$.data.target"
            )
        if target == "sync":
            head = await self.events.max_pos()
            status, details = "ok", f"stream head seq {head}"
        elif target in ("database", "bus"):
            ok, details = await self._probe(target)
            status = "ok" if ok else "down"
        else:
            db_ok, db = await self._probe("database")
            bus_ok, bus = await self._probe("bus")
            up = (self.clock.now_ms() - self.started_ms) // 1000
            status = "ok" if db_ok and bus_ok else "degraded"
            details = f"node {self.node_id} up {up}s; {db}; {bus}"
        return {"status": status, "details": details, "timestamp": iso(self.clock.now_ms())}
