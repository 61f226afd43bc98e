"""Server admins: the one role check, and what admins may do.

`Admin.require(caller)` is the only place the server-admin role is checked:
every admin surface of every protocol (hubbub's `/v1/admin/`, Symbia's admin
routes, moderation, broadcasts) calls it. A caller is an admin when its
account exists, carries the role and is not deactivated; the role is read
from the database on every call, so `hubbub admin revoke` or a deactivation
takes effect on the next request on every node, with nothing cached.

Operators on the machine act through the CLI (`hubbub admin grant`, `hubbub
user create`, ...) with `actor=None`: whoever can run commands against the
database needs no role. Every action is written to the audit log.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from hubbub.clock import Clock
from hubbub.core.accounts import Accounts, hash_token
from hubbub.core.audit import Audit
from hubbub.core.context import Caller
from hubbub.core.model import AccountKind, User
from hubbub.core.ports.accounts import AccountStore
from hubbub.core.ports.admin import AdminStore
from hubbub.core.ports.audit import AuditEntry, AuditQuery
from hubbub.core.ports.registration import Invite, InviteStore
from hubbub.errors import Forbidden, NotFound, ValidationFailed
from hubbub.ids import new_id, plausible_id

__all__ = ["Admin", "NewInvite", "require_admin"]

MAX_USERS_PAGE = 200
MAX_INVITE_USES = 1_000_000
MAX_INVITE_LIFETIME_MS = 365 * 24 * 3600_000


async def require_admin(accounts: AccountStore, caller: Caller) -> User:
    """The caller's account if it is an active server admin, else `Forbidden`."""
    user = await accounts.get_user(caller.user_id)
    if user is None or not user.is_admin or user.deactivated_at is not None:
        raise Forbidden("server admins only")
    return user


@dataclass(frozen=True, slots=True)
class NewInvite:
    token: str  # shown once
    invite: Invite


