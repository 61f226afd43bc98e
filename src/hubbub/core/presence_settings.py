"""Who may see a user's online status and last seen (`user/presence-settings`).

Each user picks one rule, WhatsApp-style, plus an optional deny list that
wins over it:

    everyone  whoever presence reaches (people sharing a conversation; any
              signed-in user for the REST `last_seen_at`) -- the default
    contacts  people who share a *direct* conversation with the user
    custom    only `allowed_user_ids`
    nobody    no one
    blocked_user_ids: never these, whatever the rule

The rule is applied by the sender of every presence fact (`core/presence.py`
for the live events and the snapshot on connect, `screen` for REST profiles,
`visible_among` for MTChat's `is_online`): a viewer who is not entitled sees
the user as one who was never online (`offline`, no `last_seen_at`). It is
not reciprocal: hiding your status does not hide others' from you (see
docs/protocol.md for why).

The setting is the user's own state: `PresenceVisibilityUpdated` is a
user-scoped event (every device of the owner, live and in the change feed,
nobody else). An update that says what is stored already writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from hubbub.clock import Clock, iso
from hubbub.core.context import Caller
from hubbub.core.frames import event
from hubbub.core.model import StoredEvent, User
from hubbub.core.ports import PresenceSettingStore, PresenceVisibility
from hubbub.errors import ValidationFailed
from hubbub.ids import plausible_id

__all__ = ["DEFAULT", "MAX_LISTED", "VISIBILITIES", "PresenceSettings", "permits"]

VISIBILITIES = ("everyone", "contacts", "nobody", "custom")
MAX_LISTED = 256
DEFAULT = PresenceVisibility("everyone")

CHANNEL = "user/presence-settings"
TYPE = "PresenceVisibilityUpdated"


def permits(setting: PresenceVisibility, viewer: str, direct_peers: set[str]) -> bool:
    """Whether `setting` lets `viewer` see its owner (`direct_peers`: the owner's)."""
    if viewer in setting.blocked:
        return False
    match setting.visibility:
        case "everyone":
            return True
        case "contacts":
            return viewer in direct_peers
        case "custom":
            return viewer in setting.allowed
        case _:
            return False


def applied(setting: PresenceVisibility) -> str:
    """`visibility_applied` of a presence event: which kind of rule the owner has.

    Only `everyone` is named; every narrower rule reads `restricted`, for those
    shown and those hidden alike, so a viewer does not learn whether they are
    on someone's list (and one on the deny list of an `everyone` user reads
    `everyone`, like anyone seeing a user who was never online)."""
    return "everyone" if setting.visibility == "everyone" else "restricted"


def _ids(value: list[str] | None, field: str, me: str) -> tuple[str, ...]:
    path = f"$.data.{field}"
    if value is None:
        return ()
    if len(value) > MAX_LISTED:
        raise ValidationFailed(f"at most {MAX_LISTED} user ids", path=path)
    for i, uid in enumerate(value):
        if not plausible_id(uid):
            raise ValidationFailed("not a user id", path=f"{path}[{i}]")
        if uid == me:
            raise ValidationFailed("you always see your own presence", path=f"{path}[{i}]")
    return tuple(sorted(set(value)))


def data_of(user_id: str, s: PresenceVisibility) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "visibility": s.visibility,
        "allowed_user_ids": list(s.allowed),
        "blocked_user_ids": list(s.blocked),
        "updated_at": iso(s.updated_at) if s.updated_at is not None else None,
    }


class PresenceSettings:
    def __init__(self, store: PresenceSettingStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    async def of(self, user_id: str) -> PresenceVisibility:
        return (await self.store.visibility_of([user_id])).get(user_id, DEFAULT)

    async def audience(
        self, owner: str, candidates: set[str], setting: PresenceVisibility | None = None
    ) -> set[str]:
        """Those of `candidates` whom `owner`'s setting lets see them."""
        s = setting if setting is not None else await self.of(owner)
        if s.visibility == "everyone" and not s.blocked:
            return set(candidates)
        peers = await self.store.direct_peers_of(owner) if s.visibility == "contacts" else set()
        return {v for v in candidates if permits(s, v, peers)}

    async def visible_among(self, viewer: str, owners: Iterable[str]) -> set[str]:
        """Those of `owners` whose settings let `viewer` see them (the viewer included)."""
        return (await self.sight(viewer, owners))[1]

    async def sight(
        self, viewer: str, owners: Iterable[str]
    ) -> tuple[dict[str, PresenceVisibility], set[str]]:
        """The settings of `owners` (default included), and those who let `viewer` see them."""
        owners = set(owners)
        stored = await self.store.visibility_of(owners - {viewer})
        # "Shares a direct conversation" is symmetric: the viewer's peers, once.
        need_peers = any(s.visibility == "contacts" for s in stored.values())
        peers = await self.store.direct_peers_of(viewer) if need_peers else set()
        settings = {o: stored.get(o, DEFAULT) for o in owners}
        visible = {
            o
            for o, s in settings.items()
            if o == viewer or permits(s, viewer, {viewer} if o in peers else set())
        }
        return settings, visible

    async def screen(self, viewer: str, user: User) -> User:
        """`user` as `viewer` may see it over REST: no `last_seen_at` unless entitled."""
        if user.id == viewer or user.last_seen_at is None:
            return user
        if user.id in await self.visible_among(viewer, [user.id]):
            return user
        return replace(user, last_seen_at=None)

    async def update(
        self,
        caller: Caller,
        visibility: str,
        allowed_user_ids: list[str] | None,
        blocked_user_ids: list[str] | None,
    ) -> tuple[PresenceVisibility, PresenceVisibility, StoredEvent | None]:
        """Validate and store; (before, after, the event or None if nothing changed)."""
        if visibility not in VISIBILITIES:
            raise ValidationFailed(
                f"must be one of {', '.join(VISIBILITIES)}", path="$.data.visibility"
            )
        if visibility == "custom" and allowed_user_ids is None:
            raise ValidationFailed("required for custom", path="$.data.allowed_user_ids")
        if visibility != "custom" and allowed_user_ids:
            raise ValidationFailed("only for custom", path="$.data.allowed_user_ids")
        me = caller.user_id
        allowed = _ids(allowed_user_ids, "allowed_user_ids", me)
        blocked = _ids(blocked_user_ids, "blocked_user_ids", me)
        before = await self.of(me)
        after = PresenceVisibility(visibility, allowed, blocked, self.clock.now_ms())
        ev = event("u", me, CHANNEL, TYPE, data_of(me, after))
        stored = await self.store.set_visibility(me, after, ev)
        if stored is None:
            return before, await self.of(me), None
        return before, after, stored
