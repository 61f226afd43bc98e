"""Turns committed events into bus notifications.

Called only after the store returned, i.e. after the commit: nothing is
pushed that a resume could not find again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from hubbub.core.frames import encode, frame_of
from hubbub.core.model import Notification, StoredEvent
from hubbub.core.ports import Bus

__all__ = ["Publisher"]


class Publisher:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        # Told (pos, skip_conn) of each event before it is published: the local
        # dispatcher keeps skipping the sender if it must read the event back.
        self.on_local: Callable[[int, str], None] | None = None
        # Told each revoked credential hash before the bus is: this node's
        # caches forget it before the revoking request is answered.
        self.on_revoke: list[Callable[[str], None]] = []

    async def event(
        self,
        ev: StoredEvent,
        recipients: Iterable[str],
        *,
        skip_conn: str | None = None,
        invalidate: list[str] | None = None,
    ) -> None:
        if skip_conn is not None and self.on_local is not None:
            self.on_local(ev.pos, skip_conn)
        await self.bus.publish(
            Notification(
                frame=encode(frame_of(ev)),
                recipients=list(recipients),
                skip_conn=skip_conn,
                invalidate=invalidate or [],
                pos=ev.pos,
            )
        )

    async def ephemeral(
        self,
        channel: str,
        type_: str,
        data: dict[str, object],
        recipients: Iterable[str],
        *,
        skip_conn: str | None = None,
    ) -> None:
        """Events that are state, not history (presence): pushed, not logged."""
        frame = encode({"channel": channel, "type": type_, "data": data})
        await self.bus.publish(
            Notification(frame=frame, recipients=list(recipients), skip_conn=skip_conn)
        )

    async def invalidate(self, conversation_ids: list[str]) -> None:
        await self.bus.publish(Notification(invalidate=conversation_ids))

    async def revoke(self, token_hash: str) -> None:
        for forget in self.on_revoke:
            forget(token_hash)
        await self.bus.publish(Notification(revoke_token=token_hash))