class Admin:
    def __init__(
        self,
        accounts: Accounts,
        directory: AdminStore,
        invites: InviteStore,
        audit: Audit,
        clock: Clock,
    ) -> None:
        self.accounts = accounts
        self.directory = directory
        self.invites = invites
        self.audit = audit
        self.clock = clock

    async def require(self, caller: Caller) -> User:
        return await require_admin(self.accounts.store, caller)

    async def _check(self, actor: Caller | None) -> str | None:
        if actor is None:
            return None  # the operator's console
        await self.require(actor)
        return actor.user_id

    async def _target(self, user_id: str) -> User:
        user = await self.accounts.get_user(user_id) if plausible_id(user_id) else None
        if user is None:
            raise NotFound("user not found")
        return user

    # -- users -------------------------------------------------------------------

    async def create_user(
        self,
        actor: Caller | None,
        username: str,
        password: str | None,
        *,
        display_name: str | None = None,
        email: str | None = None,
        admin: bool = False,
        kind: AccountKind = "user",
        via: str = "rest",
        address: str | None = None,
    ) -> User:
        """An account made by an admin (REST) or the operator (`hubbub user
        create`): no registration token, no session. An agent, service or
        bot may have no password: it then signs in only with API keys. Audited as
        `user.create`, without the password."""
        by = await self._check(actor)
        user, _ = await self.accounts.create_account(
            username,
            password,
            display_name,
            email=email,
            session=False,
            admin=admin,
            kind=kind,
        )
        await self.audit.record(
            "user.create",
            actor=by,
            target=user.id,
            address=address,
            via=via,
            admin=user.is_admin,
            agent=user.is_agent,
            kind=user.kind,
        )
        return user

    async def list_users(
        self,
        actor: Caller | None,
        *,
        prefix: str | None = None,
        admins_only: bool = False,
        after: str | None = None,
        limit: int = 50,
    ) -> list[User]:
        await self._check(actor)
        if not 1 <= limit <= MAX_USERS_PAGE:
            raise ValidationFailed(f"limit must be 1-{MAX_USERS_PAGE}", path="$.query.limit")
        if prefix is not None and len(prefix) > 254:
            raise ValidationFailed("q is at most 254 characters", path="$.query.q")
        return await self.directory.list_users(
            prefix=prefix or None, admins_only=admins_only, after=after, limit=limit
        )

    async def get_user(self, actor: Caller | None, user_id: str) -> User:
        await self._check(actor)
        return await self._target(user_id)

    async def find_user(self, actor: Caller | None, username: str) -> User:
        await self._check(actor)
        user = await self.accounts.find_by_username(username)
        if user is None:
            raise NotFound("user not found")
        return user

    async def deactivate(
        self, actor: Caller | None, user_id: str, address: str | None = None
    ) -> User:
        by = await self._check(actor)
        user = await self._target(user_id)
        await self.accounts.deactivate(user.id)
        await self.audit.record("user.deactivate", actor=by, target=user.id, address=address)
        return await self._target(user.id)

    async def reactivate(
        self, actor: Caller | None, user_id: str, address: str | None = None
    ) -> User:
        by = await self._check(actor)
        user = await self._target(user_id)
        if user.deletion_requested_at is not None:
            raise Forbidden("the account's data deletion was requested: it cannot come back")
        await self.accounts.reactivate(user.id)
        await self.audit.record("user.reactivate", actor=by, target=user.id, address=address)
        return await self._target(user.id)

    async def reset_password(
        self, actor: Caller | None, user_id: str, new_password: str, address: str | None = None
    ) -> None:
        by = await self._check(actor)
        user = await self._target(user_id)
        await self.accounts.reset_password(user.id, new_password)
        await self.audit.record("user.password_reset", actor=by, target=user.id, address=address)

    async def set_admin(
        self, actor: Caller | None, user_id: str, admin: bool, address: str | None = None
    ) -> User:
        by = await self._check(actor)
        user = await self._target(user_id)
        await self.accounts.store.set_admin(user.id, admin)
        action = "admin.grant" if admin else "admin.revoke"
        await self.audit.record(action, actor=by, target=user.id, address=address)
        return await self._target(user.id)

    # -- registration tokens ------------------------------------------------------------

    async def create_invite(
        self,
        actor: Caller | None,
        *,
        uses_allowed: int | None = 1,
        expires_in_ms: int | None = 7 * 24 * 3600_000,
        address: str | None = None,
    ) -> NewInvite:
        by = await self._check(actor)
        if uses_allowed is not None and not 1 <= uses_allowed <= MAX_INVITE_USES:
            raise ValidationFailed(
                f"uses_allowed must be 1-{MAX_INVITE_USES} or null", path="$.uses_allowed"
            )
        if expires_in_ms is not None and not 1_000 <= expires_in_ms <= MAX_INVITE_LIFETIME_MS:
            raise ValidationFailed(
                "expires_in_s must be 1 second to 365 days, or null", path="$.expires_in_s"
            )
        if uses_allowed is None and expires_in_ms is None:
            raise ValidationFailed(
                "a token needs a use limit, an expiry or both", path="$.uses_allowed"
            )
        now = self.clock.now_ms()
        token = "hbr_" + secrets.token_urlsafe(24)
        invite = Invite(
            new_id(),
            by,
            now,
            now + expires_in_ms if expires_in_ms is not None else None,
            uses_allowed,
            0,
            None,
        )
        await self.invites.create_invite(invite, hash_token(token))
        await self.audit.record(
            "registration_token.create",
            actor=by,
            target=invite.id,
            address=address,
            uses_allowed=uses_allowed,
            expires_at=invite.expires_at,
        )
        return NewInvite(token, invite)

    async def list_invites(self, actor: Caller | None) -> list[Invite]:
        await self._check(actor)
        return await self.invites.list_invites()

    async def revoke_invite(
        self, actor: Caller | None, invite_id: str, address: str | None = None
    ) -> None:
        by = await self._check(actor)
        if not plausible_id(invite_id) or not await self.invites.revoke_invite(
            invite_id, self.clock.now_ms()
        ):
            raise NotFound("registration token not found")
        await self.audit.record(
            "registration_token.revoke", actor=by, target=invite_id, address=address
        )

    # -- audit --------------------------------------------------------------------------

    async def read_audit(self, actor: Caller | None, query: AuditQuery) -> list[AuditEntry]:
        await self._check(actor)
        return await self.audit.read(query)
