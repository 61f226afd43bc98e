"""Per-user pins: a member keeps a conversation at the top of their own list.

Like the archive (`core/archive.py`), a pin is the user's own: pinning and
unpinning append `ChatPinnedUpdated` on `chat/pins` for that user only
(scope `u`), so every device of theirs follows, live and through
`SyncRequest`, and the other members hear nothing. `pinned_by` is always
the user. The flag is MTChat's `is_pinned` (`store/sql/pins.py`): a pin
made over `/ws` shows in MTChat's dialog list, and one made through
MTChat's REST reaches the user's `/ws` devices.

At most `MAX_PINNED` conversations are pinned at once (as messengers
commonly cap them); one more is `conflict` until another is unpinned. A
pin outlives archiving (a pinned archived chat shows in the archive) and
a new message does not unpin. `request_id` is an idempotency key per user.
"""

from __future__ import annotations

from typing import Any

from hubbub.clock import Clock, iso
from hubbub.core.archive import check_ids
from hubbub.core.context import Caller
from hubbub.core.conversations import Conversations
from hubbub.core.frames import event
from hubbub.core.ports.pins import PinStore
from hubbub.core.publisher import Publisher
from hubbub.errors import Conflict, NotFound

__all__ = ["CHANNEL", "MAX_PINNED", "Pins"]

CHANNEL = "chat/pins"
MAX_PINNED = 10


class Pins:
    def __init__(
        self,
        store: PinStore,
        conversations: Conversations,
        publisher: Publisher,
        clock: Clock,
        limit: int = MAX_PINNED,
    ) -> None:
        self.store = store
        self.conversations = conversations
        self.publisher = publisher
        self.clock = clock
        self.limit = limit

    async def set_pinned(
        self,
        caller: Caller,
        conversation_id: str,
        pinned: bool,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        """Pin or unpin for the caller; the spec's `SetChatPinnedAck`."""
        check_ids(conversation_id, request_id)
        if caller.user_id not in await self.conversations.members(conversation_id):
            raise NotFound("conversation not found")
        now = self.clock.now_ms()
        data = {
            "conversation_id": conversation_id,
            "pinned": pinned,
            "pinned_by": caller.user_id,
            "timestamp": iso(now),
        }
        ev = event("u", caller.user_id, CHANNEL, "ChatPinnedUpdated", data)

        def ack(status: str) -> dict[str, Any]:
            return {
                "request_id": request_id,
                "status": status,
                "error_code": None,
                "error_message": None,
                "timestamp": iso(now),
            }

        key = f"pin:{request_id}" if request_id is not None else None
        result, stored = await self.store.set_pinned(
            conversation_id, caller.user_id, pinned, self.limit, now, ev, key, ack
        )
        if result["status"] == "limit":
            raise Conflict(f"at most {self.limit} pinned conversations")
        if stored is not None:
            await self.publisher.event(stored, [caller.user_id])
        return result

    async def pinned_of(self, user_id: str) -> set[str]:
        return await self.store.pinned_of(user_id)
