"""Symbia conversations: type, description, tenant, metadata, participants.

A Symbia conversation is a core group (`/ws` members see it, its messages
and membership changes) with a details row: `type` private|group,
`description`, `org_id`, `metadata`, `updated_at` (bumped by every message)
and the scope headers it was created under. Roles are the core's
(owner|admin|member); a participant's `user_type` is its account's kind,
never what a request says.

Who may do what (as Symbia's service): any participant reads it and its
messages; owner and admins rename it and add or remove participants; only
the owner deletes it; the owner cannot leave (they delete it). A
non-participant of a conversation they could see gets `forbidden`; a
conversation of an organisation the caller is not a member of, like an
unknown id, is `not_found`. Private conversations cannot be joined.
"""

from __future__ import annotations

import json
import re
from typing import Any

from hubbub.clock import Clock, iso
from hubbub.core.context import Caller
from hubbub.core.conversations import Conversations
from hubbub.core.frames import event
from hubbub.core.ports import UserDirectory
from hubbub.core.ports.conversation_details import (
    ConversationDetailStore,
    ConversationRow,
    ParticipantRow,
    Scoping,
)
from hubbub.core.publisher import Publisher
from hubbub.core.tenants import Tenants, check_org_id
from hubbub.errors import Forbidden, NotFound, ValidationFailed
from hubbub.ids import new_id

__all__ = [
    "DATA_CLASSES",
    "ENVS",
    "ConversationDetails",
    "check_metadata",
    "scoping",
    "stricter",
]

TYPES = ("private", "group")
ROLES = ("owner", "admin", "member")
DATA_CLASSES = ("none", "pii", "phi", "secret")
ENVS = ("dev", "stage", "prod")
MAX_PARTICIPANTS = 1000
MAX_METADATA = 16 * 1024
MEMBERSHIP = "group/membership"
_TOKEN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,127}$")
_REF = re.compile(r"^[\x21-\x7e]{1,256}$")


def check_metadata(value: dict[str, Any] | None, path: str) -> str | None:
    """The metadata object as stored JSON (bounded), or None when not given."""
    if value is None:
        return None
    raw = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if len(raw) > MAX_METADATA:
        raise ValidationFailed(f"at most {MAX_METADATA} bytes of JSON", path=path)
    return raw


def scoping(
    org_id: str | None,
    service_id: str | None,
    env: str | None,
    data_class: str | None,
    policy_ref: str | None,
) -> Scoping:
    """The scope headers, validated (each error names its header)."""
    if org_id is not None:
        check_org_id(org_id, "$.headers.x-org-id")
    if service_id is not None and not _TOKEN.match(service_id):
        raise ValidationFailed(
            "1-128 letters, digits or . _ : / @ -", path="$.headers.x-service-id"
        )
    if env is not None and env not in ENVS:
        raise ValidationFailed(f"must be one of {', '.join(ENVS)}", path="$.headers.x-env")
    if data_class is not None and data_class not in DATA_CLASSES:
        raise ValidationFailed(
            f"must be one of {', '.join(DATA_CLASSES)}", path="$.headers.x-data-class"
        )
    if policy_ref is not None and not _REF.match(policy_ref):
        raise ValidationFailed("1-256 printable characters", path="$.headers.x-policy-ref")
    return Scoping(org_id, service_id, env, data_class or "none", policy_ref)


def stricter(a: str, b: str) -> str:
    """The stricter of two data classes (none < pii < phi < secret)."""
    return a if DATA_CLASSES.index(a) >= DATA_CLASSES.index(b) else b


