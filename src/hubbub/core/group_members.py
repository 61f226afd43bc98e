"""Adding and removing a group's members (hubbub's `/v1`; spec 000 has no message for it).

Who may: the group's owner and admins add members and remove them; only
the owner makes admins, removes admins, and the owner cannot be removed.
A removal of oneself is refused: leaving is `LeaveGroup` (which hands
ownership on). Someone who is not a member of the conversation, like an
unknown id, gets `not_found`; a direct conversation never gains members
(`validation_failed`). Both calls are idempotent: adding a member or
removing a non-member changes and announces nothing.

Changing a member's role (`PATCH .../members/{user_id}`) is the owner's
alone, between member and admin; the owner's own role is not changed
this way (ownership moves only when the owner leaves, `LeaveGroup`).
Giving someone the role they have already writes and announces nothing;
a change is `ConversationMemberRoleChanged` to every member.

The write itself is `ConversationDetails.add_member` / `remove_member`,
shared with Symbia's participants, so every member's devices are told
with `ConversationMemberJoined` / `ConversationMemberLeft` on
`group/membership` (here with `added_by` / `removed_by` and the `role`),
live and in their feeds; the removed member's window closes with that
event, so nothing written after it reaches them.
"""

from __future__ import annotations

from dataclasses import dataclass

from hubbub.core.accounts import Accounts
from hubbub.core.context import Caller
from hubbub.core.conversation_details import ConversationDetails
from hubbub.core.conversations import Conversations
from hubbub.core.groups import MAX_GROUP_MEMBERS
from hubbub.core.ports import BlockStore, ConversationStore, UserDirectory
from hubbub.errors import Forbidden, NotFound, ValidationFailed

__all__ = ["ADDABLE_ROLES", "GroupMembers", "Membership", "RoleChange"]

ADDABLE_ROLES = ("member", "admin")
_MANAGERS = ("owner", "admin")


@dataclass(slots=True, frozen=True)
class Membership:
    conversation_id: str
    user_id: str
    role: str
    created: bool  # False: they were a member already, nothing changed


@dataclass(slots=True, frozen=True)
class RoleChange:
    conversation_id: str
    user_id: str
    role: str
    changed: bool  # False: they had that role already, nothing written or announced


class GroupMembers:
    def __init__(
        self,
        reads: ConversationStore,
        users: UserDirectory,
        accounts: Accounts,
        blocks: BlockStore,
        conversations: Conversations,
        details: ConversationDetails,
    ) -> None:
        self.reads = reads
        self.users = users
        self.accounts = accounts
        self.blocks = blocks
        self.conversations = conversations
        self.details = details

    async def _managed(self, caller: Caller, conversation_id: str) -> dict[str, str]:
        """The group's members, if the caller may manage them; else the typed refusal."""
        members = await self.conversations.members(conversation_id)
        role = members.get(caller.user_id)
        if role is None:  # not a member, or no such conversation: one answer
            raise NotFound("conversation not found")
        conv = await self.reads.get_conversation(conversation_id)
        if conv is None:
            raise NotFound("conversation not found")
        if conv.kind == "direct":
            raise ValidationFailed(
                "a direct conversation cannot gain or lose members: create a group",
                path="$.conversation_id",
            )
        if conv.kind != "group":
            raise NotFound("conversation not found")
        if role not in _MANAGERS:
            raise Forbidden("only the group's owner and admins manage its members")
        return members

    async def _target(self, user_id: str | None, username: str | None) -> str:
        if (user_id is None) == (username is None):
            raise ValidationFailed("give exactly one of user_id and username", path="$.user_id")
        if username is not None:
            user = await self.accounts.find_by_username(username)
            if user is None:
                raise NotFound("user not found", path="$.username")
            return user.id
        assert user_id is not None
        if not await self.users.existing_users([user_id]):
            raise NotFound("user not found", path="$.user_id")
        return user_id

    async def add(
        self,
        caller: Caller,
        conversation_id: str,
        user_id: str | None,
        username: str | None,
        role: str = "member",
    ) -> Membership:
        if role not in ADDABLE_ROLES:
            raise ValidationFailed("must be member or admin", path="$.role")
        members = await self._managed(caller, conversation_id)
        target = await self._target(user_id, username)
        path = "$.username" if username is not None else "$.user_id"
        if target in members:
            return Membership(conversation_id, target, members[target], False)
        if role == "admin" and members[caller.user_id] != "owner":
            raise Forbidden("only the group's owner makes admins")
        if len(members) >= MAX_GROUP_MEMBERS:
            raise ValidationFailed(f"at most {MAX_GROUP_MEMBERS} members", path=path)
        blocking, blocked_by = await self.blocks.block_relations(caller.user_id, [target])
        if target in blocking:
            raise Forbidden("you blocked this user: unblock them first", path=path)
        if target in blocked_by:  # as for an unknown user
            raise NotFound("user not found", path=path)
        row, created = await self.details.admit(
            conversation_id, target, role, by=caller.user_id, path=path
        )
        return Membership(conversation_id, target, row.role, created)

    async def remove(self, caller: Caller, conversation_id: str, user_id: str) -> bool:
        """True when they were removed; False when they were not a member (nothing done)."""
        members = await self._managed(caller, conversation_id)
        target = members.get(user_id)
        if target is None:
            return False
        if user_id == caller.user_id:
            raise ValidationFailed(
                "to leave a group, send LeaveGroup on group/membership", path="$.user_id"
            )
        if target == "owner":
            raise Forbidden("the group's owner cannot be removed")
        if target == "admin" and members[caller.user_id] != "owner":
            raise Forbidden("only the group's owner removes admins")
        try:
            await self.details.remove_member(conversation_id, user_id, by=caller.user_id)
        except NotFound:  # a concurrent removal won: the same outcome
            return False
        return True

    async def set_role(
        self, caller: Caller, conversation_id: str, user_id: str, role: str
    ) -> RoleChange:
        """Make a member an admin or an admin a member (the owner only)."""
        if role not in ADDABLE_ROLES:
            raise ValidationFailed("must be member or admin", path="$.role")
        members = await self._managed(caller, conversation_id)
        if members[caller.user_id] != "owner":
            raise Forbidden("only the group's owner changes roles")
        current = members.get(user_id)
        if current is None:
            raise NotFound("not a member of this conversation", path="$.user_id")
        if current == "owner":
            raise ValidationFailed(
                "the owner's role is not changed this way: ownership passes on LeaveGroup",
                path="$.user_id",
            )
        before, changed = await self.details.set_role(
            conversation_id, user_id, role, by=caller.user_id
        )
        if before is None:  # a concurrent removal won
            raise NotFound("not a member of this conversation", path="$.user_id")
        if before == "owner":  # a concurrent hand-over made them the owner
            raise ValidationFailed(
                "the owner's role is not changed this way: ownership passes on LeaveGroup",
                path="$.user_id",
            )
        return RoleChange(conversation_id, user_id, role, changed)
