"""Who sees a user's statuses (`user/status/visibility`, `.../ack`) and whose
statuses a viewer mutes (`contacts/status-mute`, `.../ack`).

The rule shape is the presence setting's (`core/presence_settings.py`),
with the author's contacts as the widest audience, never strangers:

    contacts  everyone sharing a direct chat with the author (the default)
    custom    only those of `allowed_user_ids` who are contacts
    except    contacts, but not `blocked_user_ids` (also what `contacts`
              plus a deny list means)
    nobody    no one but the author's own devices
    blocked_user_ids: never these, whatever the rule

A block either way removes someone from the contacts. Both settings are the
user's own state: `StatusVisibilityUpdated` and `ContactStatusMuteChanged`
are user-scoped events (every device of that user, live and through sync,
nobody else: a muted contact never learns it). `request_id` makes each
write idempotent: a retry answers the first time and writes nothing.
"""

from __future__ import annotations

import re
from typing import Any

from hubbub.clock import Clock, iso
from hubbub.core.context import Caller
from hubbub.core.frames import event
from hubbub.core.ports import PresenceVisibility, StatusStore, StatusVisibilityStore
from hubbub.core.publisher import Publisher
from hubbub.errors import Conflict, NotFound, ValidationFailed
from hubbub.ids import plausible_id

__all__ = ["DEFAULT", "MAX_LISTED", "VISIBILITIES", "StatusVisibility", "permits"]

VISIBILITIES = ("contacts", "custom", "except", "nobody")
MAX_LISTED = 256
MAX_REQUEST_ID = 64
MAX_MUTES = 1000
DEFAULT = PresenceVisibility("contacts")
CHANNEL = "user/status/visibility"
MUTE_CHANNEL = "contacts/status-mute"
_EVENT_ID = re.compile(r"^[0-9]{1,18}$")


def permits(setting: PresenceVisibility, viewer: str, contacts: set[str]) -> bool:
    """Whether `setting` lets `viewer` see its owner's statuses (`contacts`: the owner's)."""
    if viewer not in contacts or viewer in setting.blocked:
        return False
    match setting.visibility:
        case "contacts" | "except":
            return True
        case "custom":
            return viewer in setting.allowed
        case _:
            return False


def _ids(value: list[str] | None, field: str, me: str) -> tuple[str, ...]:
    path = f"$.data.{field}"
    if value is None:
        return ()
    if len(value) > MAX_LISTED:
        raise ValidationFailed(f"at most {MAX_LISTED} user ids", path=path)
    for i, uid in enumerate(value):
        if not isinstance(uid, str) or not plausible_id(uid):
            raise ValidationFailed("not a user id", path=f"{path}[{i}]")
        if uid == me:
            raise ValidationFailed("you always see your own statuses", path=f"{path}[{i}]")
    return tuple(sorted(set(value)))


def _request_id(value: str | None, path: str) -> str | None:
    if value is not None and not 1 <= len(value) <= MAX_REQUEST_ID:
        raise ValidationFailed(f"must be 1-{MAX_REQUEST_ID} characters", path=path)
    return value


def ack_data(request_id: str | None, done_at: int) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "success": True,
        "error_code": None,
        "error_message": None,
        "timestamp": iso(done_at),
    }


