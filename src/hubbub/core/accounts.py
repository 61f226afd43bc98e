"""Accounts, devices and tokens.

Passwords are argon2id hashes (argon2-cffi), hashed off the event loop.
Tokens are 256-bit random strings handed out once; only their SHA-256 is
stored, so a database leak yields no usable token, and revocation is a row
update. Logins accept a username, an email or an E.164 phone number.

Each token is one signed-in device (a session). Its owner sees them by an
opaque `token_id` (never the token or its hash) and can revoke any of them;
changing the password revokes all but the caller's own. Every revocation,
logout included, goes out on the bus: each node closes the connections that
authenticated with that token (close 4401) and the token is refused after.

    revoke: store (revoked_at) --> Publisher.revoke(hash) --> every node's hub

Deactivating an account (an admin, or its owner) takes the same path for
every token and API key it holds, in one transaction that also marks it
deactivated; a token is only ever issued to an active account, in a writer
unit serialised with that one, so no session outlives a deactivation.
Registration policy, throttling and the second factor live in
`core/signin.py`, in front of this module.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import secrets

import phonenumbers
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hubbub.clock import Clock
from hubbub.core.context import Caller
from hubbub.core.model import ACCOUNT_KINDS, AccountKind, TokenInfo, User
from hubbub.core.ports import AccountStore
from hubbub.core.publisher import Publisher
from hubbub.core.throttle import Throttle
from hubbub.errors import Forbidden, NotFound, Unauthorized, ValidationFailed
from hubbub.ids import new_id, plausible_id

__all__ = ["Accounts", "hash_token", "normalise_phone"]

log = logging.getLogger("hubbub.accounts")

# `last_used_at` is refreshed at most this often per token: a write per
# request would make every read a write.
TOUCH_EVERY_MS = 60_000
MAX_TOUCHING = 1024

_USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,32}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$")
_DEVICE = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_phone(raw: str) -> str:
    try:
        num = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException:
        raise ValidationFailed("phone must be in international format", path="$.phone") from None
    if not phonenumbers.is_valid_number(num):
        raise ValidationFailed("phone is not a valid number", path="$.phone")
    return str(phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164))


NO_PASSWORD = "!agent"  # an agent made without a password: API keys only


def _check_password(password: str, path: str) -> None:
    if not 8 <= len(password) <= 1024:
        raise ValidationFailed("password must be 8-1024 characters", path=path)


def check_device_id(device_id: str | None) -> str:
    if device_id is None or device_id == "":
        return "d-" + secrets.token_hex(8)
    if not _DEVICE.match(device_id):
        raise ValidationFailed("device_id must be 1-128 of [A-Za-z0-9_.:-]", path="$.device_id")
    return device_id


class Accounts:
    def __init__(
        self,
        store: AccountStore,
        publisher: Publisher,
        clock: Clock,
        *,
        time_cost: int = 3,
        memory_kib: int = 65536,
        throttle: Throttle | None = None,
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.clock = clock
        # Password checks of signed-in callers (password change, deactivation,
        # two-factor changes) count against the same limits as sign-in, so a
        # stolen session cannot be used to guess the password.
        self.throttle = throttle
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)
        # A fixed hash to verify against when the user does not exist, so a
        # wrong username costs as much time as a wrong password.
        self._dummy = self._hasher.hash(secrets.token_hex(16))
        self._touching: dict[str, asyncio.Task[None]] = {}

    async def register(
        self,
        username: str,
        password: str,
        display_name: str | None = None,
        phone: str | None = None,
        email: str | None = None,
        device_id: str | None = None,
    ) -> tuple[str, str]:
        """An account and its first session, with no registration policy
        (operators, benchmarks and tests in-process; REST goes through `SignIn`)."""
        user, token = await self.create_account(
            username, password, display_name, phone, email, device_id=device_id
        )
        assert token is not None
        return user.id, token

    async def create_account(
        self,
        username: str,
        password: str | None,
        display_name: str | None = None,
        phone: str | None = None,
        email: str | None = None,
        *,
        device_id: str | None = None,
        session: bool = True,
        invite: str | None = None,
        bootstrap: bool = False,
        admin: bool = False,
        kind: AccountKind = "user",
    ) -> tuple[User, str | None]:
        """Create an account; with `session`, sign its first device in.

        `invite`: a registration token that must be live (one use is spent).
        `bootstrap`: allowed only while the server has no account; that first
        account becomes the admin. Both are checked in the transaction that
        inserts the user.
        `kind`: a person (`user`) or an automated principal (`agent`,
        `service`, `bot`: Symbia's sender types).
        `password=None` (automated kinds only): the account has no password
        and signs in only with API keys (`NO_PASSWORD` is no argon2 hash, so
        no password ever verifies against it).
        """
        if kind not in ACCOUNT_KINDS:
            raise ValidationFailed("kind must be one of " + ", ".join(ACCOUNT_KINDS), path="$.kind")
        if not _USERNAME.match(username):
            raise ValidationFailed(
                "username must be 3-32 of letters, digits, '_', '.', '-'", path="$.username"
            )
        if password is not None:
            _check_password(password, "$.password")
        elif kind == "user":
            raise ValidationFailed(
                "password is required (only agents, services and bots may have none)",
                path="$.password",
            )
        if display_name is not None and len(display_name) > 128:
            raise ValidationFailed("display_name is at most 128 characters", path="$.display_name")
        if email is not None and not _EMAIL.match(email):
            raise ValidationFailed("email is not valid", path="$.email")
        device = check_device_id(device_id)
        phone_e164 = normalise_phone(phone) if phone else None
        pw_hash = (
            await asyncio.to_thread(self._hasher.hash, password)
            if password is not None
            else NO_PASSWORD
        )
        now = self.clock.now_ms()
        user = User(
            id=new_id(),
            username=username.lower(),
            display_name=display_name or username,
            phone=phone_e164,
            email=email.lower() if email else None,
            info_text="",
            info_text_updated_at=None,
            last_seen_at=None,
            created_at=now,
            password_hash=pw_hash,
            is_admin=admin,
            kind=kind,
        )
        token = secrets.token_urlsafe(32) if session else None
        info = TokenInfo(user.id, device, hash_token(token), new_id()) if token else None
        outcome = await self.store.create_account(
            user, info, hash_token(invite) if invite is not None else None, bootstrap, now
        )
        if outcome == "invite_invalid":
            raise Forbidden(
                "registration token is unknown, expired or used up", path="$.registration_token"
            )
        if outcome == "not_first":
            raise Forbidden("registration needs a registration token", path="$.registration_token")
        return user, token

    async def login(
        self,
        password: str,
        *,
        username: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        device_id: str | None = None,
    ) -> tuple[str, str]:
        """Password sign-in with no throttling or second factor (in-process
        callers; REST goes through `SignIn`)."""
        device = check_device_id(device_id)
        user, _key = await self.find_login_user(username=username, email=email, phone=phone)
        if not await self.check_password(user, password) or user is None:
            raise Unauthorized("invalid credentials")
        return user.id, await self.issue(user, device)

    async def find_login_user(
        self, *, username: str | None, email: str | None, phone: str | None
    ) -> tuple[User | None, str]:
        """The account a login names, and the key its attempts are counted
        under (the user id, or what was typed when there is no such user)."""
        user: User | None = None
        if username:
            ident = username.lower()
            user = await self.store.find_user("username", ident)
        elif email:
            ident = email.lower()
            user = await self.store.find_user("email", ident)
        elif phone:
            ident = normalise_phone(phone)
            user = await self.store.find_user("phone", ident)
        else:
            raise ValidationFailed("give username, email or phone", path="$.username")
        return user, (user.id if user else "?" + ident)

    async def check_password(self, user: User | None, password: str) -> bool:
        """Constant work whether or not the user exists."""
        ok = await asyncio.to_thread(
            self._verify, user.password_hash if user else self._dummy, password
        )
        return bool(ok and user is not None)

    async def issue(self, user: User, device_id: str) -> str:
        """A new token for an active account."""
        if user.deactivated_at is not None:
            raise Forbidden("account is deactivated")
        token = await self._issue(user.id, check_device_id(device_id))
        if token is None:  # deactivated since it was read
            raise Forbidden("account is deactivated")
        return token

    def _verify(self, pw_hash: str, password: str) -> bool:
        try:
            return bool(self._hasher.verify(pw_hash, password))
        except (VerificationError, InvalidHashError):
            return False

    async def _issue(self, user_id: str, device_id: str) -> str | None:
        token = secrets.token_urlsafe(32)
        ok = await self.store.insert_token(
            TokenInfo(user_id, device_id, hash_token(token), new_id()), self.clock.now_ms()
        )
        return token if ok else None

    async def authenticate(self, token: str) -> TokenInfo:
        if not token or len(token) > 512:
            raise Unauthorized("invalid token")
        info = await self.store.lookup_token(hash_token(token))
        if info is None:
            raise Unauthorized("invalid token")
        now = self.clock.now_ms()
        if info.last_used_at is None or now - info.last_used_at >= TOUCH_EVERY_MS:
            self._touch(info.token_hash, now)
        return info

    def _touch(self, token_hash: str, now: int) -> None:
        """Record the use in the background: bookkeeping never delays or fails a request."""
        if token_hash in self._touching or len(self._touching) >= MAX_TOUCHING:
            return
        task = asyncio.get_running_loop().create_task(self._do_touch(token_hash, now))
        self._touching[token_hash] = task
        task.add_done_callback(lambda _t: self._touching.pop(token_hash, None))

    async def _do_touch(self, token_hash: str, now: int) -> None:
        try:
            await self.store.touch_token(token_hash, now)
        except Exception as exc:  # advisory data: log the kind, never the hash
            log.warning("token last-use update failed", extra={"error": type(exc).__name__})

    async def close(self) -> None:
        """Let pending last-use updates finish (called before the store closes)."""
        if self._touching:
            await asyncio.wait(list(self._touching.values()), timeout=5)

    async def logout(self, token: str) -> None:
        h = hash_token(token)
        if not await self.store.revoke_token(h, self.clock.now_ms()):
            raise Unauthorized("invalid token")
        await self.publisher.revoke(h)

    async def list_tokens(self, caller: Caller) -> list[TokenInfo]:
        """The caller's live tokens (signed-in devices), oldest first."""
        return await self.store.list_tokens(caller.user_id)

    async def revoke_token(self, caller: Caller, token_id: str) -> None:
        """Sign one of the caller's devices out, the caller's own included.

        Another user's token id is answered like an unknown one.
        """
        if not plausible_id(token_id):
            raise NotFound("token not found")
        h = await self.store.revoke_token_id(caller.user_id, token_id, self.clock.now_ms())
        if h is None:
            raise NotFound("token not found")
        await self.publisher.revoke(h)

    async def change_password(
        self, caller: Caller, current: str, new: str, address: str = "unknown"
    ) -> int:
        """Set a new password and sign out every other device; how many were signed out."""
        _check_password(new, "$.new_password")
        await self.verify_password(caller, current, address, path="$.current_password")
        pw_hash = await asyncio.to_thread(self._hasher.hash, new)
        revoked = await self.store.set_password(
            caller.user_id, pw_hash, caller.token_hash, self.clock.now_ms()
        )
        for h in revoked:
            await self.publisher.revoke(h)
        return len(revoked)

    async def get_user(self, user_id: str) -> User | None:
        return await self.store.get_user(user_id)

    async def find_by_username(self, username: str) -> User | None:
        return await self.store.find_user("username", username.lower())

    # -- account state: every change that ends sessions publishes each revoked
    # hash, so every node closes the connections made with it (close 4401).

    async def _publish_revoked(self, hashes: list[str]) -> None:
        for h in hashes:
            await self.publisher.revoke(h)

    async def deactivate(self, user_id: str, *, erase: bool = False) -> bool:
        """Deactivate an account: every token and API key is revoked and its
        live connections close on every node; signing in is refused until it
        is reactivated. `erase` is a deletion request (docs/security.md)."""
        revoked = await self.store.deactivate(user_id, self.clock.now_ms(), erase=erase)
        if revoked is None:
            return False
        await self._publish_revoked(revoked)
        return True

    async def reactivate(self, user_id: str) -> bool:
        """Allow signing in again (old tokens stay revoked). An account whose
        data deletion was requested cannot come back."""
        return await self.store.reactivate(user_id)

    async def reset_password(self, user_id: str, new: str) -> bool:
        """An admin sets a password: every session ends, API keys stay."""
        _check_password(new, "$.new_password")
        pw_hash = await asyncio.to_thread(self._hasher.hash, new)
        revoked = await self.store.reset_password(user_id, pw_hash, self.clock.now_ms())
        if revoked is None:
            return False
        await self._publish_revoked(revoked)
        return True

    async def verify_password(
        self, caller: Caller, password: str, address: str = "unknown", *, path: str = "$.password"
    ) -> User:
        """The caller's own account, once its password is confirmed: 403 if
        wrong (not 401: the bearer token is fine, and clients log out on a
        401), 429 once the sign-in limits are reached."""
        attempt = None
        if self.throttle is not None:
            attempt = await self.throttle.begin_signin(address, caller.user_id)
        user = await self.store.get_user(caller.user_id)
        if not await self.check_password(user, password) or user is None:
            raise Forbidden("password is wrong", path=path)
        if attempt is not None and self.throttle is not None:
            await self.throttle.signin_succeeded(attempt)
        return user
