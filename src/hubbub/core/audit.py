"""The audit log: every admin action, sign-in, failed sign-in, revocation and
two-factor change, with who, what, when and from where.

Entries never hold a secret: no password, token, key, TOTP secret or code,
only ids (user ids, token ids, key ids, invite ids) and labels. A failed
sign-in records the user it aimed at when that user exists; an unknown
name is not recorded (it may be a password typed in the wrong field). Admins
read it through
`Admin.audit` (REST `GET /v1/admin/audit`), newest first, in pages.
"""

from __future__ import annotations

from hubbub.clock import Clock
from hubbub.core.ports.audit import AuditEntry, AuditQuery, AuditStore
from hubbub.errors import ValidationFailed
from hubbub.ids import new_id

__all__ = ["ACTIONS", "Audit", "Detail"]

Detail = str | int | bool | None

ACTIONS = frozenset(
    {
        "admin.grant",
        "admin.revoke",
        "user.create",
        "user.deactivate",
        "user.reactivate",
        "user.password_reset",
        "account.deactivate",
        "account.deletion_request",
        "account.password_change",
        "registration_token.create",
        "registration_token.revoke",
        "signin.success",
        "signin.failure",
        "register",
        "token.revoke",
        "logout",
        "api_key.create",
        "api_key.revoke",
        "totp.enroll",
        "totp.enable",
        "totp.disable",
        "recovery_code.used",
        "org.create",
        "org.member_add",
        "org.member_remove",
        "capability.grant",
        "capability.revoke",
        "report.status",
    }
)

MAX_PAGE = 200


class Audit:
    def __init__(self, store: AuditStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    async def record(
        self,
        action: str,
        *,
        actor: str | None = None,
        target: str | None = None,
        address: str | None = None,
        **detail: Detail,
    ) -> None:
        assert action in ACTIONS, action
        entry = AuditEntry(
            new_id(),
            self.clock.now_ms(),
            action,
            actor,
            target[:64] if target else target,
            address[:64] if address else address,
            dict(detail),
        )
        await self.store.append_audit([entry])

    async def read(self, query: AuditQuery) -> list[AuditEntry]:
        """Unchecked: callers (the admin service) check the role first."""
        if not 1 <= query.limit <= MAX_PAGE:
            raise ValidationFailed(f"limit must be 1-{MAX_PAGE}", path="$.query.limit")
        if query.action is not None and query.action not in ACTIONS:
            raise ValidationFailed("unknown action", path="$.query.action")
        return await self.store.read_audit(query)
