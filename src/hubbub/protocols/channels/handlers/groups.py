"""`chat/groups`, `chat/groups/ack`, `group/membership` (`core/groups.py`).

Creating a group (idempotent on `client_request_id`) and leaving it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hubbub.clock import iso
from hubbub.protocols.channels import schema as s
from hubbub.protocols.channels.handlers.base import Handler, Reply, ack

if TYPE_CHECKING:
    from hubbub.protocols.channels.session import Session

__all__ = ["HANDLERS", "PIPELINED"]


async def create_group(ss: Session, m: s.CreateGroup, _p: dict[str, str]) -> Reply:
    conv, created = await ss.node.groups.create_group(
        ss.caller, m.name, list(m.member_ids), m.client_request_id
    )
    return Reply(
        "chat/groups/ack",
        "CreateGroupAck",
        {
            "client_request_id": m.client_request_id,
            "status": "created" if created else "duplicate",
            "group_id": conv.id,
            "error_code": None,
            "error_message": None,
            "timestamp": iso(ss.node.clock.now_ms()),
        },
    )


async def ack_group_create(ss: Session, m: s.AcknowledgeGroupCreate, _p: dict[str, str]) -> Reply:
    # The client confirms it saw CreateGroupAck; the request must be its own.
    group_id = await ss.node.groups.find_by_request(ss.caller, m.client_request_id)
    return ack("chat/groups/ack", group_id=group_id, client_request_id=m.client_request_id)


async def leave_group(ss: Session, m: s.LeaveGroup, _p: dict[str, str]) -> Reply:
    data = await ss.node.groups.leave_group(ss.caller, m.group_id, m.request_id)
    return Reply("group/membership", "LeaveGroupAck", data)


HANDLERS: dict[tuple[str, str], Handler] = {
    ("chat/groups", "CreateGroup"): create_group,
    ("chat/groups/ack", "AcknowledgeGroupCreate"): ack_group_create,
    ("group/membership", "LeaveGroup"): leave_group,
}

PIPELINED: frozenset[tuple[str, str]] = frozenset()
