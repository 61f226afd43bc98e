"""`chat/mentions`: acknowledging an @mention (`core/mentions.py`).

Mentions themselves are made by sending a group message (`handlers/messages.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hubbub.protocols.channels import schema as s
from hubbub.protocols.channels.handlers.base import Handler, Reply, ack

if TYPE_CHECKING:
    from hubbub.protocols.channels.session import Session

__all__ = ["HANDLERS", "PIPELINED"]


async def acknowledge_mention(ss: Session, m: s.AcknowledgeMention, _p: dict[str, str]) -> Reply:
    await ss.node.mentions.acknowledge(ss.caller, m.notification_id)
    return ack("chat/mentions", notification_id=m.notification_id)


HANDLERS: dict[tuple[str, str], Handler] = {
    ("chat/mentions", "AcknowledgeMention"): acknowledge_mention,
}

PIPELINED: frozenset[tuple[str, str]] = frozenset()
