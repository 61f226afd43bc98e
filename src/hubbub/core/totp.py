"""Two-factor sign-in with TOTP (RFC 6238, pyotp): 6 digits, 30-second steps.

Enrolment is two steps, both behind the password or a live session: `enroll`
(password) stores a fresh secret as pending and returns it with its
`otpauth://` URI for an authenticator app; `confirm` (the first code) turns
it on and returns ten one-time recovery codes, stored as SHA-256 hashes and
shown only then. Removing it needs the password.

A code is accepted for the step before, the current one and the one after
(clock drift), and each step only once: the store keeps the last step
accepted and takes a code only for a later one, in one atomic update, so a
code seen over a shoulder or replayed from a log is refused even inside its
window, on every node. The secret itself must be kept readable to check
codes (docs/security.md says what that means for a database leak).

Time comes from the injected clock, so tests step through windows.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

import pyotp

from hubbub.clock import Clock
from hubbub.core.accounts import Accounts
from hubbub.core.audit import Audit
from hubbub.core.context import Caller
from hubbub.core.model import User
from hubbub.core.ports.totp import TotpStore
from hubbub.errors import Conflict, NotFound, Unauthorized, ValidationFailed

__all__ = ["STEP_S", "Enrolment", "Totp"]

STEP_S = 30
RECOVERY_CODES = 10
ISSUER = "hubbub"
_CODE = re.compile(r"^[0-9]{6}$")


def _recovery_hash(code: str) -> str:
    norm = code.strip().lower().replace("-", "").replace(" ", "")
    return hashlib.sha256(norm.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Enrolment:
    secret: str
    uri: str


class Totp:
    def __init__(self, store: TotpStore, accounts: Accounts, audit: Audit, clock: Clock) -> None:
        self.store = store
        self.accounts = accounts
        self.audit = audit
        self.clock = clock

    def _step(self) -> int:
        return self.clock.now_ms() // 1000 // STEP_S

    def _matching_step(self, secret: str, code: str) -> int | None:
        """The step (previous, current or next) whose code this is."""
        if not _CODE.match(code):
            return None
        otp = pyotp.TOTP(secret, interval=STEP_S)
        now = self._step()
        for step in (now - 1, now, now + 1):
            if hmac.compare_digest(otp.generate_otp(step), code):
                return step
        return None

    async def enroll(self, caller: Caller, password: str, address: str = "unknown") -> Enrolment:
        user = await self.accounts.verify_password(caller, password, address)
        secret = pyotp.random_base32()
        if not await self.store.put_pending(user.id, secret, self.clock.now_ms()):
            raise Conflict("two-factor sign-in is already on: disable it first")
        await self.audit.record("totp.enroll", actor=user.id, target=user.id)
        uri = pyotp.TOTP(secret, interval=STEP_S).provisioning_uri(
            name=user.username, issuer_name=ISSUER
        )
        return Enrolment(secret, uri)

    async def confirm(self, caller: Caller, code: str) -> list[str]:
        """Turn a pending enrolment on with its first code; the recovery codes."""
        state = await self.store.get_totp(caller.user_id)
        if state is None or state.enabled_at is not None:
            raise NotFound("no pending two-factor enrolment")
        step = self._matching_step(state.secret, code)
        if step is None:
            raise ValidationFailed("wrong code", path="$.code")
        codes = ["-".join(secrets.token_hex(2) for _ in range(3)) for _ in range(RECOVERY_CODES)]
        hashes = [_recovery_hash(c) for c in codes]
        if not await self.store.enable_totp(caller.user_id, step, hashes, self.clock.now_ms()):
            raise NotFound("no pending two-factor enrolment")
        await self.audit.record("totp.enable", actor=caller.user_id, target=caller.user_id)
        return codes

    async def disable(self, caller: Caller, password: str, address: str = "unknown") -> None:
        user = await self.accounts.verify_password(caller, password, address)
        if not await self.store.disable_totp(user.id):
            raise NotFound("two-factor sign-in is not on")
        await self.audit.record("totp.disable", actor=user.id, target=user.id)

    async def status(self, caller: Caller) -> tuple[bool, int]:
        state = await self.store.get_totp(caller.user_id)
        on = state is not None and state.enabled_at is not None
        return on, (await self.store.recovery_left(caller.user_id) if on else 0)

    # -- the second factor of `SignIn` ------------------------------------------------

    async def required(self, user: User) -> bool:
        state = await self.store.get_totp(user.id)
        return state is not None and state.enabled_at is not None

    async def check(self, user: User, code: str | None, recovery_code: str | None) -> str:
        if recovery_code:
            if len(recovery_code) <= 64 and await self.store.use_recovery(
                user.id, _recovery_hash(recovery_code), self.clock.now_ms()
            ):
                return "recovery"
            raise Unauthorized("wrong or used recovery code", path="$.recovery_code")
        if not code:
            raise Unauthorized("two-factor code required", path="$.totp_code")
        state = await self.store.get_totp(user.id)
        step = self._matching_step(state.secret, code) if state is not None else None
        if step is None or not await self.store.use_step(user.id, step):
            raise Unauthorized("wrong or already used code", path="$.totp_code")
        return "totp"
