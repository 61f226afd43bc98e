"""Profile info text ("Hey there! I am using ...").

Updates reach the owner's other devices and everyone who shares a
conversation with them, and are kept in their change feeds; the owner's
info-text visibility (`core/info_visibility.py`) narrows both.
"""

from __future__ import annotations

from typing import Any

from hubbub.clock import Clock, iso
from hubbub.core.context import Caller
from hubbub.core.frames import event
from hubbub.core.info_visibility import InfoVisibility
from hubbub.core.ports import Contacts, ProfileStore
from hubbub.core.publisher import Publisher
from hubbub.errors import Forbidden, ValidationFailed

__all__ = ["Profiles"]

MAX_INFO_TEXT = 700


class Profiles:
    def __init__(
        self,
        store: ProfileStore,
        contacts: Contacts,
        publisher: Publisher,
        clock: Clock,
        visibility: InfoVisibility | None = None,
    ) -> None:
        self.store = store
        self.contacts = contacts
        self.publisher = publisher
        self.clock = clock
        self.visibility = visibility

    async def update_info_text(
        self, caller: Caller, user_id: str | None, info_text: str
    ) -> dict[str, Any]:
        if user_id is not None and user_id != caller.user_id:
            raise Forbidden("you can only change your own profile")
        if len(info_text) > MAX_INFO_TEXT:
            raise ValidationFailed(f"at most {MAX_INFO_TEXT} characters", path="$.data.info_text")
        now = self.clock.now_ms()
        data = {"user_id": caller.user_id, "info_text": info_text, "updated_at": iso(now)}
        ev = event("a", caller.user_id, "profile/info-text", "ProfileInfoTextUpdated", data)
        stored = await self.store.update_info_text(caller.user_id, info_text, now, ev)
        peers = await self.contacts.contacts_of(caller.user_id)
        if self.visibility is not None:
            peers = await self.visibility.audience(caller.user_id, peers)
        await self.publisher.event(stored, [caller.user_id, *peers], skip_conn=caller.conn_id)
        return data
