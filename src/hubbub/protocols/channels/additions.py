"""Client fields hubbub adds to spec 000's requests, and the Structs that decode them.

`schema` is generated from the spec's channel index and never edited by
hand, so a field the spec lacks cannot go there. A request that gains one
gets a subclass here, of the same name (its AsyncAPI component keeps the
spec's name), adding only optional fields, so every frame the spec allows
still decodes the same::

    schema.SendChatMessageWithClientId      the spec's fields
        ^
    additions.SendChatMessageWithClientId   + reply_to_id (hubbub's)

The adapter decodes with `client_type(decl)` and the AsyncAPI builder
documents the same class; `resolve` and `schema.CHANNELS` stay the spec's.
"""

from __future__ import annotations

from typing import Annotated, Final

from msgspec import Meta

from hubbub.protocols.channels import schema as s
from hubbub.protocols.channels.declarations import ChannelDecl, ClientMessage

__all__ = [
    "CLIENT_ADDITIONS",
    "SendChatMessageWithClientId",
    "SendEncryptedMessage",
    "SetAwayMessage",
    "SetStatusVisibility",
    "SubmitReport",
    "client_type",
]

_REPLY = "(hubbub) The message this one replies to: of the same conversation, not deleted"


class SendChatMessageWithClientId(s.SendChatMessageWithClientId, kw_only=True, omit_defaults=False):
    """Acknowledgments for message creation with self-destruct metadata.

    Client -> server on `chat/messages/ack`.
    """

    reply_to_id: Annotated[str | None, Meta(description=_REPLY)] = None


class SendEncryptedMessage(s.SendEncryptedMessage, kw_only=True, omit_defaults=False):
    """End-to-end encrypted chat message delivery.

    Client -> server on `chat/messages`.
    """

    reply_to_id: Annotated[str | None, Meta(description=_REPLY)] = None


class SubmitReport(s.SubmitReport, kw_only=True, omit_defaults=False):
    """Real-time reporting of messages and contacts.

    Client -> server on `moderation/reports`.
    """

    client_request_id: Annotated[
        str | None,
        Meta(
            description="(hubbub) Idempotency key: a retry returns the first report; "
            "`SubmitReportAckRequest` looks it up"
        ),
    ] = None


class SetAwayMessage(s.SetAwayMessage, kw_only=True, omit_defaults=False):
    """Manage and receive updates for automatic away messages.

    Client -> server on `user/away`.
    """

    greeting: Annotated[
        str | None,
        Meta(
            description="(hubbub) Greeting sent on first contact in a direct conversation "
            "(`chat/greetings`); absent keeps it, empty removes it; at most 1000 characters"
        ),
    ] = None


class SetStatusVisibility(s.SetStatusVisibility, kw_only=True, omit_defaults=False):
    """Manage and receive updates to status visibility settings.

    Client -> server on `user/status/visibility`.
    """

    request_id: Annotated[
        str | None,
        Meta(
            description="(hubbub) Idempotency key: a retry answers the first ack; "
            "`SetStatusVisibilityAckRequest` looks it up"
        ),
    ] = None


# The spec's Struct -> the one that decodes it with hubbub's fields.
CLIENT_ADDITIONS: Final[dict[type[ClientMessage], type[ClientMessage]]] = {
    s.SendChatMessageWithClientId: SendChatMessageWithClientId,
    s.SendEncryptedMessage: SendEncryptedMessage,
    s.SubmitReport: SubmitReport,
    s.SetAwayMessage: SetAwayMessage,
    s.SetStatusVisibility: SetStatusVisibility,
}


def client_type(decl: ChannelDecl) -> type[ClientMessage] | None:
    """The Struct that decodes `decl`'s client message (the spec's, or hubbub's subclass)."""
    t = decl.client_type
    return CLIENT_ADDITIONS.get(t, t) if t is not None else None
