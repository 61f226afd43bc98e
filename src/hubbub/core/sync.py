"""The change feed: resume after a gap with `SyncRequest{since_sequence}`.

A page holds up to `page_size` frames, each exactly as pushed live
(`{channel, type, seq, data}`), in `seq` order. `to_sequence` is the last seq
returned (or `since` when nothing is new); the client continues from there.
Full sync starts from 0. `SyncAck` records a device's confirmed position.
Info-text updates the owner's visibility hides from the caller are left out
of the page (`InfoVisibility.screen_feed`); `to_sequence` still moves past them.
"""

from __future__ import annotations

import msgspec

from hubbub.clock import Clock
from hubbub.core.context import Caller
from hubbub.core.frames import raw_frame
from hubbub.core.info_visibility import InfoVisibility
from hubbub.core.ports import CursorStore, EventStream
from hubbub.errors import ValidationFailed

__all__ = ["Page", "Sync"]

MAX_SEQ = 2**63 - 1  # a stream position is a signed 64-bit integer in every store


class Page(msgspec.Struct):
    from_sequence: int
    to_sequence: int
    changes: list[msgspec.Raw]
    has_more: bool


class Sync:
    def __init__(
        self, events: EventStream, cursors: CursorStore, clock: Clock, page_size: int = 500
    ) -> None:
        self.events = events
        self.cursors = cursors
        self.clock = clock
        self.page_size = page_size
        self.info_visibility: InfoVisibility | None = None

    async def page(self, caller: Caller, since: int | None, full_sync: bool = False) -> Page:
        start = 0 if full_sync or since is None else since
        if not 0 <= start <= MAX_SEQ:
            raise ValidationFailed("since_sequence must be 0..2^63-1", path="$.data.since_sequence")
        events = await self.events.feed(caller.user_id, start, self.page_size + 1)
        more = len(events) > self.page_size
        events = events[: self.page_size]
        to = events[-1].pos if events else start
        if self.info_visibility is not None:
            events = await self.info_visibility.screen_feed(caller.user_id, events)
        return Page(start, to, [raw_frame(e) for e in events], more)

    async def ack(self, caller: Caller, sequence: int) -> None:
        if not 0 <= sequence <= MAX_SEQ:
            raise ValidationFailed("sequence must be 0..2^63-1", path="$.data.sequence")
        await self.cursors.set_cursor(
            caller.user_id, caller.device_id, sequence, self.clock.now_ms()
        )
