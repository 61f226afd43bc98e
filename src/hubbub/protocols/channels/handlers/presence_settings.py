"""`user/presence-settings`: who sees the caller's presence (`core/presence_settings.py`)."""

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
    data = await ss.node.presence.update_visibility(
        ss.caller, m.visibility, m.allowed_user_ids, m.blocked_user_ids
    )
    return Reply("user/presence-settings", "Ack", {"ids": {"user_id": data["user_id"]}, **data})


HANDLERS: dict[tuple[str, str], Handler] = {
    ("user/presence-settings", "UpdatePresenceVisibility"): update_visibility,
}

PIPELINED: frozenset[tuple[str, str]] = frozenset()
