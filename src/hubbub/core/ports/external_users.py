"""Accounts of another system's users, keyed by that system's ids."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from hubbub.core.model import User

__all__ = ["ExternalUserStore"]


class ExternalUserStore(Protocol):
    async def ensure_external(self, namespace: str, external_id: str, user: User) -> str:
        """The account mapped to `external_id`; `user` is created for it if there is none."""
        ...

    async def external_ids(self, namespace: str, user_ids: Iterable[str]) -> dict[str, str]:
        """account id -> external id, for those of `user_ids` that have one."""
        ...
