"""Organisations (tenants) and their members; capabilities granted to accounts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["CapabilityStore", "Org", "TenantStore"]


@dataclass(slots=True)
class Org:
    id: str
    name: str
    created_at: int


class TenantStore(Protocol):
    async def create_org(self, org: Org) -> bool:
        """False if the id is taken."""
        ...

    async def get_org(self, org_id: str) -> Org | None: ...
    async def list_orgs(self) -> list[Org]: ...
    async def put_member(self, org_id: str, user_id: str, role: str, now: int) -> None: ...
    async def remove_member(self, org_id: str, user_id: str) -> bool: ...
    async def members(self, org_id: str) -> list[tuple[str, str, int]]: ...
    async def orgs_of(self, user_id: str) -> dict[str, str]:
        """org id -> the user's role there (admin | member)."""
        ...


class CapabilityStore(Protocol):
    async def grant(self, user_id: str, capability: str, by: str | None, now: int) -> None: ...
    async def revoke(self, user_id: str, capability: str) -> bool: ...
    async def of(self, user_id: str) -> list[str]: ...
