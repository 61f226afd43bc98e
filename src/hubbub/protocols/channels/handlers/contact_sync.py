"""`contacts/sync`, `contacts/matches`: spec 000's contact sync (`core/contact_sync.py`).

The reply to `StartContactSync` is its first `ContactSyncStatus`; the match
chunks (`ContactMatchFound` on `contacts/matches`) and the final status
follow on the same connection, in order, as the reply's extra frames. None
of them joins the event stream: they are for the asking device alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hubbub.protocols.channels import schema as s
from hubbub.protocols.channels.handlers.base import Handler, Reply, ack

if TYPE_CHECKING:
    from hubbub.protocols.channels.session import Session

__all__ = ["HANDLERS", "PIPELINED"]


async def start_sync(ss: Session, m: s.StartContactSync, _p: dict[str, str]) -> Reply:
    answer = await ss.node.contact_sync.start(ss.caller, m.sync_id, m.device_id, m.contacts)
    extra: list[tuple[str, str, Any]] = [
        ("contacts/matches", "ContactMatchFound", chunk) for chunk in answer.chunks
    ]
    if answer.last is not None:
        extra.append(("contacts/sync", "ContactSyncStatus", answer.last))
    return Reply("contacts/sync", "ContactSyncStatus", answer.first, extra)


async def acknowledge(ss: Session, m: s.AcknowledgeContactMatches, _p: dict[str, str]) -> Reply:
    await ss.node.contact_sync.acknowledge(ss.caller, m.sync_id, m.received_count)
    return ack("contacts/matches", sync_id=m.sync_id)


HANDLERS: dict[tuple[str, str], Handler] = {
    ("contacts/sync", "StartContactSync"): start_sync,
    ("contacts/matches", "AcknowledgeContactMatches"): acknowledge,
}

PIPELINED: frozenset[tuple[str, str]] = frozenset()
