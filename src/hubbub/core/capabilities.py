"""Capabilities: rights beyond a conversation role, granted by server admins.

`messaging.interrupt` lets an account send stream control events (pause,
resume, preempt, cancel, priority) in conversations it takes part in without
being their owner or admin; `messaging.route` does the same for route and
handoff (`core/streams.py`). Granted and revoked with `hubbub capability
grant|revoke USERNAME CAP` or `POST/DELETE /api/admin/capabilities`; read
from the database on every check, so a revoke takes effect at once on every node.
"""

from __future__ import annotations

from hubbub.clock import Clock
from hubbub.core.admin import Admin
from hubbub.core.audit import Audit
from hubbub.core.context import Caller
from hubbub.core.ports import UserDirectory
from hubbub.core.ports.tenants import CapabilityStore
from hubbub.errors import NotFound, ValidationFailed

__all__ = ["CAPABILITIES", "INTERRUPT", "ROUTE", "Capabilities"]

INTERRUPT = "messaging.interrupt"
ROUTE = "messaging.route"
CAPABILITIES = (INTERRUPT, ROUTE)


def _check(capability: str) -> None:
    if capability not in CAPABILITIES:
        raise ValidationFailed(f"must be one of {', '.join(CAPABILITIES)}", path="$.capability")


class Capabilities:
    def __init__(
        self,
        store: CapabilityStore,
        users: UserDirectory,
        admin: Admin,
        audit: Audit,
        clock: Clock,
    ) -> None:
        self.store = store
        self.users = users
        self.admin = admin
        self.audit = audit
        self.clock = clock

    async def grant(self, actor: Caller | None, user_id: str, capability: str) -> None:
        if actor is not None:
            await self.admin.require(actor)
        _check(capability)
        if not await self.users.existing_users([user_id]):
            raise NotFound("User not found", path="$.userId")
        by = actor.user_id if actor else None
        await self.store.grant(user_id, capability, by, self.clock.now_ms())
        await self.audit.record("capability.grant", actor=by, target=user_id, capability=capability)

    async def revoke(self, actor: Caller | None, user_id: str, capability: str) -> None:
        if actor is not None:
            await self.admin.require(actor)
        _check(capability)
        if not await self.store.revoke(user_id, capability):
            raise NotFound("capability not granted")
        by = actor.user_id if actor else None
        await self.audit.record(
            "capability.revoke", actor=by, target=user_id, capability=capability
        )

    async def of(self, user_id: str) -> list[str]:
        return await self.store.of(user_id)

    async def has(self, user_id: str, capability: str) -> bool:
        return capability in await self.store.of(user_id)
