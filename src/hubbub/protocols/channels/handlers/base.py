"""What every handler module shares: the reply shape and the handler signature.

Each handler gets the connection's `Session`, the validated message Struct and
the channel parameters, and returns the one reply for the frame's `id`: the
spec's own ack message where the spec has one, else `Ack` with the ids
created. No business rules here: a handler decodes, calls its core service,
and shapes the reply.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hubbub.protocols.channels.session import Session

__all__ = ["Handler", "Reply", "ack"]


@dataclass(slots=True)
class Reply:
    channel: str
    type: str
    data: Any
    extra_frames: list[tuple[str, str, Any]] = field(default_factory=list)


def ack(channel: str, **ids: Any) -> Reply:
    return Reply(channel, "Ack", {"ids": {k: v for k, v in ids.items() if v is not None}})


Handler = Callable[["Session", Any, dict[str, str]], Awaitable[Reply]]
