"""Identifiers.

Ids are random UUID4 strings: unguessable, so knowing one proves nothing, and
never reused. `NewType`s keep user, conversation and message ids apart in
signatures.
"""

from __future__ import annotations

import uuid
from typing import NewType

__all__ = ["ConversationId", "MessageId", "UserId", "new_id", "plausible_id"]

UserId = NewType("UserId", str)
ConversationId = NewType("ConversationId", str)
MessageId = NewType("MessageId", str)


def new_id() -> str:
    return str(uuid.uuid4())


def plausible_id(value: str) -> bool:
    """False for what cannot be an id (far too long, or holding NUL, which no query
    should carry): such a value is answered like an unknown id, without a lookup."""
    return 0 < len(value) <= 64 and "\x00" not in value
