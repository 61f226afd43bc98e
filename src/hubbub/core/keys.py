"""Public key directory for end-to-end encryption.

A user publishes keys under their own id; publishing a new `key_id` rotates
(the newest is current, older ones stay fetchable so old messages can still
be verified). Re-publishing the same key is idempotent; reusing a `key_id`
with different material is a conflict. Every peer who shares a conversation
with the owner gets `PublicKeyReceived` (and it is in their change feed).
"""

from __future__ import annotations

from typing import Any

from hubbub.clock import Clock, iso
from hubbub.core.context import Caller
from hubbub.core.frames import event
from hubbub.core.ports import Contacts, KeyStore, UserDirectory
from hubbub.core.publisher import Publisher
from hubbub.errors import Forbidden, NotFound, ValidationFailed

__all__ = ["Keys"]


class Keys:
    def __init__(
        self,
        store: KeyStore,
        users: UserDirectory,
        contacts: Contacts,
        publisher: Publisher,
        clock: Clock,
    ) -> None:
        self.store = store
        self.users = users
        self.contacts = contacts
        self.publisher = publisher
        self.clock = clock

    async def publish(
        self, caller: Caller, user_id: str | None, key_id: str, public_key: str, algorithm: str
    ) -> dict[str, Any]:
        if user_id is not None and user_id != caller.user_id:
            raise Forbidden("keys can only be published for yourself")
        for name, value, limit in (
            ("key_id", key_id, 256),
            ("public_key", public_key, 16384),
            ("algorithm", algorithm, 64),
        ):
            if not value or len(value) > limit:
                raise ValidationFailed(
                    f"{name} must be 1-{limit} characters", path=f"$.data.{name}"
                )
        now = self.clock.now_ms()
        data = {
            "user_id": caller.user_id,
            "key_id": key_id,
            "public_key": public_key,
            "algorithm": algorithm,
            "timestamp": iso(now),
        }
        ev = event("a", caller.user_id, "crypto/keys", "PublicKeyReceived", data)
        stored = await self.store.publish_key(
            caller.user_id, key_id, public_key, algorithm, now, ev
        )
        peers = await self.contacts.contacts_of(caller.user_id)
        await self.publisher.event(stored, [caller.user_id, *peers], skip_conn=caller.conn_id)
        return data

    async def fetch(self, user_id: str) -> list[dict[str, Any]]:
        if not await self.users.existing_users([user_id]):
            raise NotFound("user not found")
        rows = await self.store.list_keys(user_id)
        return [
            {
                "user_id": user_id,
                "key_id": r["key_id"],
                "public_key": r["public_key"],
                "algorithm": r["algorithm"],
                "timestamp": iso(int(r["created_at"])),  # type: ignore[call-overload]
            }
            for r in rows
        ]
