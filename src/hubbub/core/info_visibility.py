"""Who may see a user's info text (`user/info-visibility`).

The setting mirrors presence's (`core/presence_settings.py`) and is judged by
its `permits`: `visibility` is the object

    {"rule": "everyone" | "contacts" | "nobody" | "custom",
     "allowed_user_ids": [...],   # custom only: who may see it
     "blocked_user_ids": [...]}   # never these, whatever the rule

`everyone` is whoever the info text reaches at all (people sharing a
conversation; any signed-in user over REST), `contacts` those sharing a
*direct* conversation. The owner always sees their own text.

It is applied everywhere the text is shown: the live `ProfileInfoTextUpdated`
fan-out (`Profiles`, and the dispatcher's gap fill, via `audience`), the change feed (`Sync`, via
`screen_feed`: a hidden update is left out of the page) and the REST
profile (`screen`: `info_text` empty, `info_text_updated_at` null, as
across a block). No other protocol exposes the text. A change of rule
applies to what is shown from then on; it does not resend the current text
to someone it now lets in (they see it at their next REST read or update).

The setting is the owner's own state: `InfoVisibilityUpdated` is a
user-scoped event (every device of the owner, live and in the feed, nobody
else). `user_id` in the request, when given, must be the caller's
(`forbidden`, as for `UpdateProfileInfoText`). `request_id` is an
idempotency key per user.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from hubbub.clock import Clock, iso
from hubbub.core.context import Caller
from hubbub.core.frames import event
from hubbub.core.model import StoredEvent, User
from hubbub.core.ports import InfoVisibilityStore, PresenceVisibility
from hubbub.core.presence_settings import DEFAULT, MAX_LISTED, VISIBILITIES, permits
from hubbub.core.publisher import Publisher
from hubbub.errors import Forbidden, ValidationFailed
from hubbub.ids import plausible_id

__all__ = ["CHANNEL", "INFO_CHANNEL", "InfoVisibility", "visibility_object"]

CHANNEL = "user/info-visibility"
INFO_CHANNEL = "profile/info-text"
_KEYS = frozenset({"rule", "allowed_user_ids", "blocked_user_ids"})
_BASE = "$.data.visibility"


def visibility_object(s: PresenceVisibility) -> dict[str, Any]:
    return {
        "rule": s.visibility,
        "allowed_user_ids": list(s.allowed),
        "blocked_user_ids": list(s.blocked),
    }


def _ids(raw: Any, field: str, me: str) -> tuple[str, ...]:
    path = f"{_BASE}.{field}"
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ValidationFailed("must be a list of user ids", path=path)
    if len(raw) > MAX_LISTED:
        raise ValidationFailed(f"at most {MAX_LISTED} user ids", path=path)
    for i, uid in enumerate(raw):
        if not isinstance(uid, str) or not plausible_id(uid):
            raise ValidationFailed("not a user id", path=f"{path}[{i}]")
        if uid == me:
            raise ValidationFailed("you always see your own info text", path=f"{path}[{i}]")
    return tuple(sorted(set(raw)))


def parse(raw: dict[str, Any], me: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """The visibility object, validated: (rule, allowed, blocked)."""
    for key in raw:
        if key not in _KEYS:
            raise ValidationFailed("unknown field", path=f"{_BASE}.{key}")
    rule = raw.get("rule")
    if rule not in VISIBILITIES:
        raise ValidationFailed(f"must be one of {', '.join(VISIBILITIES)}", path=f"{_BASE}.rule")
    allowed_raw = raw.get("allowed_user_ids")
    if rule == "custom" and allowed_raw is None:
        raise ValidationFailed("required for custom", path=f"{_BASE}.allowed_user_ids")
    if rule != "custom" and allowed_raw:
        raise ValidationFailed("only for custom", path=f"{_BASE}.allowed_user_ids")
    allowed = _ids(allowed_raw, "allowed_user_ids", me)
    blocked = _ids(raw.get("blocked_user_ids"), "blocked_user_ids", me)
    return str(rule), allowed, blocked


class InfoVisibility:
    def __init__(self, store: InfoVisibilityStore, publisher: Publisher, clock: Clock) -> None:
        self.store = store
        self.publisher = publisher
        self.clock = clock

    async def of(self, user_id: str) -> PresenceVisibility:
        return (await self.store.info_visibility_of([user_id])).get(user_id, DEFAULT)

    async def audience(self, owner: str, candidates: Iterable[str]) -> set[str]:
        """Those of `candidates` whom `owner`'s setting lets see their info text."""
        s = await self.of(owner)
        candidates = set(candidates)
        if s.visibility == "everyone" and not s.blocked:
            return candidates
        peers = await self.store.direct_peers_of(owner) if s.visibility == "contacts" else set()
        return {v for v in candidates if v == owner or permits(s, v, peers)}

    async def visible_among(self, viewer: str, owners: Iterable[str]) -> set[str]:
        """Those of `owners` whose settings let `viewer` see their info text."""
        owners = set(owners)
        stored = await self.store.info_visibility_of(owners - {viewer})
        if not stored:
            return owners
        need_peers = any(s.visibility == "contacts" for s in stored.values())
        peers = await self.store.direct_peers_of(viewer) if need_peers else set()
        return {
            o
            for o in owners
            if o == viewer
            or permits(stored.get(o, DEFAULT), viewer, {viewer} if o in peers else set())
        }

    async def screen(self, viewer: str, user: User) -> User:
        """`user` as `viewer` may see it over REST: no info text unless entitled."""
        if user.id == viewer or user.id in await self.visible_among(viewer, [user.id]):
            return user
        return replace(user, info_text="", info_text_updated_at=None)

    async def screen_feed(self, viewer: str, events: list[StoredEvent]) -> list[StoredEvent]:
        """`events` without the info-text updates `viewer` may not see."""
        owners = {e.target for e in events if e.channel == INFO_CHANNEL and e.target != viewer}
        if not owners:
            return events
        hidden = owners - await self.visible_among(viewer, owners)
        return [e for e in events if not (e.channel == INFO_CHANNEL and e.target in hidden)]

    async def update(
        self, caller: Caller, user_id: str | None, raw: dict[str, Any], request_id: str | None
    ) -> dict[str, Any]:
        """Validate and store; the spec's `InfoVisibilityUpdateAck`."""
        me = caller.user_id
        if user_id is not None and user_id != me:
            raise Forbidden("you can only change your own settings")
        if request_id is not None and not 0 < len(request_id) <= 128:
            raise ValidationFailed("must be 1-128 characters", path="$.data.request_id")
        rule, allowed, blocked = parse(raw, me)
        now = self.clock.now_ms()
        setting = PresenceVisibility(rule, allowed, blocked, now)
        data = {"user_id": me, "visibility": visibility_object(setting), "updated_at": iso(now)}
        ev = event("u", me, CHANNEL, "InfoVisibilityUpdated", data)

        def ack(status: str) -> dict[str, Any]:
            return {"request_id": request_id, "status": status, "reason": None,
                    "processed_at": iso(now)}  # fmt: skip

        key = f"infovis:{request_id}" if request_id is not None else None
        result, stored = await self.store.set_info_visibility(me, setting, ev, key, ack)
        if stored is not None:
            await self.publisher.event(stored, [me])
        return result
