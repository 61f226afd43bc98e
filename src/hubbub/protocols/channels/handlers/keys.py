"""`crypto/keys`: publishing end-to-end public keys (`core/keys.py`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hubbub.protocols.channels import schema as s
from hubbub.protocols.channels.handlers.base import Handler, Reply, ack

if TYPE_CHECKING:
    from hubbub.protocols.channels.session import Session

__all__ = ["HANDLERS", "PIPELINED"]


async def publish_key(ss: Session, m: s.PublishPublicKey, _p: dict[str, str]) -> Reply:
    data = await ss.node.keys.publish(ss.caller, m.user_id, m.key_id, m.public_key, m.algorithm)
    return ack("crypto/keys", key_id=data["key_id"], user_id=data["user_id"])


HANDLERS: dict[tuple[str, str], Handler] = {
    ("crypto/keys", "PublishPublicKey"): publish_key,
}

PIPELINED: frozenset[tuple[str, str]] = frozenset()
