"""Conversations and membership: who may read and write where.

Direct conversations are opened over REST (spec 000 has no channel for it);
groups are created and left in `core/groups.py`.

Member lists are cached per node because every message send needs one; any
membership change publishes an `invalidate` notification on the bus, which
every node (this one included) applies before anything else it delivers.
Not being a member is answered `not_found`, exactly like a missing id, so ids
of conversations a user cannot see reveal nothing.

A block (`core/blocks.py`) freezes the direct conversation between the two
users: `require_member`, which every send and receipt goes through, refuses
the blocked user `not_found` (as for a conversation they are not in, so the
block is not confirmed) and the blocker `forbidden` (they know; they must
unblock first). Which members of a direct conversation block the other is
cached next to its member list and dropped by the same `invalidate`, which a
block or unblock publishes for that conversation. Neither can add the other
to a new group.
"""

from __future__ import annotations

from hubbub.clock import Clock
from hubbub.core.context import Caller
from hubbub.core.model import Conversation
from hubbub.core.ports import ConversationStore, UserDirectory
from hubbub.core.publisher import Publisher
from hubbub.errors import Forbidden, NotFound, ValidationFailed
from hubbub.ids import new_id

__all__ = ["Conversations"]

MAX_CACHED = 100_000


class Conversations:
    def __init__(
        self,
        store: ConversationStore,
        users: UserDirectory,
        publisher: Publisher,
        clock: Clock,
    ) -> None:
        self.store = store
        self.users = users
        self.publisher = publisher
        self.clock = clock
        self._members: dict[str, dict[str, str]] = {}
        # Direct conversation -> its members who block the other (empty: usable).
        self._blockers: dict[str, frozenset[str]] = {}
        # Bumped by every invalidation: a load that raced one is not cached.
        self._generation = 0
        # Conversations heard through one hub key instead of one per member
        # (the public room, see `core/rooms.py`): conversation id -> that key.
        self.listeners: dict[str, str] = {}

    def invalidate(self, conversation_ids: list[str]) -> None:
        self._generation += 1
        for cid in conversation_ids:
            self._members.pop(cid, None)
            self._blockers.pop(cid, None)

    def invalidate_all(self) -> None:
        self._generation += 1
        self._members.clear()
        self._blockers.clear()

    async def members(self, conversation_id: str) -> dict[str, str]:
        """Active members -> role (cached until a membership change)."""
        cached = self._members.get(conversation_id)
        if cached is not None:
            return cached
        rows = await self.store.active_members(conversation_id)
        members = {m.user_id: m.role for m in rows}
        if not members:
            # Not cached: the key is any string a client sends (up to a frame's
            # size), so caching misses would let a client fill memory.
            return members
        if len(self._members) > MAX_CACHED:
            self._members.clear()
        self._members[conversation_id] = members
        return members

    async def audience(self, conversation_id: str) -> list[str]:
        """Whom a conversation's events are addressed to: its members, or for a
        conversation with a listener key, that key and the members who are
        accounts (their other devices); `guest` members (the public room's
        anonymous users) hear it through the key only."""
        members = await self.members(conversation_id)
        key = self.listeners.get(conversation_id)
        if key is None:
            return list(members)
        return [key, *(u for u, role in members.items() if role != "guest")]

    async def blockers(self, conversation_id: str) -> frozenset[str]:
        """Members of a direct conversation who block the other; empty for a group.

        Cached until the conversation is invalidated (a block or unblock of
        the pair publishes that); only asked for conversations that exist.
        """
        cached = self._blockers.get(conversation_id)
        if cached is not None:
            return cached
        generation = self._generation
        found = frozenset(await self.store.direct_blockers(conversation_id) or ())
        if generation == self._generation:
            if len(self._blockers) > MAX_CACHED:
                self._blockers.clear()
            self._blockers[conversation_id] = found
        return found

    async def require_member(self, caller: Caller, conversation_id: str) -> dict[str, str]:
        """The members, if the caller may write to the conversation (send, receipt).

        Refused: not a member (`not_found`); a direct conversation frozen by a
        block (`not_found` for the blocked user, `forbidden` for the blocker).
        """
        members = await self.members(conversation_id)
        if caller.user_id not in members:
            raise NotFound("conversation not found")
        if len(members) == 2:  # every direct conversation, and some groups
            blockers = await self.blockers(conversation_id)
            if caller.user_id in blockers:
                raise Forbidden("you blocked this user: unblock them to write here")
            if blockers:
                raise NotFound("conversation not found")
        return members

    async def open_direct(self, caller: Caller, other_id: str) -> tuple[str, bool]:
        if other_id == caller.user_id:
            raise ValidationFailed(
                "cannot open a direct conversation with yourself", path="$.user_id"
            )
        if not await self.users.existing_users([other_id]):
            raise NotFound("user not found")
        cid, created = await self.store.open_direct(
            new_id(), caller.user_id, other_id, self.clock.now_ms()
        )
        if created:
            await self.publisher.invalidate([cid])
        return cid, created

    async def list_for(self, caller: Caller) -> list[Conversation]:
        return await self.store.list_conversations(caller.user_id)

    async def get_for(self, caller: Caller, conversation_id: str) -> Conversation:
        conv = await self.store.get_conversation(conversation_id)
        if conv is None or caller.user_id not in {m.user_id for m in conv.members}:
            raise NotFound("conversation not found")
        return conv
