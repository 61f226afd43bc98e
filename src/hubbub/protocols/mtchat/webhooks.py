"""MTChat's webhooks to the host application (`--mtchat-webhook-url`).

MTChat (`webhooks/events.rs`, `sender.rs`) POSTs JSON to one URL::

    {"id": <uuid>, "type": "message_new" | "participant_joined" | "participant_left",
     "timestamp": <RFC 3339>, "payload": {...}}
    Content-Type: application/json
    X-Webhook-Signature: sha256=<hex HMAC-SHA256 of the body under --mtchat-webhook-secret>
    X-Webhook-Event: message.new | participant.joined | participant.left
    X-Webhook-Id: <the id>

(`type` in the body is the snake_case name and the header the dotted one, as
MTChat's serde writes them.) Payloads, each with the dialog's `dialog_id`,
`object_id`, `object_type`:

    message.new          message {id, sender_id, content, reply_to?, created_at, message_type}
    participant.joined   user_id, joined_as, joined_at
    participant.left     user_id, left_at

Only dialogs' events go out, and `message.new` only for user messages, as
MTChat's; a join or leave through the management API is sent as well
(MTChat sends only those of its user routes). Delivery is durable and
retried (`core/webhooks.py`); `notification.pending`, MTChat's delayed
"still unread" reminder, is not sent. Both the URL and the secret are needed,
as in MTChat. Message content is the host's own data going to the host's
own backend; it is never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from typing import TYPE_CHECKING, Any

import httpx
import msgspec

from hubbub.core.model import StoredEvent
from hubbub.core.ports.webhooks import Delivery
from hubbub.core.webhooks import WebhookRelay
from hubbub.protocols.mtchat.html import as_html
from hubbub.protocols.mtchat.identity import NAMESPACE

if TYPE_CHECKING:
    from hubbub.runtime import Node

__all__ = ["RELAY_NAME", "HttpWebhooks", "MtChatWebhooks", "build", "signature"]

RELAY_NAME = "mtchat-webhooks"
TIMEOUT_S = 10.0  # MTChat's
_IDS = uuid.UUID("3c2f0a4e-96a1-4f57-8f0e-0b6a2d7c5e19")  # namespace of webhook ids
_decode = msgspec.json.Decoder(dict[str, Any]).decode
_encode = msgspec.json.Encoder().encode


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class HttpWebhooks:
    """`core.ports.WebhookTransport`: a signed POST to the host's URL."""

    def __init__(self, url: str, secret: str) -> None:
        self.url = url
        self.secret = secret
        self.client = httpx.AsyncClient(timeout=TIMEOUT_S, follow_redirects=False)

    async def post(self, delivery: Delivery) -> int:
        headers = {
            "Content-Type": "application/json",
            "X-Webhook-Signature": signature(self.secret, delivery.body),
            "X-Webhook-Event": delivery.event,
            "X-Webhook-Id": delivery.id,
        }
        r = await self.client.post(self.url, content=delivery.body, headers=headers)
        return r.status_code

    async def aclose(self) -> None:
        await self.client.aclose()


_KINDS = {
    ("chat/messages", "ChatMessageReceived"): "message.new",
    ("group/membership", "ConversationMemberJoined"): "participant.joined",
    ("group/membership", "ConversationMemberLeft"): "participant.left",
}


class MtChatWebhooks:
    """Renders the stream's events as MTChat's webhooks (None: no webhook for it)."""

    def __init__(self, node: Node) -> None:
        self.node = node

    async def _external(self, user_id: str) -> str:
        found = await self.node.external_users.external_of(NAMESPACE, [user_id])
        return found.get(user_id, user_id)

    async def render(self, ev: StoredEvent) -> Delivery | None:
        kind = _KINDS.get((ev.channel, ev.type))
        if kind is None or ev.scope != "c":
            return None
        try:
            d = _decode(ev.data)
        except msgspec.DecodeError:
            return None
        if d.get("deleted"):  # a tombstone: the dialog or the message is gone
            return None
        dialog = await self.node.stores.dialogs.get_dialog(ev.target)
        if dialog is None:  # not a dialog (a /ws group), or deleted since
            return None
        when = str(d.get("timestamp"))
        payload: dict[str, Any] = {
            "dialog_id": dialog.conversation_id,
            "object_id": dialog.object_id,
            "object_type": dialog.object_type,
        }
        if kind == "message.new":
            if d.get("type") == "system":
                return None
            message: dict[str, Any] = {
                "id": d["message_id"],
                "sender_id": await self._external(str(d["sender_id"])),
                "content": as_html(str(d.get("content") or ""), str(d.get("type"))),
                "created_at": when,
                "message_type": "user",
            }
            if d.get("reply_to_id"):
                message["reply_to"] = d["reply_to_id"]
            payload["message"] = message
        else:
            payload["user_id"] = await self._external(str(d["user_id"]))
            if kind == "participant.joined":
                payload["joined_as"] = d.get("joined_as", "participant")
                payload["joined_at"] = when
            else:
                payload["left_at"] = when
        wid = str(uuid.uuid5(_IDS, f"{kind}:{ev.pos}"))
        body = {"id": wid, "type": kind.replace(".", "_"), "timestamp": when, "payload": payload}
        return Delivery(wid, kind, _encode(body))


def build(node: Node) -> WebhookRelay | None:
    """The relay when both `--mtchat-webhook-url` and `--mtchat-webhook-secret` are set."""
    s = node.settings
    if not (s.mtchat_webhook_url and s.mtchat_webhook_secret):
        return None
    if not s.mtchat_webhook_url.startswith(("http://", "https://")):
        raise ValueError("--mtchat-webhook-url must be an http(s) URL")
    return WebhookRelay(
        RELAY_NAME,
        node.stores.chatevents,
        node.stores.events,
        MtChatWebhooks(node).render,
        HttpWebhooks(s.mtchat_webhook_url, s.mtchat_webhook_secret),
        node.clock,
        node.node_id,
        retry_ms=s.mtchat_webhook_retry_ms,
    )
