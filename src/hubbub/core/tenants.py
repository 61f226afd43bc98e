"""Tenants: organisations whose members alone see the conversations made under them.

Server admins create organisations and manage their membership (REST
`/api/admin/orgs...`, see docs/symbia.md); a member is `admin` or `member`
of an organisation. A conversation created with `orgId` / `X-Org-Id` is
visible to that organisation's members only: to anyone else it does not
exist. An organisation admin may use Symbia's admin routes for the
conversations of their own organisations and no others.
"""

from __future__ import annotations

import re

from hubbub.clock import Clock
from hubbub.core.admin import Admin
from hubbub.core.audit import Audit
from hubbub.core.context import Caller
from hubbub.core.ports import UserDirectory
from hubbub.core.ports.tenants import Org, TenantStore
from hubbub.errors import Conflict, Forbidden, NotFound, ValidationFailed
from hubbub.ids import new_id

__all__ = ["ORG_ROLES", "Tenants", "check_org_id"]

ORG_ROLES = ("admin", "member")
_ORG_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")


def check_org_id(org_id: str, path: str) -> str:
    if not _ORG_ID.match(org_id):
        raise ValidationFailed("1-64 letters, digits or . _ : -", path=path)
    return org_id


class Tenants:
    def __init__(
        self, store: TenantStore, users: UserDirectory, admin: Admin, audit: Audit, clock: Clock
    ) -> None:
        self.store = store
        self.users = users
        self.admin = admin
        self.audit = audit
        self.clock = clock

    async def create_org(self, actor: Caller | None, name: str, org_id: str | None) -> Org:
        if actor is not None:
            await self.admin.require(actor)
        name = name.strip()
        if not name or len(name) > 256:
            raise ValidationFailed("must be 1-256 characters", path="$.name")
        oid = check_org_id(org_id, "$.id") if org_id is not None else new_id()
        org = Org(oid, name, self.clock.now_ms())
        if not await self.store.create_org(org):
            raise Conflict("an organization with that id exists", path="$.id")
        await self.audit.record("org.create", actor=actor.user_id if actor else None, target=oid)
        return org

    async def list_orgs(self, actor: Caller | None) -> list[Org]:
        if actor is not None:
            await self.admin.require(actor)
        return await self.store.list_orgs()

    async def _org(self, org_id: str) -> Org:
        org = await self.store.get_org(org_id)
        if org is None:
            raise NotFound("Organization not found")
        return org

    async def members(self, actor: Caller | None, org_id: str) -> list[tuple[str, str, int]]:
        if actor is not None:
            await self.admin.require(actor)
        await self._org(org_id)
        return await self.store.members(org_id)

    async def add_member(self, actor: Caller | None, org_id: str, user_id: str, role: str) -> None:
        if actor is not None:
            await self.admin.require(actor)
        if role not in ORG_ROLES:
            raise ValidationFailed("must be admin or member", path="$.role")
        await self._org(org_id)
        if not await self.users.existing_users([user_id]):
            raise NotFound("User not found", path="$.userId")
        await self.store.put_member(org_id, user_id, role, self.clock.now_ms())
        await self.audit.record(
            "org.member_add", actor=actor.user_id if actor else None, target=user_id, org=org_id
        )

    async def remove_member(self, actor: Caller | None, org_id: str, user_id: str) -> None:
        if actor is not None:
            await self.admin.require(actor)
        await self._org(org_id)
        if not await self.store.remove_member(org_id, user_id):
            raise NotFound("Member not found")
        await self.audit.record(
            "org.member_remove", actor=actor.user_id if actor else None, target=user_id, org=org_id
        )

    async def orgs_of(self, user_id: str) -> dict[str, str]:
        return await self.store.orgs_of(user_id)

    async def require_member(self, user_id: str, org_id: str) -> None:
        """Refused `forbidden` (Symbia's 'Not authorized for this organization')."""
        if org_id not in await self.store.orgs_of(user_id):
            raise Forbidden("Not authorized for this organization")

    async def admin_scope(self, caller: Caller) -> list[str] | None:
        """What a caller may administer: None for a server admin (everything),
        else the organisations they are an admin of (none: `forbidden`)."""
        try:
            await self.admin.require(caller)
            return None
        except Forbidden:
            pass
        mine = [
            o for o, role in (await self.store.orgs_of(caller.user_id)).items() if role == "admin"
        ]
        if not mine:
            raise Forbidden("Admin access required")
        return mine
