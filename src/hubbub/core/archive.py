"""Per-user archive: a member puts a conversation away for themselves only.

Archiving and unarchiving are the user's own events (`ChatArchiveStatusChanged`
on `chat/archive`, scope `u`): every device of that user hears of it, live
and through `SyncRequest`, nobody else. `changed_by` says who did it: the
user themselves by hand (`/ws` or MTChat's REST), the sender of the message
that brought it back, or `"system"` for MTChat's auto-archive.

A new message brings the conversation back for everyone who had archived it
(spec 003). The store compares stream positions (an archive holds until the
next message), so lists are right even before anyone is told; then
`revive`, run by `Messages` after each new message, announces it. Sending
stays cheap: each node remembers the conversations it found with no archive
at all (`_quiet`, bounded) and skips them without a read; an archive makes
every node forget its conversation (`Publisher.invalidate`, the bus message
member caches already use), so revival reads only where an archive may be,
and writes only when there is one. (A message on another node within the
bus's latency of an archive is announced with the next message; lists are
right meanwhile.) MTChat's WebSocket says `dialog.unarchived`
(`protocols/mtchat/events.py`).

Spec 003 dialogs also archive themselves: `archive_inactive` (run by the
node every so often) archives a dialog for each member who has not, once no
message came for `--mtchat-archive-after-s`, as MTChat's job does (and as
there, a dialog unarchived by hand stays inactive and is archived again at
the next run). Runs on several nodes at once announce each archive once:
the store's write is idempotent.

`request_id` is an idempotency key per user: a retry gets the first ack
back and writes nothing (`request_keys`, in the unit that archives).
"""

from __future__ import annotations

from typing import Any

from hubbub.clock import Clock, iso
from hubbub.core.context import Caller
from hubbub.core.conversations import Conversations
from hubbub.core.frames import event
from hubbub.core.model import NewEvent
from hubbub.core.ports import ArchiveStore
from hubbub.core.publisher import Publisher
from hubbub.errors import NotFound, ValidationFailed

__all__ = ["CHANNEL", "SYSTEM", "Archive", "check_ids"]

CHANNEL = "chat/archive"
SYSTEM = "system"  # `changed_by` of an archive nobody asked for (inactivity)
QUIET_MAX = 100_000  # conversations remembered without an archive (then it starts over)


def check_ids(conversation_id: str, request_id: str | None) -> None:
    """Shared by archive and pins: ids of sane size, named in the error."""
    if not conversation_id or len(conversation_id) > 64:
        raise ValidationFailed("must be 1-64 characters", path="$.data.conversation_id")
    if request_id is not None and not 0 < len(request_id) <= 128:
        raise ValidationFailed("must be 1-128 characters", path="$.data.request_id")


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
        self._quiet: set[str] = set()  # no archive row, as this node last saw

    def forget(self, conversation_ids: list[str]) -> None:
        """Someone may have archived these (on any node): read them again."""
        self._quiet.difference_update(conversation_ids)

    def forget_all(self) -> None:
        self._quiet.clear()

    async def _archiving(self, conversation_id: str) -> None:
        """Before and after an archive commits: no node may skip the conversation."""
        self._quiet.discard(conversation_id)
        await self.publisher.invalidate([conversation_id])

    def _event(self, conversation_id: str, user_id: str, archived: bool, by: str) -> NewEvent:
        data = {
            "conversation_id": conversation_id,
            "archived": archived,
            "changed_by": by,
            "timestamp": iso(self.clock.now_ms()),
        }
        return event("u", user_id, CHANNEL, "ChatArchiveStatusChanged", data)

    async def set_archived(
        self,
        caller: Caller,
        conversation_id: str,
        archived: bool,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        """Archive or unarchive for the caller; the spec's `ChatArchiveStatusAck`.

        Already so is `status: "unchanged"` and tells nobody; a conversation the
        caller is not in is `not_found`, like one that does not exist."""
        check_ids(conversation_id, request_id)
        if caller.user_id not in await self.conversations.members(conversation_id):
            raise NotFound("conversation not found")
        now = self.clock.now_ms()
        key = f"archive:{request_id}" if request_id is not None else None

        def ack(changed: bool) -> dict[str, Any]:
            return {
                "request_id": request_id,
                "conversation_id": conversation_id,
                "status": ("archived" if archived else "unarchived") if changed else "unchanged",
                "reason": None,
                "timestamp": iso(now),
            }

        ev = self._event(conversation_id, caller.user_id, archived, caller.user_id)
        if archived:
            self._quiet.discard(conversation_id)
        result, stored = await self.store.set_archived(
            conversation_id, caller.user_id, archived, now, ev, key, ack
        )
        if archived and stored is not None:
            await self._archiving(conversation_id)
        if stored is not None:
            await self.publisher.event(stored, [caller.user_id])
        return result

    async def archived_of(self, user_id: str) -> set[str]:
        return await self.store.archived_of(user_id)

    async def revive(self, conversation_id: str, sender_id: str) -> None:
        """A new message came: tell whoever had archived the conversation."""
        if conversation_id in self._quiet:
            return
        if not await self.store.has_archives(conversation_id):
            if len(self._quiet) >= QUIET_MAX:
                self._quiet.clear()
            self._quiet.add(conversation_id)
            return
        now = self.clock.now_ms()
        for stored in await self.store.revive(
            conversation_id,
            now,
            lambda user_id: self._event(conversation_id, user_id, False, sender_id),
        ):
            await self.publisher.event(stored, [stored.target])

    async def archive_inactive(self, after_ms: int, limit: int = 1000) -> int:
        """Archive dialogs idle for `after_ms`; how many (dialog, member) pairs were."""
        now = self.clock.now_ms()
        cutoff = now - after_ms
        done = 0
        for conversation_id, user_id in await self.store.inactive_dialog_members(cutoff, limit):
            ev = self._event(conversation_id, user_id, True, SYSTEM)
            self._quiet.discard(conversation_id)
            _, stored = await self.store.set_archived(
                conversation_id, user_id, True, now, ev, None, lambda changed: {}
            )
            if stored is not None:
                await self._archiving(conversation_id)
                await self.publisher.event(stored, [user_id])
                done += 1
        return done
