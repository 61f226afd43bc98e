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
stays cheap: each node reads once (at its first message) which
conversations hold an archive at all (`_archived`) and from then on skips
every other conversation without a read; an archive, before and after it
commits, puts its conversation in that set on every node
(`Publisher.invalidate`, the bus message member caches already use), so
revival reads only where an archive may be, and writes only when there is
one. A revival that leaves no archive takes the conversation out of the
set again, unless an archive was announced meanwhile. (A read per
conversation instead, remembering the ones without an archive, cost the
first message of every conversation a read: after a restart, a thousand
clients' first messages made the read pool the queue, and a p99 of seconds;
docs/performance.md. Past `ARCHIVED_MAX` such conversations the node falls
back to that, with `_quiet`, bounded.) A message on another node within the
bus's latency of an archive is announced with the next message; lists are
right meanwhile. MTChat's WebSocket says `dialog.unarchived`
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

import asyncio
from collections.abc import Iterable
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
ARCHIVED_MAX = 100_000  # conversations with an archive kept in memory (past it: `_quiet`)


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
        # Every conversation that may hold an archive row: read at the first
        # message, then kept up to date by `_may_archive`. None while not
        # read (or being read), and when there were more than ARCHIVED_MAX.
        self._archived: set[str] | None = None
        self._loading: asyncio.Future[None] | None = None
        self._added: set[str] = set()  # announced while the set was being read
        self._too_many = False
        self._generation = 0  # a bus gap: what was being read may be stale
        self._announced = 0  # archives announced so far (see `revive`)
        self._quiet: set[str] = set()  # past ARCHIVED_MAX: no archive row, as last seen

    def _may_archive(self, conversation_ids: Iterable[str]) -> None:
        ids = set(conversation_ids)
        self._announced += 1
        self._quiet.difference_update(ids)
        if self._archived is not None:
            self._archived.update(ids)
            if len(self._archived) > ARCHIVED_MAX:
                self._archived = None  # read again: the store knows which are left
        elif self._loading is not None:
            self._added.update(ids)

    def forget(self, conversation_ids: list[str]) -> None:
        """Someone may have archived these (on any node): do not skip them."""
        self._may_archive(conversation_ids)

    def forget_all(self) -> None:
        """Notifications may have been lost: read everything again."""
        self._generation += 1
        self._archived = None
        self._loading = None
        self._too_many = False
        self._quiet.clear()

    async def _archiving(self, conversation_id: str) -> None:
        """Before and after an archive commits: no node may skip the conversation."""
        self._may_archive([conversation_id])
        await self.publisher.invalidate([conversation_id])

    async def _known(self) -> set[str] | None:
        """The conversations with an archive, read once; None past ARCHIVED_MAX."""
        while self._archived is None and not self._too_many:
            if self._loading is None:
                self._loading = asyncio.ensure_future(self._load())
            loading = self._loading
            try:
                await asyncio.shield(loading)
            finally:
                if self._loading is loading and loading.done():
                    self._loading = None  # failed: the next message tries again
        return self._archived

    async def _load(self) -> None:
        generation = self._generation
        self._added = set()
        ids = await self.store.conversations_with_archives(ARCHIVED_MAX + 1)
        if generation != self._generation:
            return  # a gap while reading: `_known` reads again
        if len(ids) > ARCHIVED_MAX:
            self._too_many = True
        else:
            self._archived = set(ids) | self._added
        self._added = set()

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
            self._may_archive([conversation_id])
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
        known = self._archived if self._archived is not None else await self._known()
        if known is not None:
            if conversation_id not in known:
                return
        elif conversation_id in self._quiet:
            return
        elif not await self.store.has_archives(conversation_id):
            if len(self._quiet) >= QUIET_MAX:
                self._quiet.clear()
            self._quiet.add(conversation_id)
            return
        announced = self._announced
        now = self.clock.now_ms()
        revived = await self.store.revive(
            conversation_id,
            now,
            lambda user_id: self._event(conversation_id, user_id, False, sender_id),
        )
        # Out of the set once no archive is left. An archive committed after
        # the read below is announced after its commit (`_archiving`, or the
        # other node's invalidation), so after `announced` was taken: then the
        # conversation stays in.
        if (
            known is not None
            and not await self.store.has_archives(conversation_id)
            and self._archived is known
            and self._announced == announced
        ):
            known.discard(conversation_id)
        for stored in revived:
            await self.publisher.event(stored, [stored.target])

    async def archive_inactive(self, after_ms: int, limit: int = 1000) -> int:
        """Archive dialogs idle for `after_ms`; how many (dialog, member) pairs were."""
        now = self.clock.now_ms()
        cutoff = now - after_ms
        done = 0
        for conversation_id, user_id in await self.store.inactive_dialog_members(cutoff, limit):
            ev = self._event(conversation_id, user_id, True, SYSTEM)
            self._may_archive([conversation_id])
            _, stored = await self.store.set_archived(
                conversation_id, user_id, True, now, ev, None, lambda changed: {}
            )
            if stored is not None:
                await self._archiving(conversation_id)
                await self.publisher.event(stored, [user_id])
                done += 1
        return done
