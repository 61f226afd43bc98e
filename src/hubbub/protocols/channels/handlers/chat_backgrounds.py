"""`chat/background`, `chat/background/ack`: a conversation's shared background
(`core/chat_backgrounds.py`).

Both make the same change; `chat/background/ack` is the spec's variant with
a `request_id`, answered by `SetChatBackgroundAck` (`status` applied or
unchanged). `SetChatBackground` has no reply message in the spec: it gets
`Ack` with the conversation id, `status` and `timestamp`. Refusals are
`Error` frames on both, like every handler's, so that they name the field
(`rejected` is never sent).
Every member's devices get `ChatBackgroundUpdated` on `chat/background`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hubbub.protocols.channels import schema as s
from hubbub.protocols.channels.handlers.base import Handler, Reply

if TYPE_CHECKING:
    from hubbub.protocols.channels.session import Session

__all__ = ["HANDLERS", "PIPELINED"]


async def set_background(ss: Session, m: s.SetChatBackground, _p: dict[str, str]) -> Reply:
    data = await ss.node.chat_backgrounds.set_background(
        ss.caller, m.conversation_id, m.background_id, m.background_type, m.value
    )
    del data["request_id"], data["reason"]
    return Reply("chat/background", "Ack", {"ids": {"conversation_id": m.conversation_id}, **data})


async def set_background_acked(
    ss: Session, m: s.SetChatBackgroundWithAck, _p: dict[str, str]
) -> Reply:
    data = await ss.node.chat_backgrounds.set_background(
        ss.caller, m.conversation_id, m.background_id, m.background_type, m.value, m.request_id
    )
    return Reply("chat/background/ack", "SetChatBackgroundAck", data)


HANDLERS: dict[tuple[str, str], Handler] = {
    ("chat/background", "SetChatBackground"): set_background,
    ("chat/background/ack", "SetChatBackgroundWithAck"): set_background_acked,
}

PIPELINED: frozenset[tuple[str, str]] = frozenset()
