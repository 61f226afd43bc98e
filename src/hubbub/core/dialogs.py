"""Dialogs: conversations bound to a business object, seen and joined by scope.

A dialog (spec 003) is a core conversation of kind `dialog` tied to an object
of the host application (`object_type`, `object_id`: an order, a ticket).
The host's backend creates it with its first participants; others may see it
as *available* and join it when one of its access scope rules matches theirs.
A rule matches when each of its levels is empty (any value) or shares a value
with the user's own level, as MTChat's `dialog_access_scopes` do::

    rule {level0: [t1], level1: [], level2: [m, a]}   user {level0: [t1, t2], level2: [a]}
         (any of t1)  and  (any)  and (any of m, a)      -> matches

Joining and leaving change the conversation's members (so every core rule,
`/ws`, the change feed and other nodes' caches follow), announce
`ConversationMemberJoined` / `ConversationMemberLeft` on `group/membership`
and write a system message, as MTChat does; deleting one takes everyone out
at once (`ConversationDeleted`). A dialog the caller neither takes
part in nor may see by scope answers `not_found`, like one that does not exist.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from dataclasses import dataclass

from hubbub.clock import Clock, iso
from hubbub.core.context import Caller
from hubbub.core.conversations import Conversations
from hubbub.core.frames import event
from hubbub.core.messages import Messages
from hubbub.core.ports import DialogStore
from hubbub.core.ports.dialogs import DialogRecord, Participant, ScopeRule
from hubbub.core.publisher import Publisher
from hubbub.errors import NotFound, ValidationFailed
from hubbub.ids import new_id, plausible_id

__all__ = ["SCAN_BATCH", "DialogView", "Dialogs", "scope_matches"]

MAX_PARTICIPANTS = 1000
MAX_SCOPES = 50
MAX_SCOPE_VALUES = 100
SCAN_BATCH = 500  # dialogs read per keyset page while listing `available`
MEMBERSHIP = "group/membership"
PREFERENCES = ("notifications_enabled",)  # the pin is `core/pins.py`'s


def scope_matches(rule: ScopeRule, user: ScopeRule) -> bool:
    return (
        (not rule.scope_level0 or any(v in user.scope_level0 for v in rule.scope_level0))
        and (not rule.scope_level1 or any(v in user.scope_level1 for v in rule.scope_level1))
        and (not rule.scope_level2 or any(v in user.scope_level2 for v in rule.scope_level2))
    )


def _rule_set(rules: list[ScopeRule]) -> set[tuple[frozenset[str], ...]]:
    return {
        (frozenset(r.scope_level0), frozenset(r.scope_level1), frozenset(r.scope_level2))
        for r in rules
    }


def _may_see(dialog: DialogRecord, scope: ScopeRule | None) -> bool:
    return scope is not None and any(scope_matches(r, scope) for r in dialog.access_scopes)


def _text(value: str | None, limit: int, path: str, *, required: bool = False) -> None:
    if value is None:
        if required:
            raise ValidationFailed("required", path=path)
        return
    if (required and not value.strip()) or len(value) > limit:
        raise ValidationFailed(f"must be {int(required)}-{limit} characters", path=path)


def check_participant(p: Participant, path: str) -> None:
    _text(p.display_name, 256, f"{path}.display_name", required=True)
    _text(p.company, 256, f"{path}.company")
    _text(p.email, 254, f"{path}.email")
    _text(p.phone, 64, f"{path}.phone")


def check_scopes(scopes: list[ScopeRule], path: str) -> None:
    if len(scopes) > MAX_SCOPES:
        raise ValidationFailed(f"at most {MAX_SCOPES} rules", path=path)
    for i, rule in enumerate(scopes):
        for name in ("scope_level0", "scope_level1", "scope_level2"):
            values: list[str] = getattr(rule, name)
            if len(values) > MAX_SCOPE_VALUES or any(len(v) > 256 for v in values):
                raise ValidationFailed(
                    f"at most {MAX_SCOPE_VALUES} values of at most 256 characters",
                    path=f"{path}[{i}].{name}",
                )


@dataclass(slots=True)
class DialogView:
    """A dialog as one user sees it."""

    dialog: DialogRecord
    is_member: bool


class Dialogs:
    def __init__(
        self,
        store: DialogStore,
        conversations: Conversations,
        messages: Messages,
        publisher: Publisher,
        clock: Clock,
        scan_batch: int = SCAN_BATCH,
    ) -> None:
        self.store = store
        self.conversations = conversations
        self.messages = messages
        self.publisher = publisher
        self.clock = clock
        self.scan_batch = max(1, scan_batch)

    async def create(
        self,
        object_type: str,
        object_id: str,
        title: str | None,
        object_url: str | None,
        meta: object,
        participants: list[Participant],
        scopes: list[ScopeRule],
        created_by: str | None,
    ) -> DialogRecord:
        """Created by the host's backend (management API): no caller to authorise."""
        _text(object_type, 128, "$.object_type", required=True)
        _text(object_id, 128, "$.object_id", required=True)
        _text(title, 500, "$.title")
        _text(object_url, 2048, "$.object_url")
        if len(participants) > MAX_PARTICIPANTS:
            raise ValidationFailed(f"at most {MAX_PARTICIPANTS}", path="$.participants")
        for i, p in enumerate(participants):
            check_participant(p, f"$.participants[{i}]")
        check_scopes(scopes, "$.access_scopes")
        meta_json = json.dumps(meta) if meta is not None else None
        if meta_json is not None and len(meta_json) > 16 * 1024:
            raise ValidationFailed("at most 16 KiB of JSON", path="$.meta")
        now = self.clock.now_ms()
        unique = list({p.user_id: p for p in participants}.values())
        for p in unique:
            p.joined_at = now
        dialog = DialogRecord(
            new_id(), object_type, object_id, title, object_url, created_by, meta_json, scopes, now
        )
        creator = unique[0].user_id if unique else None
        await self.store.create_dialog(dialog, unique, creator)
        await self.publisher.invalidate([dialog.conversation_id])
        self.conversations.invalidate([dialog.conversation_id])
        if unique:
            people = [
                {"name": p.display_name, **({"company": p.company} if p.company else {})}
                for p in unique
            ]
            content = json.dumps({"event": "chat_created", "participants": people})
            await self.messages.post_system(dialog.conversation_id, unique[0].user_id, content)
        return dialog

    async def find(
        self, object_type: str, object_id: str, scopes: list[ScopeRule]
    ) -> DialogRecord | None:
        """The newest dialog of the object whose scope rules are exactly `scopes`
        (as sets: order of rules and of values does not matter), as MTChat's search."""
        wanted = _rule_set(scopes)
        for d in await self.store.dialogs_by_object(object_type, object_id):
            if _rule_set(d.access_scopes) == wanted:
                return d
        return None

    async def delete(self, conversation_id: str) -> None:
        """Deleted by the host's backend: every participant is out (told with
        `ConversationDeleted`), messages, read positions, archives and files
        are gone, and earlier events of its messages become tombstones."""
        members = list(await self.conversations.members(conversation_id))
        now = self.clock.now_ms()
        data = {"conversation_id": conversation_id, "timestamp": iso(now)}
        ev = event("c", conversation_id, MEMBERSHIP, "ConversationDeleted", data)
        stored = await self.store.delete_dialog(conversation_id, ev)
        if stored is None:
            raise NotFound("dialog not found")
        self.conversations.invalidate([conversation_id])
        await self.publisher.invalidate([conversation_id])
        await self.publisher.event(stored, members)

    async def set_scopes(self, conversation_id: str, scopes: list[ScopeRule]) -> None:
        check_scopes(scopes, "$.access_scopes")
        if not await self.store.set_access_scopes(conversation_id, scopes):
            raise NotFound("dialog not found")

    async def get(self, conversation_id: str) -> DialogRecord:
        # An id no dialog can have (NUL: PostgreSQL's text refuses it) is not looked up.
        dialog = (
            await self.store.get_dialog(conversation_id) if plausible_id(conversation_id) else None
        )
        if dialog is None:
            raise NotFound("dialog not found")
        return dialog

    async def view(self, user_id: str, conversation_id: str, scope: ScopeRule | None) -> DialogView:
        """The dialog if `user_id` takes part in it or may see it by scope."""
        dialog = (
            await self.store.get_dialog(conversation_id) if plausible_id(conversation_id) else None
        )
        if dialog is None:
            raise NotFound("dialog not found")
        member = user_id in await self.conversations.members(conversation_id)
        if not member and not _may_see(dialog, scope):
            raise NotFound("dialog not found")
        return DialogView(dialog, member)

    async def participating(self, user_id: str, scope: ScopeRule | None) -> list[DialogRecord]:
        """The user's dialogs; with a scope, only those it matches (or without rules),
        so a user of several tenants sees the ones of the tenant they asked as."""
        found = await self.store.dialogs_of(user_id)
        if scope is None:
            return found
        return [d for d in found if not d.access_scopes or _may_see(d, scope)]

    async def available(
        self, user_id: str, scope: ScopeRule | None
    ) -> AsyncGenerator[DialogRecord, None]:
        """Every dialog the user is not in and may see by scope, newest first.

        Scopes are JSON rules matched here, so the dialogs are read in keyset
        pages of `scan_batch` and filtered as they come: nothing is skipped
        however many dialogs there are, and a caller that wants one page
        stops reading once it has it (no read holds more than one batch)."""
        if scope is None:
            return
        before: tuple[int, str] | None = None
        while True:
            page = await self.store.dialogs_without(user_id, self.scan_batch, before)
            for d in page:
                if _may_see(d, scope):
                    yield d
            if len(page) < self.scan_batch:
                return
            before = (page[-1].created_at, page[-1].conversation_id)

    async def by_object(
        self, user_id: str, scope: ScopeRule | None, object_type: str, object_id: str
    ) -> list[DialogView]:
        out = []
        for d in await self.store.dialogs_by_object(object_type, object_id):
            member = user_id in await self.conversations.members(d.conversation_id)
            if member or _may_see(d, scope):
                out.append(DialogView(d, member))
        return out

    async def participants(
        self, user_id: str, conversation_id: str, scope: ScopeRule | None
    ) -> tuple[list[Participant], bool]:
        """Participants, and whether the caller is one (else contact details are hidden)."""
        view = await self.view(user_id, conversation_id, scope)
        found = await self.store.participants(conversation_id)
        if not view.is_member:
            for p in found:
                p.email = p.phone = None
        return found, view.is_member

    async def join(
        self, caller: Caller, conversation_id: str, scope: ScopeRule | None, profile: Participant
    ) -> bool:
        """Join by scope; False if the caller already takes part."""
        view = await self.view(caller.user_id, conversation_id, scope)
        if view.is_member:
            return False
        check_participant(profile, "$")
        profile.user_id = caller.user_id
        profile.joined_as = "joined"
        return await self._add(conversation_id, profile)

    async def add(self, conversation_id: str, profile: Participant) -> bool:
        """Added by the host's backend (management API)."""
        await self.get(conversation_id)
        check_participant(profile, "$")
        return await self._add(conversation_id, profile)

    async def _add(self, conversation_id: str, profile: Participant) -> bool:
        now = self.clock.now_ms()
        profile.joined_at = now
        data = {
            "conversation_id": conversation_id,
            "user_id": profile.user_id,
            "joined_as": profile.joined_as,  # MTChat's webhook says how
            "timestamp": iso(now),
        }
        ev = event("c", conversation_id, MEMBERSHIP, "ConversationMemberJoined", data)
        stored = await self.store.add_participant(conversation_id, profile, ev)
        if stored is None:
            return False
        self.conversations.invalidate([conversation_id])
        await self.publisher.invalidate([conversation_id])
        await self.publisher.event(stored, await self.conversations.members(conversation_id))
        content = {"event": "participant_joined", "name": profile.display_name}
        if profile.company:
            content["company"] = profile.company
        await self.messages.post_system(conversation_id, profile.user_id, json.dumps(content))
        return True

    async def leave(self, caller: Caller, conversation_id: str) -> None:
        await self.get(conversation_id)
        if not await self.remove(conversation_id, caller.user_id):
            raise NotFound("dialog not found")

    async def remove(self, conversation_id: str, user_id: str) -> bool:
        members = list(await self.conversations.members(conversation_id))
        if user_id not in members:
            return False
        found = await self.store.participants(conversation_id)
        name = next((p.display_name for p in found if p.user_id == user_id), "")
        now = self.clock.now_ms()
        data = {"conversation_id": conversation_id, "user_id": user_id, "timestamp": iso(now)}
        ev = event("c", conversation_id, MEMBERSHIP, "ConversationMemberLeft", data)
        stored = await self.store.remove_participant(conversation_id, user_id, ev)
        if stored is None:
            return False
        self.conversations.invalidate([conversation_id])
        await self.publisher.invalidate([conversation_id])
        await self.publisher.event(stored, members)
        content = json.dumps({"event": "participant_left", "name": name})
        await self.messages.post_system(conversation_id, user_id, content)
        return True

    async def set_preference(
        self, caller: Caller, conversation_id: str, name: str, value: bool
    ) -> None:
        if name not in PREFERENCES:
            raise ValidationFailed("unknown preference", path="$")
        if caller.user_id not in await self.conversations.members(conversation_id):
            raise NotFound("dialog not found")
        await self.store.set_preference(conversation_id, caller.user_id, name, value)
