"""24-hour statuses ("stories", `status/updates`).

A status is text, or an image or video the author uploaded already
(`content_url` is the `/v1/blobs/{id}` path of a blob they own: the server
never fetches a URL, and a blob that is not theirs is `not_found`). It lives
`ttl_ms` (24 h by default, `--status-ttl-s`) and an author has at most
`MAX_LIVE` live at a time. `client_request_id` is the author's idempotency
key: a retry answers the first status and tells nobody again.

Who is told is decided once, when it is created: the author's contacts
(`StatusStore.contacts_of`: a direct chat, no block either way) that the
author's status visibility admits (`core/status_visibility.py`), plus the
author's own devices. Each gets `StatusCreated` as a user-scoped event, so it
is live and in `SyncRequest`; a viewer who mutes the author gets it too,
flagged `muted: true`, so a client can file it away without a second read
(docs/protocol.md). The feed drops a status's events once it has expired or
one of the two blocked the other (`store/sql/events.py`), so nobody is sent
an expired status, whatever the timer did.

The timer (`STATUS_TIMER`, a `timers` row written with the status) deletes
the row at `expires_at`, once across the cluster. While it lives, whoever
may see it may download its blob (`may_read_blob`, a reader of
`core/blob_access.py`); it never holds a reference on the blob, which keeps
whatever lifetime its upload gave it (the blob GCs of `core/voice.py` and
`core/rooms.py`).
"""

from __future__ import annotations

import re
from typing import Any

from hubbub.clock import Clock, iso
from hubbub.core.blobs import Blobs
from hubbub.core.context import Caller
from hubbub.core.frames import event
from hubbub.core.model import NewEvent
from hubbub.core.ports import StatusRecord, StatusStore
from hubbub.core.publisher import Publisher
from hubbub.core.status_visibility import StatusVisibility
from hubbub.errors import Conflict, NotFound, ValidationFailed
from hubbub.ids import new_id

__all__ = ["CHANNEL", "CONTENT_TYPES", "MAX_LIVE", "MAX_TEXT", "STATUS_TIMER", "StatusUpdates"]

CHANNEL = "status/updates"
TYPE = "StatusCreated"
STATUS_TIMER = "status_expire"
CONTENT_TYPES = ("text", "image", "video")
MAX_TEXT = 700
MAX_LIVE = 30
MAX_CLIENT_ID = 64
_BLOB_URL = re.compile(r"^/v1/blobs/([A-Za-z0-9_-]{16,64})$")


def blob_path(blob_id: str) -> str:
    return f"/v1/blobs/{blob_id}"


def status_data(s: StatusRecord) -> dict[str, Any]:
    return {
        "status_id": s.id,
        "author_id": s.author_id,
        "content_type": s.content_type,
        "content_url": s.content_url,
        "text": s.text,
        "created_at": iso(s.created_at),
        "expires_at": iso(s.expires_at),
    }


class StatusUpdates:
    def __init__(
        self,
        store: StatusStore,
        visibility: StatusVisibility,
        blobs: Blobs,
        publisher: Publisher,
        clock: Clock,
        ttl_ms: int,
    ) -> None:
        if ttl_ms < 1000:
            raise ValueError("--status-ttl-s must be at least 1")
        self.store = store
        self.visibility = visibility
        self.blobs = blobs
        self.publisher = publisher
        self.clock = clock
        self.ttl_ms = ttl_ms
        self.on_timer_scheduled: list[Any] = []

    async def _check_url(self, author_id: str, content_type: str, url: str | None) -> None:
        path = "$.data.content_url"
        if content_type == "text":
            if url is not None:
                raise ValidationFailed("a text status has no content_url", path=path)
            return
        if url is None:
            raise ValidationFailed(f"required for {content_type}", path=path)
        m = _BLOB_URL.match(url)
        if m is None:
            raise ValidationFailed("must be /v1/blobs/{blob_id} of a file you uploaded", path=path)
        meta = await self.blobs.store.stat(m.group(1))
        if meta is None or meta.owner_id != author_id:
            raise NotFound("file not found")

    async def create(
        self,
        caller: Caller,
        content_type: str,
        content_url: str | None,
        text: str | None,
        client_request_id: str | None,
    ) -> StatusRecord:
        if content_type not in CONTENT_TYPES:
            raise ValidationFailed(
                f"must be one of {', '.join(CONTENT_TYPES)}", path="$.data.content_type"
            )
        if text is not None and len(text) > MAX_TEXT:
            raise ValidationFailed(f"at most {MAX_TEXT} characters", path="$.data.text")
        if content_type == "text" and not (text or "").strip():
            raise ValidationFailed("required for a text status", path="$.data.text")
        if client_request_id is not None and not 1 <= len(client_request_id) <= MAX_CLIENT_ID:
            raise ValidationFailed(
                f"must be 1-{MAX_CLIENT_ID} characters", path="$.data.client_request_id"
            )
        me = caller.user_id
        await self._check_url(me, content_type, content_url)
        audience = await self.visibility.audience(me)
        muted = await self.store.muters_of(me, audience)
        now = self.clock.now_ms()
        status = StatusRecord(
            new_id(), me, content_type, content_url, text, now, now + self.ttl_ms,
            client_request_id,
        )  # fmt: skip

        def events_of(s: StatusRecord) -> list[NewEvent]:
            data = status_data(s)
            return [
                event("u", v, CHANNEL, TYPE, {**data, "muted": v in muted}, s.id)
                for v in sorted(audience | {me})
            ]

        result = await self.store.create_status(status, MAX_LIVE, STATUS_TIMER, events_of)
        if result is None:
            raise Conflict(f"at most {MAX_LIVE} live statuses")
        stored, events = result
        for ev in events:
            skip = caller.conn_id if ev.target == me else None
            await self.publisher.event(ev, [ev.target], skip_conn=skip)
        if events:
            for cb in self.on_timer_scheduled:
                cb(stored.expires_at)
        return stored

    async def expire_due(self, status_id: str) -> bool:
        """The timer's handler: the status is gone at `expires_at`, once."""
        return await self.store.expire_status(status_id, STATUS_TIMER)

    async def may_read_blob(self, user_id: str, blob_id: str) -> bool:
        """Whether a live status showing this blob is `user_id`'s or for them
        (the blob download's check, `core/blob_access.py`)."""
        found = await self.store.live_with_url(blob_path(blob_id), self.clock.now_ms())
        for s in found:
            if s.author_id == user_id or await self.visibility.admits(s.author_id, user_id):
                return True
        return False

    async def visible_to(self, caller: Caller, author_id: str | None) -> list[dict[str, Any]]:
        """The live statuses `caller` may see (of `author_id`, or of every
        contact and their own), each with the caller's `muted` flag."""
        me = caller.user_id
        if author_id is not None and author_id != me:
            if not await self.visibility.admits(author_id, me):
                return []
            authors = {author_id}
        elif author_id == me:
            authors = {me}
        else:
            authors = await self.visibility.visible_authors(me)
        found = await self.store.live_statuses(authors, self.clock.now_ms())
        muted = set()
        for a in {s.author_id for s in found} - {me}:
            if await self.store.muters_of(a, [me]):
                muted.add(a)
        return [{**status_data(s), "muted": s.author_id in muted} for s in found]
