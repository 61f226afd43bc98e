"""`status/updates`, `user/status/visibility` (+`/ack`) and
`contacts/status-mute` (+`/ack`): 24-hour statuses, who sees them, and
whose a viewer mutes (`core/status_updates.py`, `core/status_visibility.py`).

`CreateStatus` is answered on `status/ack` by the spec's `CreateStatusAck`
(with the status's `created_at` and `expires_at`), a retry by the same.
`SetStatusVisibility` and `SetStatusVisibilityAckRequest` are answered by
`SetStatusVisibilityAck`; `SetContactStatusMute` and `AckContactStatusMute`
by `ContactStatusMuteAck` (for the latter, `request_id` echoes the
`event_id`, plus `first`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hubbub.clock import iso
from hubbub.core.status_updates import CHANNEL
from hubbub.core.status_visibility import CHANNEL as VISIBILITY
from hubbub.core.status_visibility import MUTE_CHANNEL
from hubbub.protocols.channels import additions as a
from hubbub.protocols.channels import schema as s
from hubbub.protocols.channels.handlers.base import Handler, Reply

if TYPE_CHECKING:
    from hubbub.protocols.channels.session import Session

__all__ = ["HANDLERS", "PIPELINED"]

VISIBILITY_ACK = VISIBILITY + "/ack"
MUTE_ACK = MUTE_CHANNEL + "/ack"


async def create_status(ss: Session, m: s.CreateStatus, _p: dict[str, str]) -> Reply:
    st = await ss.node.status_updates.create(
        ss.caller, m.content_type, m.content_url, m.text, m.client_request_id
    )
    return Reply(
        "status/ack",
        "CreateStatusAck",
        {
            "client_request_id": m.client_request_id,
            "status": "accepted",
            "status_id": st.id,
            "error_code": None,
            "error_message": None,
            "created_at": iso(st.created_at),
            "expires_at": iso(st.expires_at),
        },
    )


async def set_visibility(ss: Session, m: a.SetStatusVisibility, _p: dict[str, str]) -> Reply:
    data = await ss.node.status_visibility.update(
        ss.caller, m.visibility, m.allowed_user_ids, m.blocked_user_ids, m.request_id
    )
    return Reply(VISIBILITY_ACK, "SetStatusVisibilityAck", data)


async def visibility_ack(
    ss: Session, m: s.SetStatusVisibilityAckRequest, _p: dict[str, str]
) -> Reply:
    data = await ss.node.status_visibility.acknowledge(ss.caller, m.request_id)
    return Reply(VISIBILITY_ACK, "SetStatusVisibilityAck", data)


async def set_mute(ss: Session, m: s.SetContactStatusMute, _p: dict[str, str]) -> Reply:
    data = await ss.node.status_visibility.set_mute(ss.caller, m.contact_id, m.muted, m.request_id)
    return Reply(MUTE_ACK, "ContactStatusMuteAck", data)


async def mute_ack(ss: Session, m: s.AckContactStatusMute, _p: dict[str, str]) -> Reply:
    data, first = await ss.node.status_visibility.acknowledge_mute(
        ss.caller, m.event_id, m.received_at
    )
    return Reply(MUTE_ACK, "ContactStatusMuteAck", {**data, "first": first})


HANDLERS: dict[tuple[str, str], Handler] = {
    (CHANNEL, "CreateStatus"): create_status,
    (VISIBILITY, "SetStatusVisibility"): set_visibility,
    (VISIBILITY_ACK, "SetStatusVisibilityAckRequest"): visibility_ack,
    (MUTE_CHANNEL, "SetContactStatusMute"): set_mute,
    (MUTE_ACK, "AckContactStatusMute"): mute_ack,
}

PIPELINED: frozenset[tuple[str, str]] = frozenset()
