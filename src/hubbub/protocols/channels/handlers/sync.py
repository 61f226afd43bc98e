"""`sync/request`, `sync/changes`: resuming the change feed (`core/sync.py`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hubbub.clock import iso
from hubbub.protocols.channels import schema as s
from hubbub.protocols.channels.handlers.base import Handler, Reply

if TYPE_CHECKING:
    from hubbub.protocols.channels.session import Session

__all__ = ["HANDLERS", "PIPELINED"]

# Paged syncs a connection may have open (SyncRequest with has_more, awaiting
# SyncAck); request ids are client strings, so the map must not grow unbounded.
MAX_PENDING_SYNCS = 16


async def sync_request(ss: Session, m: s.SyncRequest, _p: dict[str, str]) -> Reply:
    page = await ss.node.sync.page(ss.caller, m.since_sequence, bool(m.full_sync))
    if page.has_more and m.request_id:
        ss.pending_sync.pop(m.request_id, None)
        ss.pending_sync[m.request_id] = page.to_sequence
        while len(ss.pending_sync) > MAX_PENDING_SYNCS:  # forget the oldest job
            del ss.pending_sync[next(iter(ss.pending_sync))]
    return Reply(
        "sync/request",
        "SyncResponse",
        {
            "request_id": m.request_id,
            "from_sequence": page.from_sequence,
            "to_sequence": page.to_sequence,
            "changes": page.changes,
            "has_more": page.has_more,
        },
    )


async def sync_ack(ss: Session, m: s.SyncAck, _p: dict[str, str]) -> Reply:
    await ss.node.sync.ack(ss.caller, m.sequence)
    extra: list[tuple[str, str, Any]] = []
    if m.sync_id in ss.pending_sync:
        page = await ss.node.sync.page(ss.caller, m.sequence)
        if page.has_more:
            ss.pending_sync[m.sync_id] = page.to_sequence
        else:
            del ss.pending_sync[m.sync_id]
        extra.append(
            (
                "sync/changes",
                "SyncChangesReceived",
                {
                    "sync_id": m.sync_id,
                    "sequence": page.to_sequence,
                    "changes": page.changes,
                    "timestamp": iso(ss.node.clock.now_ms()),
                    "has_more": page.has_more,
                },
            )
        )
    return Reply(
        "sync/changes", "Ack", {"ids": {"sync_id": m.sync_id}, "sequence": m.sequence}, extra
    )


HANDLERS: dict[tuple[str, str], Handler] = {
    ("sync/request", "SyncRequest"): sync_request,
    ("sync/changes", "SyncAck"): sync_ack,
}

PIPELINED: frozenset[tuple[str, str]] = frozenset()
