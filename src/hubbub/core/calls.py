"""Call signalling relay (SDP offers/answers, ICE candidates, hangups).

The server never touches media: it relays signals between users who share a
conversation and do not block each other (`Contacts.contacts_of`), to every
device of the callee, on whichever node they are.
Signals are pushed live and not kept in the change feed: an offer or ICE
candidate is worthless once the moment has passed, and a client that
reconnects mid-call restarts negotiation.
"""

from __future__ import annotations

from typing import Any

from hubbub.clock import Clock, iso
from hubbub.core.context import Caller
from hubbub.core.ports import Contacts
from hubbub.core.publisher import Publisher
from hubbub.errors import NotFound, ValidationFailed

__all__ = ["Calls"]

MAX_ID = 128
MAX_TYPE = 32


class Calls:
    def __init__(self, contacts: Contacts, publisher: Publisher, clock: Clock) -> None:
        self.contacts = contacts
        self.publisher = publisher
        self.clock = clock

    async def relay_signal(
        self,
        caller: Caller,
        channel: str,
        call_id: str,
        to_user_id: str,
        signal_type: str,
        payload: dict[str, Any] | None,
    ) -> str:
        if not call_id or len(call_id) > MAX_ID:
            raise ValidationFailed(f"call_id must be 1-{MAX_ID} characters", path="$.data.call_id")
        if not signal_type or len(signal_type) > MAX_TYPE:
            raise ValidationFailed(f"type must be 1-{MAX_TYPE} characters", path="$.data.type")
        if to_user_id == caller.user_id:
            raise ValidationFailed("cannot signal yourself", path="$.data.to_user_id")
        # Only people who share a conversation may ring each other; anyone
        # else is told the user does not exist, like any id they cannot see.
        if to_user_id not in await self.contacts.contacts_of(caller.user_id):
            raise NotFound("user not found")
        now = iso(self.clock.now_ms())
        data: dict[str, object] = {
            "call_id": call_id,
            "from_user_id": caller.user_id,
            "type": signal_type,
            "payload": payload or {},
            "timestamp": now,
        }
        await self.publisher.ephemeral(channel, "CallSignalReceived", data, [to_user_id])
        return now
