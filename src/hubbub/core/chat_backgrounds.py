"""A conversation's background, shared by its members (Telegram-style wallpaper).

The spec's `ChatBackgroundUpdated` names `updated_by`, which only means
something if others see the change: so a background belongs to the
conversation, not to one member's view of it. Any member may set it (in a
group too: like its name, a small cosmetic setting every member may change);
the change is a conversation event (`chat/background`, scope `c`), so every
device of every member hears of it, live and through `SyncRequest`, and a
non-member learns nothing (`not_found`, as for a conversation that does not
exist).

What a background may be, checked before anything is stored:

    color   `#rrggbb` (stored lower-case)
    preset  one of `PRESETS`
    image   `/v1/blobs/{blob_id}` of a blob already shared in *this*
            conversation (a voice note, an attachment): every member may
            download it, so every member can show it. Any other URL, a
            signed URL (bound to the member it was minted for), or a blob
            not shared here is refused (`not_found` for the blob, like
            `GET /v1/blobs/{id}` answers a stranger).

`background_id` is the client's name for its choice (1-64 characters of
`[A-Za-z0-9._:-]`). Setting what is stored already is `unchanged` and tells
nobody. `request_id` of `SetChatBackgroundWithAck` is an idempotency key per
user: a retry gets the first ack back and writes nothing.
"""

from __future__ import annotations

import re
from typing import Any

from hubbub.clock import Clock, iso
from hubbub.core.archive import check_ids
from hubbub.core.blobs import check_blob_id
from hubbub.core.context import Caller
from hubbub.core.conversations import Conversations
from hubbub.core.frames import event
from hubbub.core.ports import Background, BlobRefStore, ChatBackgroundStore
from hubbub.core.publisher import Publisher
from hubbub.errors import NotFound, ValidationFailed

__all__ = ["CHANNEL", "PRESETS", "TYPES", "ChatBackgrounds"]

CHANNEL = "chat/background"
TYPES = ("color", "preset", "image")
PRESETS = (
    "default", "classic", "ocean", "forest", "sunset", "night", "paper", "doodles", "gradient-blue",
    "gradient-pink",
)  # fmt: skip
BLOB_PREFIX = "/v1/blobs/"
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
_BACKGROUND_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_VALUE = "$.data.value"


class ChatBackgrounds:
    def __init__(
        self,
        store: ChatBackgroundStore,
        conversations: Conversations,
        blob_refs: BlobRefStore,
        publisher: Publisher,
        clock: Clock,
    ) -> None:
        self.store = store
        self.conversations = conversations
        self.blob_refs = blob_refs
        self.publisher = publisher
        self.clock = clock

    def _checked(self, background_id: str, background_type: str, value: str) -> Background:
        if not _BACKGROUND_ID.fullmatch(background_id):
            raise ValidationFailed(
                "must be 1-64 characters of A-Z a-z 0-9 . _ : -", path="$.data.background_id"
            )
        if background_type not in TYPES:
            raise ValidationFailed(
                f"must be one of {', '.join(TYPES)}", path="$.data.background_type"
            )
        if background_type == "color":
            if not _COLOR.fullmatch(value):
                raise ValidationFailed("must be a #rrggbb colour", path=_VALUE)
            value = value.lower()
        elif background_type == "preset":
            if value not in PRESETS:
                raise ValidationFailed(f"must be one of {', '.join(PRESETS)}", path=_VALUE)
        elif not value.startswith(BLOB_PREFIX) or not check_blob_id(value[len(BLOB_PREFIX) :]):
            raise ValidationFailed(f"must be {BLOB_PREFIX}{{blob_id}} of this server", path=_VALUE)
        return Background(background_id, background_type, value)

    async def set_background(
        self,
        caller: Caller,
        conversation_id: str,
        background_id: str,
        background_type: str,
        value: str,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        """Set the conversation's background; the spec's `SetChatBackgroundAck`."""
        check_ids(conversation_id, request_id)
        bg = self._checked(background_id, background_type, value)
        if caller.user_id not in await self.conversations.members(conversation_id):
            raise NotFound("conversation not found")
        if bg.background_type == "image":
            blob_id = bg.value[len(BLOB_PREFIX) :]
            if conversation_id not in await self.blob_refs.ref_conversations(blob_id):
                raise NotFound("file not found")
        now = self.clock.now_ms()
        data = {
            "conversation_id": conversation_id,
            "background_id": bg.background_id,
            "background_type": bg.background_type,
            "value": bg.value,
            "updated_by": caller.user_id,
            "timestamp": iso(now),
        }
        ev = event("c", conversation_id, CHANNEL, "ChatBackgroundUpdated", data)

        def ack(status: str) -> dict[str, Any]:
            return {
                "conversation_id": conversation_id,
                "request_id": request_id,
                "status": status,
                "reason": None,
                "timestamp": iso(now),
            }

        key = f"bg:{request_id}" if request_id is not None else None
        result, stored = await self.store.set_background(
            conversation_id, caller.user_id, bg, now, ev, key, ack
        )
        if stored is not None:
            await self.publisher.event(stored, await self.conversations.members(conversation_id))
        return result

    async def background_of(self, caller: Caller, conversation_id: str) -> Background | None:
        """The stored background, for a member (None: the client's default)."""
        if caller.user_id not in await self.conversations.members(conversation_id):
            raise NotFound("conversation not found")
        return await self.store.background_of(conversation_id)
