"""`broadcast/messages` and `broadcast/{channel_id}` (`core/broadcasts.py`).

Broadcasts are published over REST (`rest/broadcasts.py`); on `/ws` a user
acknowledges an announcement and subscribes to (or unsubscribes from) a
channel. A subscription is the user's, kept in the database: `Ack` carries
`since_seq`, the position after which the channel's messages are in the feed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hubbub.protocols.channels import schema as s
from hubbub.protocols.channels.handlers.base import Handler, Reply, ack

if TYPE_CHECKING:
    from hubbub.protocols.channels.session import Session

__all__ = ["HANDLERS", "PIPELINED"]

CHANNEL = "broadcast/{channel_id}"


async def acknowledge(ss: Session, m: s.AcknowledgeBroadcastMessage, _p: dict[str, str]) -> Reply:
    first = await ss.node.broadcasts.acknowledge(ss.caller, m.message_id, m.received_at, m.status)
    reply = ack("broadcast/messages", message_id=m.message_id)
    reply.data["first"] = first
    return reply


async def subscribe(ss: Session, _m: Any, p: dict[str, str]) -> Reply:
    cid = p["channel_id"]
    since = await ss.node.broadcasts.subscribe(ss.caller, cid)
    ss.subscriptions.add(f"broadcast/{cid}")
    reply = ack(f"broadcast/{cid}", channel_id=cid)
    reply.data["since_seq"] = since
    return reply


async def unsubscribe(ss: Session, _m: Any, p: dict[str, str]) -> Reply:
    cid = p["channel_id"]
    await ss.node.broadcasts.unsubscribe(ss.caller, cid)
    ss.subscriptions.discard(f"broadcast/{cid}")
    return ack(f"broadcast/{cid}", channel_id=cid)


HANDLERS: dict[tuple[str, str], Handler] = {
    ("broadcast/messages", "AcknowledgeBroadcastMessage"): acknowledge,
    (CHANNEL, "Subscribe"): subscribe,
    (CHANNEL, "Unsubscribe"): unsubscribe,
}

PIPELINED: frozenset[tuple[str, str]] = frozenset()
