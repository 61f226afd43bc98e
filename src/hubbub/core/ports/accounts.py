"""Users, their passwords and their device tokens."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from hubbub.core.model import TokenInfo, User

__all__ = ["AccountStore", "UserDirectory"]


class UserDirectory(Protocol):
    """The one read about users every area needs: do these ids exist."""

    async def existing_users(self, user_ids: Iterable[str]) -> set[str]: ...


class AccountStore(UserDirectory, Protocol):
    async def create_user(self, user: User) -> None: ...
    async def create_account(
        self,
        user: User,
        session: TokenInfo | None,
        invite_hash: str | None,
        bootstrap: bool,
        now: int,
    ) -> str:
        """ "created", "invite_invalid" or "not_first" (see `Accounts.create_account`)."""
        ...

    async def get_user(self, user_id: str) -> User | None: ...
    async def find_user(self, field: str, value: str) -> User | None: ...
    async def insert_token(self, info: TokenInfo, now: int) -> bool:
        """False (nothing inserted) when the user is missing or deactivated."""
        ...

    async def lookup_token(self, token_hash: str) -> TokenInfo | None: ...
    async def revoke_token(self, token_hash: str, now: int) -> bool: ...
    async def touch_token(self, token_hash: str, now: int) -> None: ...
    async def list_tokens(self, user_id: str) -> list[TokenInfo]: ...
    async def revoke_token_id(self, user_id: str, token_id: str, now: int) -> str | None:
        """Revoke one of `user_id`'s live tokens by id; its hash, or None if none matched."""
        ...

    async def set_password(
        self, user_id: str, password_hash: str, keep_token_hash: str, now: int
    ) -> list[str]:
        """Replace the password and revoke every other live token; their hashes."""
        ...

    async def deactivate(self, user_id: str, now: int, *, erase: bool = False) -> list[str] | None:
        """Deactivate and revoke every token and API key: their hashes; None if no user."""
        ...

    async def reactivate(self, user_id: str) -> bool: ...
    async def reset_password(self, user_id: str, password_hash: str, now: int) -> list[str] | None:
        """Replace the password and revoke every token; their hashes; None if no user."""
        ...

    async def set_admin(self, user_id: str, admin: bool) -> bool: ...
