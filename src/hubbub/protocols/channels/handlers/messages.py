"""`chat/messages`, `chat/messages/ack`, `chat/acks`: sending and receipts (`core/messages.py`).

Both sends decode with hubbub's `additions` Structs: the spec's fields plus an
optional `reply_to_id`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hubbub.protocols.channels import additions as a
from hubbub.protocols.channels import schema as s
from hubbub.protocols.channels.handlers.base import Handler, Reply, ack

if TYPE_CHECKING:
    from hubbub.protocols.channels.session import Session

__all__ = ["HANDLERS", "PIPELINED"]


async def send_encrypted(ss: Session, m: a.SendEncryptedMessage, _p: dict[str, str]) -> Reply:
    mid, ts, seq = await ss.node.messages.send_encrypted(
        ss.caller,
        m.conversation_id,
        m.ciphertext,
        m.nonce,
        m.algorithm,
        m.key_id,
        m.type,
        m.signature,
        reply_to=m.reply_to_id,
    )
    return Reply("chat/messages", "Ack", {"ids": {"message_id": mid}, "timestamp": ts, "seq": seq})


async def send_ack(ss: Session, m: s.SendEncryptedAck, _p: dict[str, str]) -> Reply:
    await ss.node.messages.acknowledge(
        ss.caller, m.message_id, m.conversation_id, m.status or "delivered", m.signature
    )
    return ack("chat/acks", message_id=m.message_id)


async def send_text(ss: Session, m: a.SendChatMessageWithClientId, _p: dict[str, str]) -> Reply:
    data = await ss.node.messages.send_text(
        ss.caller,
        m.conversation_id,
        m.content,
        m.type,
        m.client_message_id,
        bool(m.self_destruct),
        m.ttl_seconds,
        reply_to=m.reply_to_id,
    )
    return Reply("chat/messages/ack", "ChatMessageAccepted", data)


HANDLERS: dict[tuple[str, str], Handler] = {
    ("chat/messages", "SendEncryptedMessage"): send_encrypted,
    ("chat/acks", "SendEncryptedAck"): send_ack,
    ("chat/messages/ack", "SendChatMessageWithClientId"): send_text,
}

# One write each, and no later frame of the connection depends on it before
# its reply (see `core/ordering.py`): the reader may go on once it is queued.
PIPELINED: frozenset[tuple[str, str]] = frozenset(
    {
        ("chat/messages", "SendEncryptedMessage"),
        ("chat/acks", "SendEncryptedAck"),
        ("chat/messages/ack", "SendChatMessageWithClientId"),
    }
)
