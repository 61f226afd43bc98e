"""Accounts for another system's users, created the first time one shows up.

Spec 003's host application names its users by its own ids (UUIDs) and
never registers them here. Each id gets a hubbub account of its own on
first use, so those users are ordinary members of core conversations and
`/ws` users see them like anyone else. The account has no password (it
cannot log in by itself); the host application vouches for the user with a
signed token. The mapping never changes, so both directions are cached.

    (namespace, external id) --ensure--> account id   (one writer unit: user + mapping)
"""

from __future__ import annotations

from collections.abc import Iterable

from hubbub.clock import Clock
from hubbub.core.model import User
from hubbub.core.ports import ExternalUserStore
from hubbub.errors import ValidationFailed
from hubbub.ids import new_id

__all__ = ["ExternalUsers"]

MAX_EXTERNAL_ID = 128
MAX_CACHED = 100_000
# argon2 never produces this, so the account has no usable password.
NO_PASSWORD = "!external"


class ExternalUsers:
    def __init__(self, store: ExternalUserStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._to_user: dict[tuple[str, str], str] = {}
        self._to_external: dict[tuple[str, str], str] = {}

    def _remember(self, namespace: str, external_id: str, user_id: str) -> None:
        if len(self._to_user) > MAX_CACHED:
            self._to_user.clear()
            self._to_external.clear()
        self._to_user[(namespace, external_id)] = user_id
        self._to_external[(namespace, user_id)] = external_id

    async def resolve(
        self, namespace: str, external_id: str, display_name: str = "", path: str = "$.user_id"
    ) -> str:
        """The account of `external_id`, created now if it has none."""
        if not 1 <= len(external_id) <= MAX_EXTERNAL_ID or not external_id.isprintable():
            raise ValidationFailed(
                f"user id must be 1-{MAX_EXTERNAL_ID} printable characters", path=path
            )
        cached = self._to_user.get((namespace, external_id))
        if cached is not None:
            return cached
        uid = new_id()
        user = User(
            id=uid,
            username=f"{namespace}-{uid}",
            display_name=display_name[:128],
            phone=None,
            email=None,
            info_text="",
            info_text_updated_at=None,
            last_seen_at=None,
            created_at=self.clock.now_ms(),
            password_hash=NO_PASSWORD,
        )
        user_id = await self.store.ensure_external(namespace, external_id, user)
        self._remember(namespace, external_id, user_id)
        return user_id

    async def external_of(self, namespace: str, user_ids: Iterable[str]) -> dict[str, str]:
        """account id -> external id; accounts without one are left out."""
        out: dict[str, str] = {}
        missing = []
        for uid in user_ids:
            ext = self._to_external.get((namespace, uid))
            if ext is not None:
                out[uid] = ext
            else:
                missing.append(uid)
        if missing:
            for uid, ext in (await self.store.external_ids(namespace, missing)).items():
                self._remember(namespace, ext, uid)
                out[uid] = ext
        return out
