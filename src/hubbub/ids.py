"""Identifiers.

Ids are random UUID4 strings: unguessable, so knowing one proves nothing, and
never reused. `NewType`s keep user, conversation and message ids apart in
signatures.
"""

from __future__ import annotations

import uuid
from typing import NewType

__all__ = ["ConversationId", "MessageId", "UserId", "new_id"]

UserId = NewType("UserId", str)
ConversationId = NewType("ConversationId", str)
MessageId = NewType("MessageId", str)


def new_id() -> str:
    return str(uuid.uuid4())
