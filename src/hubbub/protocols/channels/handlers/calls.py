"""`call/signaling`, `call/signal`: relaying call signals (`core/calls.py`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hubbub.protocols.channels import schema as s
from hubbub.protocols.channels.handlers.base import Handler, Reply

if TYPE_CHECKING:
    from hubbub.protocols.channels.session import Session

__all__ = ["HANDLERS", "PIPELINED"]


def call_signal(channel: str) -> Handler:
    """`call/signaling` and `call/signal` carry the same message; each answers on its own."""

    async def relay(ss: Session, m: s.SendCallSignal, _p: dict[str, str]) -> Reply:
        ts = await ss.node.calls.relay_signal(
            ss.caller, channel, m.call_id, m.to_user_id, m.type, m.payload
        )
        return Reply(channel, "Ack", {"ids": {"call_id": m.call_id}, "timestamp": ts})

    return relay


HANDLERS: dict[tuple[str, str], Handler] = {
    ("call/signaling", "SendCallSignal"): call_signal("call/signaling"),
    ("call/signal", "SendCallSignal"): call_signal("call/signal"),
}

PIPELINED: frozenset[tuple[str, str]] = frozenset()
