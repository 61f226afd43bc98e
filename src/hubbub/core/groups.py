"""Groups: creating one (idempotent on `client_request_id`) and leaving it.

Groups are created with `chat/groups` and left with `group/membership`.
The creator of a group is its owner; when the owner leaves, the longest
standing admin (else member) inherits ownership. Membership rules that every
conversation shares (who may write, the member cache) are in
`core/conversations.py`; a membership change here invalidates that cache on
every node.
"""

from __future__ import annotations

from typing import Any

from hubbub.clock import Clock, iso
from hubbub.core.context import Caller
from hubbub.core.conversations import Conversations
from hubbub.core.frames import event
from hubbub.core.model import Conversation
from hubbub.core.ports import BlockStore, ConversationStore, GroupStore, UserDirectory
from hubbub.core.publisher import Publisher
from hubbub.errors import Forbidden, NotFound, ValidationFailed
from hubbub.ids import new_id

__all__ = ["MAX_GROUP_MEMBERS", "Groups"]

MAX_GROUP_MEMBERS = 5000


class Groups:
    def __init__(
        self,
        store: GroupStore,
        reads: ConversationStore,
        users: UserDirectory,
        blocks: BlockStore,
        conversations: Conversations,
        publisher: Publisher,
        clock: Clock,
    ) -> None:
        self.store = store
        self.reads = reads
        self.users = users
        self.blocks = blocks
        self.conversations = conversations
        self.publisher = publisher
        self.clock = clock

    async def create_group(
        self, caller: Caller, name: str, member_ids: list[str], client_request_id: str | None
    ) -> tuple[Conversation, bool]:
        name = name.strip()
        if not name or len(name) > 256:
            raise ValidationFailed("name must be 1-256 characters", path="$.data.name")
        if client_request_id is not None and len(client_request_id) > 128:
            raise ValidationFailed("at most 128 characters", path="$.data.client_request_id")
        wanted = list(dict.fromkeys(m for m in member_ids if m != caller.user_id))
        if len(wanted) + 1 > MAX_GROUP_MEMBERS:
            raise ValidationFailed(f"at most {MAX_GROUP_MEMBERS} members", path="$.data.member_ids")
        existing = await self.users.existing_users(wanted)
        missing = [m for m in wanted if m not in existing]
        if missing:
            # Which id is unknown is not secret: user ids are public handles.
            idx = member_ids.index(missing[0])
            raise NotFound("user not found", path=f"$.data.member_ids[{idx}]")
        blocking, blocked_by = await self.blocks.block_relations(caller.user_id, wanted)
        for m in wanted:
            if m in blocking:
                raise Forbidden(
                    "you blocked this user: unblock them first",
                    path=f"$.data.member_ids[{member_ids.index(m)}]",
                )
            if m in blocked_by:  # as for an unknown user
                raise NotFound("user not found", path=f"$.data.member_ids[{member_ids.index(m)}]")
        now = self.clock.now_ms()
        gid = new_id()
        all_ids = [caller.user_id, *wanted]
        data: dict[str, Any] = {
            "group_id": gid,
            "name": name,
            "creator_id": caller.user_id,
            "member_ids": all_ids,
            "created_at": iso(now),
        }
        ev = event("c", gid, "chat/groups", "GroupCreated", data)
        conv, stored = await self.store.create_group(
            gid, name, caller.user_id, wanted, client_request_id, now, ev
        )
        if stored is None:
            return conv, False
        await self.publisher.invalidate([conv.id])
        await self.publisher.event(stored, [m.user_id for m in conv.members])
        return conv, True

    async def find_by_request(self, caller: Caller, client_request_id: str) -> str:
        gid = await self.store.find_group_by_request(caller.user_id, client_request_id)
        if gid is None:
            raise NotFound("no group created with that client_request_id")
        return gid

    async def leave_group(
        self, caller: Caller, group_id: str, request_id: str | None
    ) -> dict[str, Any]:
        conv = await self.reads.get_conversation(group_id)
        if conv is None or conv.kind != "group":
            raise NotFound("group not found")
        recipients = [m.user_id for m in conv.members]
        if caller.user_id not in recipients:
            raise NotFound("group not found")
        now = self.clock.now_ms()
        data = {
            "request_id": request_id,
            "group_id": group_id,
            "user_id": caller.user_id,
            "status": "left",
            "timestamp": iso(now),
            "reason": None,
        }
        stored = await self.store.leave_group(
            group_id,
            caller.user_id,
            event("c", group_id, "group/membership", "LeaveGroupAck", data),
        )
        if stored is None:  # a concurrent leave won; same outcome for the caller
            raise NotFound("group not found")
        self.conversations.invalidate(
            [group_id]
        )  # at once here, before a racing send picks recipients
        await self.publisher.invalidate([group_id])
        await self.publisher.event(stored, recipients)
        return data
