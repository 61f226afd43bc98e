"""The audit log: who did what to whom, when, from where."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["AuditEntry", "AuditQuery", "AuditStore"]


@dataclass(slots=True)
class AuditEntry:
    id: str
    at: int
    action: str
    actor_id: str | None
    target_id: str | None
    address: str | None
    detail: dict[str, str | int | bool | None] = field(default_factory=dict)


@dataclass(slots=True)
class AuditQuery:
    """Newest first; `before` = (at, id) of the last entry of the previous page."""

    limit: int = 50
    before: tuple[int, str] | None = None
    action: str | None = None
    actor_id: str | None = None
    target_id: str | None = None
    since: int | None = None
    until: int | None = None


class AuditStore(Protocol):
    async def append_audit(self, entries: list[AuditEntry]) -> None: ...
    async def read_audit(self, query: AuditQuery) -> list[AuditEntry]: ...
