"""`user/info-visibility`: who may see the caller's info text
(`core/info_visibility.py`).

The reply is the spec's `InfoVisibilityUpdateAck` on
`user/info-visibility/ack` (`status` updated or unchanged); the caller's
devices get `InfoVisibilityUpdated` on `user/info-visibility`. Refusals are
`Error` frames naming the field, like every handler's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hubbub.protocols.channels import schema as s
from hubbub.protocols.channels.handlers.base import Handler, Reply

if TYPE_CHECKING:
    from hubbub.protocols.channels.session import Session

__all__ = ["HANDLERS", "PIPELINED"]


async def set_info_visibility(ss: Session, m: s.SetInfoVisibility, _p: dict[str, str]) -> Reply:
    data = await ss.node.info_visibility.update(ss.caller, m.user_id, m.visibility, m.request_id)
    return Reply("user/info-visibility/ack", "InfoVisibilityUpdateAck", data)


HANDLERS: dict[tuple[str, str], Handler] = {
    ("user/info-visibility", "SetInfoVisibility"): set_info_visibility,
}

PIPELINED: frozenset[tuple[str, str]] = frozenset()
