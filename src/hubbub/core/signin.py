"""The public doors: registration (under the registration policy) and
sign-in (throttled, with the second factor), each written to the audit log.

Registration policy (`--registration`):

- `open`: anyone may register.
- `token` (the default): a registration token made by an admin is needed;
  while the server has no account at all, one registration without a token
  is accepted and that account becomes the server admin (the quick start's
  first user). `hubbub user create` works in every mode.
- `closed`: nobody registers over the API; operators create accounts with
  `hubbub user create`.

    login --> Throttle.begin_signin --> password --> second factor --> issue token
                    |                       \\______ wrong ______/
                rate_limited                   audit signin.failure
"""

from __future__ import annotations

from typing import Protocol

from hubbub.core.accounts import Accounts, check_device_id
from hubbub.core.audit import Audit
from hubbub.core.model import User
from hubbub.core.throttle import Throttle
from hubbub.errors import Forbidden, Unauthorized

__all__ = ["REGISTRATION_MODES", "SecondFactor", "SignIn"]

REGISTRATION_MODES = ("open", "token", "closed")


class SecondFactor(Protocol):
    """Two-factor sign-in (`core/totp.py`)."""

    async def required(self, user: User) -> bool: ...
    async def check(self, user: User, code: str | None, recovery_code: str | None) -> str:
        """ "totp" or "recovery" when the code is good; raises `Unauthorized`."""
        ...


class SignIn:
    def __init__(
        self,
        accounts: Accounts,
        throttle: Throttle,
        audit: Audit,
        *,
        registration: str = "token",
        second_factor: SecondFactor | None = None,
    ) -> None:
        if registration not in REGISTRATION_MODES:
            raise ValueError(f"registration must be one of {', '.join(REGISTRATION_MODES)}")
        self.accounts = accounts
        self.throttle = throttle
        self.audit = audit
        self.registration = registration
        self.second_factor = second_factor

    async def register(
        self,
        username: str,
        password: str,
        display_name: str | None = None,
        phone: str | None = None,
        email: str | None = None,
        *,
        device_id: str | None = None,
        registration_token: str | None = None,
        address: str,
    ) -> tuple[User, str]:
        await self.throttle.begin_registration(address)
        if self.registration == "closed":
            raise Forbidden("registration is closed on this server")
        invite = registration_token if self.registration == "token" else None
        if invite is not None and not 1 <= len(invite) <= 256:
            raise Forbidden(
                "registration token is unknown, expired or used up", path="$.registration_token"
            )
        user, token = await self.accounts.create_account(
            username,
            password,
            display_name,
            phone,
            email,
            device_id=device_id,
            invite=invite,
            bootstrap=self.registration == "token" and invite is None,
        )
        assert token is not None
        await self.audit.record(
            "register",
            actor=user.id,
            target=user.id,
            address=address,
            admin=user.is_admin,
            with_token=invite is not None,
        )
        return user, token

    async def login(
        self,
        password: str,
        *,
        username: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        device_id: str | None = None,
        totp_code: str | None = None,
        recovery_code: str | None = None,
        address: str,
    ) -> tuple[str, str]:
        device = check_device_id(device_id)
        user, key = await self.accounts.find_login_user(username=username, email=email, phone=phone)
        # Refused attempts are not audited: a flood would fill the log.
        attempt = await self.throttle.begin_signin(address, key)
        if not await self.accounts.check_password(user, password) or user is None:
            # An unknown name is not recorded: it may be a password typed in
            # the wrong field.
            await self.audit.record(
                "signin.failure",
                target=user.id if user else None,
                address=address,
                reason="password" if user else "unknown_user",
            )
            raise Unauthorized("invalid credentials")
        if self.second_factor is not None and await self.second_factor.required(user):
            try:
                how = await self.second_factor.check(user, totp_code, recovery_code)
            except Unauthorized:
                await self.audit.record(
                    "signin.failure",
                    target=user.id,
                    address=address,
                    reason="second_factor" if (totp_code or recovery_code) else "code_missing",
                )
                raise
            if how == "recovery":
                await self.audit.record("recovery_code.used", actor=user.id, target=user.id)
        await self.throttle.signin_succeeded(attempt)
        if user.deactivated_at is not None:
            await self.audit.record(
                "signin.failure", target=user.id, address=address, reason="deactivated"
            )
            raise Forbidden("account is deactivated")
        token = await self.accounts.issue(user, device)
        await self.audit.record("signin.success", actor=user.id, target=user.id, address=address)
        return user.id, token
