"""TOTP secrets and recovery codes of two-factor sign-in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["TotpState", "TotpStore"]


@dataclass(slots=True)
class TotpState:
    secret: str
    enabled_at: int | None  # None: enrolment awaits its first code
    last_step: int | None


class TotpStore(Protocol):
    async def get_totp(self, user_id: str) -> TotpState | None: ...
    async def put_pending(self, user_id: str, secret: str, now: int) -> bool:
        """Start (or restart) an enrolment; False if two-factor is already on."""
        ...

    async def enable_totp(
        self, user_id: str, step: int, recovery_hashes: list[str], now: int
    ) -> bool:
        """Turn a pending enrolment on with its first accepted step and fresh
        recovery codes; False if there is no pending enrolment."""
        ...

    async def use_step(self, user_id: str, step: int) -> bool:
        """Accept a code's time step once: True only if it is later than every
        step accepted before (a replayed code is refused)."""
        ...

    async def use_recovery(self, user_id: str, code_hash: str, now: int) -> bool: ...
    async def recovery_left(self, user_id: str) -> int: ...
    async def disable_totp(self, user_id: str) -> bool: ...
