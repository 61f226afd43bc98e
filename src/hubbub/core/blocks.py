"""Blocking another user, as WhatsApp and Signal do it.

A block is one row (blocker, blocked). While it holds, in both directions:

- the direct conversation of the two is frozen: neither can send to it nor
  send receipts in it (`Conversations.require_member`: the blocked user gets
  `not_found`, as for a conversation they are not in; the blocker gets
  `forbidden` and must unblock first); its history stays readable;
- neither is the other's contact: no presence, profile or key event of one
  reaches the other, live or in the change feed, and neither can ring the
  other (`Contacts.contacts_of` and the feed leave blocked pairs out);
- neither can add the other to a new group; the REST profile of one, seen by
  the other, hides `info_text` and `last_seen_at`.

Groups they share are unaffected (messages there still flow both ways).

Taking effect everywhere at once: contacts and the feed are read from the
database, so they change with the commit. Only the per-node cache of which
direct conversations are frozen needs telling; a block or unblock drops it on
this node at once and publishes an `invalidate` for that conversation, which
every other node applies in order with the events around it.

    block: store.add_block --> conversations.invalidate([dm]) (this node, now)
                          \\--> Publisher.invalidate([dm]) --> every node
"""

from __future__ import annotations

from dataclasses import replace

from hubbub.clock import Clock
from hubbub.core.context import Caller
from hubbub.core.conversations import Conversations
from hubbub.core.model import Block, User
from hubbub.core.ports import BlockStore, ConversationStore, UserDirectory
from hubbub.core.publisher import Publisher
from hubbub.errors import NotFound, ValidationFailed
from hubbub.ids import plausible_id

__all__ = ["Blocks"]


class Blocks:
    def __init__(
        self,
        store: BlockStore,
        users: UserDirectory,
        directs: ConversationStore,
        conversations: Conversations,
        publisher: Publisher,
        clock: Clock,
    ) -> None:
        self.store = store
        self.users = users
        self.directs = directs
        self.conversations = conversations
        self.publisher = publisher
        self.clock = clock

    async def _target(self, caller: Caller, user_id: str) -> None:
        if user_id == caller.user_id:
            raise ValidationFailed("you cannot block yourself", path="$.path.user_id")
        if not plausible_id(user_id) or not await self.users.existing_users([user_id]):
            raise NotFound("user not found")

    async def block(self, caller: Caller, user_id: str) -> bool:
        """Block `user_id`; False if it already was (nothing changes)."""
        await self._target(caller, user_id)
        created = await self.store.add_block(caller.user_id, user_id, self.clock.now_ms())
        if created:
            await self._changed(caller.user_id, user_id)
        return created

    async def unblock(self, caller: Caller, user_id: str) -> bool:
        """Lift a block; False if there was none (nothing changes)."""
        await self._target(caller, user_id)
        removed = await self.store.remove_block(caller.user_id, user_id)
        if removed:
            await self._changed(caller.user_id, user_id)
        return removed

    async def _changed(self, a: str, b: str) -> None:
        cid = await self.directs.direct_between(a, b)
        if cid is None:
            return  # nothing cached anywhere; a direct chat opened later loads fresh
        # At once here, before a racing send on this node checks it; then everywhere.
        self.conversations.invalidate([cid])
        await self.publisher.invalidate([cid])

    async def list_for(self, caller: Caller) -> list[Block]:
        return await self.store.list_blocks(caller.user_id)

    async def screen(self, caller: Caller, user: User) -> User:
        """`user` as the caller may see it: presence and profile text hidden across a block."""
        if user.id == caller.user_id:
            return user
        blocking, blocked_by = await self.store.block_relations(caller.user_id, [user.id])
        if not blocking and not blocked_by:
            return user
        return replace(user, info_text="", info_text_updated_at=None, last_seen_at=None)
