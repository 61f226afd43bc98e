"""`chat/stickers`: sending a sticker (`core/stickers.py`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hubbub.protocols.channels import schema as s
from hubbub.protocols.channels.handlers.base import Handler, Reply

if TYPE_CHECKING:
    from hubbub.protocols.channels.session import Session

__all__ = ["HANDLERS", "PIPELINED"]


async def send_sticker(ss: Session, m: s.SendStickerMessage, _p: dict[str, str]) -> Reply:
    data = await ss.node.stickers.send(
        ss.caller, m.conversation_id, m.sticker_id, m.sticker_pack_id, m.client_message_id
    )
    return Reply(
        "chat/stickers",
        "Ack",
        {
            "ids": {"message_id": data["message_id"]},
            "client_message_id": m.client_message_id,
            "timestamp": data["timestamp"],
        },
    )


HANDLERS: dict[tuple[str, str], Handler] = {
    ("chat/stickers", "SendStickerMessage"): send_sticker,
}

PIPELINED: frozenset[tuple[str, str]] = frozenset()
