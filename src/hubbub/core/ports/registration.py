"""Registration tokens: invitations an admin hands out while registration
is `token`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["Invite", "InviteStore"]


@dataclass(slots=True)
class Invite:
    """A registration token as stored: never the token, only its hash."""

    id: str
    created_by: str | None
    created_at: int
    expires_at: int | None
    uses_allowed: int | None  # None: unlimited until it expires
    uses: int
    revoked_at: int | None


class InviteStore(Protocol):
    async def create_invite(self, invite: Invite, token_hash: str) -> None: ...
    async def list_invites(self) -> list[Invite]: ...
    async def revoke_invite(self, invite_id: str, now: int) -> bool: ...
