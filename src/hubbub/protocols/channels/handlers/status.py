"""`status/response`: asking for a user's or the server's status (`core/status.py`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hubbub.protocols.channels import schema as s
from hubbub.protocols.channels.handlers.base import Handler, Reply

if TYPE_CHECKING:
    from hubbub.protocols.channels.session import Session

__all__ = ["HANDLERS", "PIPELINED"]


async def request_status(ss: Session, m: s.RequestStatus, _p: dict[str, str]) -> Reply:
    data = await ss.node.status.request(ss.caller, m.target)
    return Reply("status/response", "StatusResponseReceived", {"request_id": m.request_id, **data})


HANDLERS: dict[tuple[str, str], Handler] = {
    ("status/response", "RequestStatus"): request_status,
}

PIPELINED: frozenset[tuple[str, str]] = frozenset()