class ConversationDetails:
    def __init__(
        self,
        store: ConversationDetailStore,
        conversations: Conversations,
        tenants: Tenants,
        users: UserDirectory,
        publisher: Publisher,
        clock: Clock,
    ) -> None:
        self.store = store
        self.conversations = conversations
        self.tenants = tenants
        self.users = users
        self.publisher = publisher
        self.clock = clock

    async def create(
        self,
        caller: Caller,
        type_: str,
        name: str | None,
        description: str | None,
        metadata: dict[str, Any] | None,
        participant_ids: list[str],
        scope: Scoping,
    ) -> tuple[ConversationRow, list[ParticipantRow]]:
        if type_ not in TYPES:
            raise ValidationFailed("Invalid conversation type", path="$.type")
        if name is not None and len(name) > 256:
            raise ValidationFailed("at most 256 characters", path="$.name")
        if type_ == "group" and not (name or "").strip():
            raise ValidationFailed("Group conversations require a name", path="$.name")
        if description is not None and len(description) > 2048:
            raise ValidationFailed("at most 2048 characters", path="$.description")
        meta = check_metadata(metadata, "$.metadata") or "{}"
        if scope.org_id is not None:
            await self.tenants.require_member(caller.user_id, scope.org_id)
        wanted = list(dict.fromkeys(p for p in participant_ids if p != caller.user_id))
        if len(wanted) + 1 > MAX_PARTICIPANTS:
            raise ValidationFailed(f"at most {MAX_PARTICIPANTS}", path="$.participants")
        existing = await self.users.existing_users(wanted)
        for i, uid in enumerate(participant_ids):
            if uid != caller.user_id and uid not in existing:
                raise NotFound("User not found", path=f"$.participants[{i}].userId")
        if scope.org_id is not None:
            for uid in wanted:
                if scope.org_id not in await self.tenants.orgs_of(uid):
                    i = participant_ids.index(uid)
                    raise NotFound("User not found", path=f"$.participants[{i}].userId")
        now = self.clock.now_ms()
        cid = new_id()
        row = ConversationRow(cid, type_, name, description, caller.user_id, now, now, meta, scope)
        all_ids = [caller.user_id, *wanted]
        data = {
            "group_id": cid,
            "name": name or "",
            "creator_id": caller.user_id,
            "member_ids": all_ids,
            "created_at": iso(now),
        }
        ev = event("c", cid, "chat/groups", "GroupCreated", data)
        members = [(caller.user_id, "owner"), *((u, "member") for u in wanted)]
        stored = await self.store.create(row, members, ev)
        self.conversations.invalidate([cid])
        await self.publisher.invalidate([cid])
        await self.publisher.event(stored, all_ids)
        return row, await self.store.participants(cid)

    async def visible(self, caller: Caller, conversation_id: str) -> ConversationRow:
        """The conversation if the caller's tenants allow it, else `not_found`."""
        row = await self.store.get(conversation_id)
        if row is None:
            raise NotFound("Conversation not found")
        org = row.scoping.org_id
        if org is not None and org not in await self.tenants.orgs_of(caller.user_id):
            raise NotFound("Conversation not found")
        return row

    async def role_of(self, caller: Caller, conversation_id: str) -> tuple[ConversationRow, str]:
        """The conversation and the caller's role; a non-participant is `forbidden`."""
        row = await self.visible(caller, conversation_id)
        return row, await self._role(caller, conversation_id)

    async def role_given(
        self, caller: Caller, conversation_id: str, org_id: str | None, in_org: bool
    ) -> str:
        """`role_of`'s rule on facts the caller read already (the conversation
        exists; its organisation, and whether the caller is a member of it):
        a send reads them with the rest of its checks in one query."""
        if org_id is not None and not in_org:
            raise NotFound("Conversation not found")
        return await self._role(caller, conversation_id)

    async def _role(self, caller: Caller, conversation_id: str) -> str:
        role = (await self.conversations.members(conversation_id)).get(caller.user_id)
        if role is None:
            raise Forbidden("Not a participant in this conversation")
        return role

    async def get_for(
        self, caller: Caller, conversation_id: str
    ) -> tuple[ConversationRow, list[ParticipantRow]]:
        row, _ = await self.role_of(caller, conversation_id)
        return row, await self.store.participants(conversation_id)

    async def list_for(self, caller: Caller, org_id: str | None) -> list[ConversationRow]:
        orgs = await self.tenants.orgs_of(caller.user_id)
        if org_id is not None:
            check_org_id(org_id, "$.query.orgId")
            if org_id not in orgs:
                raise Forbidden("Not authorized for this organization")
        rows = await self.store.list_for(caller.user_id, org_id)
        return [r for r in rows if r.scoping.org_id is None or r.scoping.org_id in orgs]

    async def update(
        self,
        caller: Caller,
        conversation_id: str,
        name: str | None,
        description: str | None,
        metadata: dict[str, Any] | None,
    ) -> ConversationRow:
        _, role = await self.role_of(caller, conversation_id)
        if role not in ("owner", "admin"):
            raise Forbidden("Not authorized to update this conversation")
        if name is not None and not 1 <= len(name.strip()) <= 256:
            raise ValidationFailed("must be 1-256 characters", path="$.name")
        if description is not None and len(description) > 2048:
            raise ValidationFailed("at most 2048 characters", path="$.description")
        meta = check_metadata(metadata, "$.metadata")
        now = self.clock.now_ms()
        if not await self.store.update(conversation_id, name, description, meta, now):
            raise NotFound("Conversation not found")
        return await self.visible(caller, conversation_id)

    async def delete(self, caller: Caller, conversation_id: str) -> None:
        _, role = await self.role_of(caller, conversation_id)
        if role != "owner":
            raise Forbidden("Only the owner can delete this conversation")
        await self.remove_all(conversation_id)

    async def remove_all(self, conversation_id: str) -> None:
        """Everyone out (told with `ConversationDeleted`), content gone."""
        members = list(await self.conversations.members(conversation_id))
        now = self.clock.now_ms()
        data = {"conversation_id": conversation_id, "timestamp": iso(now)}
        ev = event("c", conversation_id, MEMBERSHIP, "ConversationDeleted", data)
        stored = await self.store.delete(conversation_id, ev)
        if stored is None:
            raise NotFound("Conversation not found")
        self.conversations.invalidate([conversation_id])
        await self.publisher.invalidate([conversation_id])
        await self.publisher.event(stored, members)

    async def participant(self, conversation_id: str, user_id: str) -> ParticipantRow:
        for p in await self.store.participants(conversation_id):
            if p.user_id == user_id:
                return p
        raise NotFound("Participant not found")

    async def join(self, caller: Caller, conversation_id: str) -> ParticipantRow:
        row = await self.visible(caller, conversation_id)
        if row.type == "private":
            raise ValidationFailed("Cannot join a private conversation", path="$.id")
        await self.add_member(conversation_id, caller.user_id, "member")
        return await self.participant(conversation_id, caller.user_id)

    async def leave(self, caller: Caller, conversation_id: str) -> None:
        await self.visible(caller, conversation_id)
        role = (await self.conversations.members(conversation_id)).get(caller.user_id)
        if role is None:
            raise NotFound("Not a participant in this conversation")
        if role == "owner":
            raise ValidationFailed(
                "Owner cannot leave the conversation. Transfer ownership or delete it.",
                path="$.id",
            )
        await self.remove_member(conversation_id, caller.user_id)

    async def add_participant(
        self, caller: Caller, conversation_id: str, user_id: str
    ) -> ParticipantRow:
        _, role = await self.role_of(caller, conversation_id)
        if role not in ("owner", "admin"):
            raise Forbidden("Not authorized to add participants")
        return await self.add_checked(conversation_id, user_id, "member")

    async def add_checked(self, conversation_id: str, user_id: str, role: str) -> ParticipantRow:
        return (await self.admit(conversation_id, user_id, role))[0]

    async def admit(
        self,
        conversation_id: str,
        user_id: str,
        role: str,
        *,
        by: str | None = None,
        path: str = "$.userId",
    ) -> tuple[ParticipantRow, bool]:
        """Add a known user (of the conversation's tenant, if it has one); True if new.

        `by` (who added them) goes into the event; `path` names the field
        an unknown user is reported against in the caller's protocol.
        """
        if role not in ROLES:
            raise ValidationFailed("must be owner, admin or member", path="$.role")
        row = await self.store.get(conversation_id)
        if row is None:
            raise NotFound("Conversation not found")
        if not await self.users.existing_users([user_id]):
            raise NotFound("User not found", path=path)
        org = row.scoping.org_id
        if org is not None and org not in await self.tenants.orgs_of(user_id):
            raise NotFound("User not found", path=path)
        created = await self.add_member(conversation_id, user_id, role, by=by)
        return await self.participant(conversation_id, user_id), created

    async def remove_participant(self, caller: Caller, conversation_id: str, user_id: str) -> None:
        _, role = await self.role_of(caller, conversation_id)
        if role not in ("owner", "admin"):
            raise Forbidden("Not authorized to remove participants")
        await self.remove_checked(conversation_id, user_id)

    async def remove_checked(self, conversation_id: str, user_id: str) -> None:
        target = (await self.conversations.members(conversation_id)).get(user_id)
        if target is None:
            raise NotFound("Participant not found")
        if target == "owner":
            raise ValidationFailed("Cannot remove the owner", path="$.userId")
        await self.remove_member(conversation_id, user_id)

    async def add_member(
        self, conversation_id: str, user_id: str, role: str, *, by: str | None = None
    ) -> bool:
        now = self.clock.now_ms()
        data = {"conversation_id": conversation_id, "user_id": user_id, "timestamp": iso(now)}
        if by is not None:  # hubbub's /v1 members API says who and as what
            data |= {"added_by": by, "role": role}
        ev = event("c", conversation_id, MEMBERSHIP, "ConversationMemberJoined", data)
        stored = await self.store.add_member(conversation_id, user_id, role, ev)
        if stored is None:
            return False
        self.conversations.invalidate([conversation_id])
        await self.publisher.invalidate([conversation_id])
        await self.publisher.event(stored, await self.conversations.members(conversation_id))
        return True

    async def remove_member(
        self, conversation_id: str, user_id: str, *, by: str | None = None
    ) -> None:
        members = list(await self.conversations.members(conversation_id))
        now = self.clock.now_ms()
        data = {"conversation_id": conversation_id, "user_id": user_id, "timestamp": iso(now)}
        if by is not None:
            data["removed_by"] = by
        ev = event("c", conversation_id, MEMBERSHIP, "ConversationMemberLeft", data)
        stored = await self.store.remove_member(conversation_id, user_id, ev)
        if stored is None:
            raise NotFound("Participant not found")
        self.conversations.invalidate([conversation_id])
        await self.publisher.invalidate([conversation_id])
        await self.publisher.event(stored, members)

    async def set_role(
        self, conversation_id: str, user_id: str, role: str, *, by: str
    ) -> tuple[str | None, bool]:
        """The member's role before and whether it changed (hubbub's `/v1` members API).

        Announced as `ConversationMemberRoleChanged` on `group/membership` to
        every member, in the same writer unit as the new role, so Symbia's
        participants and MTChat read the same row the event describes.
        """
        now = self.clock.now_ms()
        data = {
            "conversation_id": conversation_id,
            "user_id": user_id,
            "role": role,
            "changed_by": by,
            "timestamp": iso(now),
        }
        ev = event("c", conversation_id, MEMBERSHIP, "ConversationMemberRoleChanged", data)
        before, stored = await self.store.set_role(conversation_id, user_id, role, ev)
        if stored is None:
            return before, False
        self.conversations.invalidate([conversation_id])
        await self.publisher.invalidate([conversation_id])
        await self.publisher.event(stored, await self.conversations.members(conversation_id))
        return before, True

    # Admin surface: `scope` is None for a server admin, else the orgs the
    # caller administers (`Tenants.admin_scope`).

    async def admin_get(self, scope: list[str] | None, conversation_id: str) -> ConversationRow:
        row = await self.store.get(conversation_id)
        if row is None or (scope is not None and row.scoping.org_id not in scope):
            raise NotFound("Conversation not found")
        return row

    async def admin_list(
        self,
        scope: list[str] | None,
        org_id: str | None,
        type_: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[ConversationRow], int]:
        return await self.store.admin_list(self._orgs(scope, org_id), type_, limit, offset)

    def _orgs(self, scope: list[str] | None, org_id: str | None) -> list[str] | None:
        if org_id is not None:
            check_org_id(org_id, "$.query.orgId")
            if scope is not None and org_id not in scope:
                raise Forbidden("Not authorized for this organization")
            return [org_id]
        return scope

    async def admin_user_conversations(
        self, scope: list[str] | None, user_id: str
    ) -> list[ConversationRow]:
        rows = await self.store.list_for(user_id, None)
        return [r for r in rows if scope is None or r.scoping.org_id in scope]

    async def stats(self, scope: list[str] | None, org_id: str | None) -> dict[str, int]:
        since = self.clock.now_ms() - 24 * 3600_000
        return await self.store.stats(self._orgs(scope, org_id), since)

    async def participants(self, conversation_id: str) -> list[ParticipantRow]:
        return await self.store.participants(conversation_id)
