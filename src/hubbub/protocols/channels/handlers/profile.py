"""`profile/info-text`: the profile a user sets (`core/profile.py`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hubbub.protocols.channels import schema as s
from hubbub.protocols.channels.handlers.base import Handler, Reply

if TYPE_CHECKING:
    from hubbub.protocols.channels.session import Session

__all__ = ["HANDLERS", "PIPELINED"]


async def update_info_text(ss: Session, m: s.UpdateProfileInfoText, _p: dict[str, str]) -> Reply:
    data = await ss.node.profiles.update_info_text(ss.caller, m.user_id, m.info_text)
    return Reply("profile/info-text", "Ack", {"ids": {"user_id": data["user_id"]}, **data})


HANDLERS: dict[tuple[str, str], Handler] = {
    ("profile/info-text", "UpdateProfileInfoText"): update_info_text,
}

PIPELINED: frozenset[tuple[str, str]] = frozenset()
