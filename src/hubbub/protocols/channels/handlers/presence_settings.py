"""`user/presence-settings` and `user/presence-ack`: who sees the caller's
presence (`core/presence_settings.py`).

The two channels make the same change; `user/presence-ack` is the spec's
variant with a client `request_id`, answered by its own
`PresenceVisibilityUpdateAck` (`status` updated or unchanged). Refusals are
`Error` frames on both, like every handler's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hubbub.protocols.channels import schema as s
from hubbub.protocols.channels.handlers.base import Handler, Reply

if TYPE_CHECKING:
    from hubbub.protocols.channels.session import Session

__all__ = ["HANDLERS", "PIPELINED"]


async def update_visibility(
    ss: Session, m: s.UpdatePresenceVisibility, _p: dict[str, str]
) -> Reply:
    data, _changed = await ss.node.presence.update_visibility(
        ss.caller, m.visibility, m.allowed_user_ids, m.blocked_user_ids
    )
    return Reply("user/presence-settings", "Ack", {"ids": {"user_id": data["user_id"]}, **data})


async def update_visibility_acked(
    ss: Session, m: s.PresenceVisibilityUpdateRequest, _p: dict[str, str]
) -> Reply:
    data, changed = await ss.node.presence.update_visibility(
        ss.caller, m.visibility, m.allowed_user_ids, m.blocked_user_ids
    )
    return Reply(
        "user/presence-ack",
        "PresenceVisibilityUpdateAck",
        {
            "request_id": m.request_id,
            "status": "updated" if changed else "unchanged",
            "error_code": None,
            "error_message": None,
            "timestamp": data["updated_at"],
        },
    )


HANDLERS: dict[tuple[str, str], Handler] = {
    ("user/presence-settings", "UpdatePresenceVisibility"): update_visibility,
    ("user/presence-ack", "PresenceVisibilityUpdateRequest"): update_visibility_acked,
}

PIPELINED: frozenset[tuple[str, str]] = frozenset()