class StatusVisibility:
    def __init__(
        self,
        store: StatusVisibilityStore,
        statuses: StatusStore,
        publisher: Publisher,
        clock: Clock,
    ) -> None:
        self.store = store
        self.statuses = statuses
        self.publisher = publisher
        self.clock = clock

    async def of(self, user_id: str) -> PresenceVisibility:
        return await self.store.status_visibility_of(user_id) or DEFAULT

    async def audience(self, author_id: str) -> set[str]:
        """Who may see `author_id`'s statuses now (the author aside)."""
        setting = await self.of(author_id)
        if setting.visibility == "nobody":
            return set()
        contacts = await self.statuses.contacts_of(author_id)
        return {v for v in contacts if permits(setting, v, contacts)}

    async def admits(self, author_id: str, viewer: str) -> bool:
        return viewer in await self.audience(author_id)

    async def visible_authors(self, viewer: str) -> set[str]:
        """The viewer and those of their contacts whose statuses they may see."""
        found = {viewer}
        for c in await self.statuses.contacts_of(viewer):
            # "Shares a direct chat, no block" is symmetric: the viewer is c's contact.
            if permits(await self.of(c), viewer, {viewer}):
                found.add(c)
        return found

    async def update(
        self,
        caller: Caller,
        visibility: str,
        allowed_user_ids: list[str] | None,
        blocked_user_ids: list[str] | None,
        request_id: str | None,
    ) -> dict[str, Any]:
        """Validate, store and announce; the `SetStatusVisibilityAck` data."""
        if visibility not in VISIBILITIES:
            raise ValidationFailed(
                f"must be one of {', '.join(VISIBILITIES)}", path="$.data.visibility"
            )
        if visibility == "custom" and allowed_user_ids is None:
            raise ValidationFailed("required for custom", path="$.data.allowed_user_ids")
        if visibility != "custom" and allowed_user_ids:
            raise ValidationFailed("only for custom", path="$.data.allowed_user_ids")
        _request_id(request_id, "$.data.request_id")
        me = caller.user_id
        allowed = _ids(allowed_user_ids, "allowed_user_ids", me)
        blocked = _ids(blocked_user_ids, "blocked_user_ids", me)
        now = self.clock.now_ms()
        setting = PresenceVisibility(visibility, allowed, blocked, now)
        data = {
            "user_id": me,
            "visibility": visibility,
            "allowed_user_ids": list(allowed),
            "blocked_user_ids": list(blocked),
            "timestamp": iso(now),
        }
        ev = event("u", me, CHANNEL, "StatusVisibilityUpdated", data)
        done_at, stored = await self.store.set_status_visibility(me, setting, request_id, ev)
        if stored is not None:
            await self.publisher.event(stored, [me], skip_conn=caller.conn_id)
        return ack_data(request_id, done_at)

    async def acknowledge(self, caller: Caller, request_id: str) -> dict[str, Any]:
        """The ack of an earlier `SetStatusVisibility` made with `request_id`."""
        _request_id(request_id, "$.data.request_id")
        done_at = await self.store.request_done_at(caller.user_id, "visibility", request_id)
        if done_at is None:
            raise NotFound("request not found")
        return ack_data(request_id, done_at)

    async def set_mute(
        self, caller: Caller, contact_id: str, muted: bool, request_id: str | None
    ) -> dict[str, Any]:
        """Mute or unmute a contact's statuses; the `ContactStatusMuteAck` data."""
        _request_id(request_id, "$.data.request_id")
        me = caller.user_id
        if contact_id == me:
            raise ValidationFailed("not yourself", path="$.data.contact_id")
        if not plausible_id(contact_id) or not await self.store.user_exists(contact_id):
            raise NotFound("user not found")
        now = self.clock.now_ms()
        data = {"contact_id": contact_id, "muted": muted, "changed_by": me, "timestamp": iso(now)}
        ev = event("u", me, MUTE_CHANNEL, "ContactStatusMuteChanged", data)
        result = await self.store.set_mute(me, contact_id, muted, request_id, now, ev, MAX_MUTES)
        if result is None:
            raise Conflict(f"at most {MAX_MUTES} muted contacts")
        done_at, stored = result
        if stored is not None:
            await self.publisher.event(stored, [me], skip_conn=caller.conn_id)
        return ack_data(request_id, done_at)

    async def acknowledge_mute(
        self, caller: Caller, event_id: str, received_at: str | None
    ) -> tuple[dict[str, Any], bool]:
        """Record that a device received a `ContactStatusMuteChanged` (its
        `seq` is the `event_id`); the ack data and whether it was the first."""
        if received_at is not None and len(received_at) > 64:
            raise ValidationFailed("at most 64 characters", path="$.data.received_at")
        me = caller.user_id
        if not _EVENT_ID.match(event_id):
            raise NotFound("event not found")
        if not await self.store.is_mute_event(me, int(event_id)):
            raise NotFound("event not found")
        now = self.clock.now_ms()
        first = await self.store.record_mute_ack(me, str(int(event_id)), received_at, now)
        return ack_data(event_id, now), first
