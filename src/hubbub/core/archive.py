"""Per-user archive: a member puts a conversation away for themselves only.

Archiving and unarchiving are the user's own events (`ConversationArchived`,
`ConversationUnarchived` on `chat/messages`, scope `u`): every device of that
user hears of it, nobody else. A new message brings the conversation back
for everyone who had archived it (spec 003): an archive holds until the
next message (the store compares stream positions), so sending costs
nothing more; clients clear the flag on a new message (MTChat's WebSocket
says `dialog.unarchived`, see `protocols/mtchat/ws.py`).

Spec 003 dialogs also archive themselves: `archive_inactive` (run by the
node every so often) archives a dialog for each member who has not, once no
message came for `--mtchat-archive-after-s`, as MTChat's job does (and as
there, a dialog unarchived by hand stays inactive and is archived again at
the next run). Runs on several nodes at once announce each archive once:
the store's write is idempotent.
"""

from __future__ import annotations

from hubbub.clock import Clock, iso
from hubbub.core.context import Caller
from hubbub.core.conversations import Conversations
from hubbub.core.frames import event
from hubbub.core.ports import ArchiveStore
from hubbub.core.publisher import Publisher
from hubbub.errors import NotFound

__all__ = ["Archive"]


class Archive:
    def __init__(
        self,
        store: ArchiveStore,
        conversations: Conversations,
        publisher: Publisher,
        clock: Clock,
    ) -> None:
        self.store = store
        self.conversations = conversations
        self.publisher = publisher
        self.clock = clock

    async def set_archived(self, caller: Caller, conversation_id: str, archived: bool) -> bool:
        if caller.user_id not in await self.conversations.members(conversation_id):
            raise NotFound("conversation not found")
        return await self._set(conversation_id, caller.user_id, archived)

    async def _set(self, conversation_id: str, user_id: str, archived: bool) -> bool:
        now = self.clock.now_ms()
        kind = "ConversationArchived" if archived else "ConversationUnarchived"
        data = {"conversation_id": conversation_id, "user_id": user_id, "timestamp": iso(now)}
        ev = event("u", user_id, "chat/messages", kind, data)
        stored = await self.store.set_archived(conversation_id, user_id, archived, now, ev)
        if stored is None:
            return False
        await self.publisher.event(stored, [user_id])
        return True

    async def archived_of(self, user_id: str) -> set[str]:
        return await self.store.archived_of(user_id)

    async def archive_inactive(self, after_ms: int, limit: int = 1000) -> int:
        """Archive dialogs idle for `after_ms`; how many (dialog, member) pairs were."""
        cutoff = self.clock.now_ms() - after_ms
        done = 0
        for conversation_id, user_id in await self.store.inactive_dialog_members(cutoff, limit):
            done += await self._set(conversation_id, user_id, True)
        return done
