"""The parts of the `/ws` protocol that spec 000 leaves open, declared by hand.

Spec 000 names channels and the fields of their messages but no envelope, no
error shape, no authentication and no event for plaintext messages. DESIGN.md
("Main protocol") fixes those; they are declared here, next to the channel
lookup, so the adapter, the generated `schema` module and the AsyncAPI builder
share one definition::

    client frame  {id?, channel, type, data}  -> ClientFrame
                        |  resolve(channel) -> (ChannelDecl, params)
                        v
                  decl.client_type decodes data (msgspec validates)
    server frame  {channel, type, seq?, ref?, data} <- ServerFrame

`schema` imports this module (for `ChannelDecl` and the message base classes),
so the channel table is imported lazily by `resolve` to avoid an import cycle.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Annotated, Any, Final

import msgspec

__all__ = [
    "CLIENT_ENVELOPE_TYPES",
    "ERROR_CODES",
    "EXTRA_FIELDS",
    "EXTRA_SERVER_EVENTS",
    "HUBBUB_CHANNELS",
    "REQUIRES_SUBSCRIPTION",
    "SERVER_ENVELOPE_TYPES",
    "Ack",
    "Authenticate",
    "Authenticated",
    "ChannelDecl",
    "ChatMessageDeleted",
    "ChatMessageEdited",
    "ChatMessageReceived",
    "ClientFrame",
    "ClientMessage",
    "ConversationDeleted",
    "ConversationMemberJoined",
    "ConversationMemberLeft",
    "ConversationMemberRoleChanged",
    "ErrorData",
    "GroupEventDeleted",
    "ReactionUpdated",
    "ReadPositionUpdated",
    "ServerFrame",
    "ServerMessage",
    "SetTyping",
    "StreamControl",
    "Subscribe",
    "TypingStarted",
    "TypingStopped",
    "Unsubscribe",
    "channel_parameters",
    "resolve",
]


class ClientMessage(msgspec.Struct, kw_only=True, omit_defaults=False):
    """Base of every client -> server `data` payload."""


class ServerMessage(msgspec.Struct, kw_only=True, omit_defaults=False):
    """Base of every server -> client `data` payload."""


_PARAM: Final = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def channel_parameters(name: str) -> tuple[str, ...]:
    """Names of the `{param}` placeholders of a channel template, in order."""
    return tuple(_PARAM.findall(name))


@dataclass(frozen=True, slots=True)
class ChannelDecl:
    """One spec channel and the Structs of its two directions."""

    name: str
    description: str
    client_message: str | None
    client_type: type[ClientMessage] | None
    server_message: str | None
    server_type: type[ServerMessage] | None

    @property
    def parameters(self) -> tuple[str, ...]:
        return channel_parameters(self.name)


# --- envelope ---------------------------------------------------------------

_EMPTY_DATA: Final = msgspec.Raw(b"{}")


class ClientFrame(msgspec.Struct, kw_only=True):
    """A client -> server frame; `data` is decoded later by the channel's Struct.

    `channel` may be absent only on the Authenticate frame, which concerns the
    connection rather than a channel (DESIGN.md shows it without one).
    """

    id: Annotated[
        str | None,
        msgspec.Meta(description="Request id; the single reply carries it as `ref`."),
    ] = None
    channel: Annotated[
        str, msgspec.Meta(description="Channel address, with real ids in place of `{params}`.")
    ] = ""
    type: Annotated[str, msgspec.Meta(description="Message name as written in the spec.")]
    data: Annotated[
        msgspec.Raw,
        msgspec.Meta(
            description="The message's fields; `{}` when absent.",
            extra_json_schema={"type": "object"},
        ),
    ] = msgspec.field(default_factory=lambda: _EMPTY_DATA)


class ServerFrame(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A server -> client frame; `seq` and `ref` are left out when not set."""

    channel: Annotated[str, msgspec.Meta(description="Channel address the event belongs to.")]
    type: Annotated[str, msgspec.Meta(description="Message name as written in the spec.")]
    seq: Annotated[
        int | None,
        msgspec.Meta(description="Position in the user's change feed (durable events only)."),
    ] = None
    ref: Annotated[
        str | None, msgspec.Meta(description="The `id` of the client frame this replies to.")
    ] = None
    data: Annotated[Any, msgspec.Meta(description="The message's fields.")]


class Authenticate(ClientMessage, kw_only=True, omit_defaults=False):
    """First frame of a browser connection that could not send an Authorization header."""

    token: Annotated[str, msgspec.Meta(description="Bearer token from the REST account API.")]
    device_id: Annotated[
        str | None, msgspec.Meta(description="Identifies the device; like `X-Device-Id`.")
    ] = None


class Subscribe(ClientMessage, kw_only=True, omit_defaults=False):
    """Start receiving a channel that is not pushed by default; the channel is in the frame."""


class Unsubscribe(ClientMessage, kw_only=True, omit_defaults=False):
    """Stop receiving a subscribed channel; the channel is in the frame."""


class Ack(ServerMessage, kw_only=True, omit_defaults=False):
    """Reply to a client frame whose spec message has no acknowledgment of its own."""

    ids: Annotated[
        dict[str, str],
        msgspec.Meta(description="Ids created by the request, e.g. {'message_id': '...'}."),
    ] = {}


class Authenticated(ServerMessage, kw_only=True, omit_defaults=False):
    """First frame after a successful authentication (header or `Authenticate`).

    Live pushes start right after it; `head_seq` is the stream position at
    that moment, so a client that was away knows whether to `SyncRequest`.
    """

    user_id: Annotated[str, msgspec.Meta(description="The authenticated user")]
    device_id: Annotated[str, msgspec.Meta(description="Device id of this connection")]
    head_seq: Annotated[int, msgspec.Meta(description="Current end of the event stream")]


class ErrorData(ServerMessage, kw_only=True, omit_defaults=False):
    """`data` of an `Error` frame: a stable code plus details for humans and retries."""

    code: Annotated[str, msgspec.Meta(description="One of the stable error codes.")]
    message: Annotated[str, msgspec.Meta(description="Human-readable explanation.")]
    path: Annotated[
        str | None,
        msgspec.Meta(description="Where validation failed, e.g. `$.data.options[2]`."),
    ] = None
    retry_after_ms: Annotated[
        int | None, msgspec.Meta(description="With `rate_limited`: when to try again.")
    ] = None


class ChatMessageReceived(ServerMessage, kw_only=True, omit_defaults=False):
    """A plaintext message, delivered to the other members of its conversation.

    Spec 000 lets clients send plaintext (`SendChatMessageWithClientId`, quick
    replies) but defines no event for the recipients; hubbub adds this one on
    `chat/messages`, in the style of `EncryptedMessageReceived`.
    """

    message_id: Annotated[str, msgspec.Meta(description="Server-assigned message ID")]
    conversation_id: Annotated[str, msgspec.Meta(description="Conversation ID")]
    sender_id: Annotated[str, msgspec.Meta(description="Sender user ID")]
    content: Annotated[str, msgspec.Meta(description="Message text as sent")]
    type: Annotated[str, msgspec.Meta(description="Content type, e.g. text")]
    timestamp: Annotated[str, msgspec.Meta(description="When the server accepted it")]
    self_destruct: Annotated[bool, msgspec.Meta(description="Deleted after expires_at")]
    expires_at: Annotated[
        str | None, msgspec.Meta(description="Deletion time of a self-destructing message")
    ] = None
    # Present only when set: a message sent over Symbia (spec 002) carries its fields.
    content_type: Annotated[
        str | None,
        msgspec.Meta(
            description="Symbia content type: text/plain, text/markdown, application/json"
        ),
    ] = None
    sender_type: Annotated[
        str | None,
        msgspec.Meta(description="user, agent, service or bot (the sender account's kind)"),
    ] = None
    run_id: Annotated[str | None, msgspec.Meta(description="The agent run it belongs to")] = None
    trace_id: Annotated[str | None, msgspec.Meta(description="Caller's trace id")] = None
    priority: Annotated[str | None, msgspec.Meta(description="low, normal, high, critical")] = None
    interruptible: Annotated[
        bool | None, msgspec.Meta(description="Whether its run may be preempted")
    ] = None
    preempted_by: Annotated[str | None, msgspec.Meta(description="Run that preempts")] = None
    metadata: Annotated[
        dict[str, Any] | None, msgspec.Meta(description="The sender's metadata object")
    ] = None
    org_id: Annotated[str | None, msgspec.Meta(description="Its organization (tenant)")] = None
    reply_to_id: Annotated[
        str | None,
        msgspec.Meta(
            description="Message replied to (SendChatMessageWithClientId's reply_to_id, "
            "spec 003's reply_to, spec 002's replyTo); present only when set"
        ),
    ] = None


class StreamControl(ServerMessage, kw_only=True, omit_defaults=False):
    """A stream control event on an agent run (spec 002, `core/streams.py`).

    It is a message of the conversation (its `seq` is its sequence) and has
    already changed the run's state: `stream.pause` / `resume` / `preempt` /
    `route` / `handoff` / `cancel` / `priority`.
    """

    conversation_id: Annotated[str, msgspec.Meta(description="Conversation ID")]
    message_id: Annotated[str, msgspec.Meta(description="The control message's ID")]
    event: Annotated[str, msgspec.Meta(description="stream.pause, stream.resume, ...")]
    target: Annotated[
        dict[str, Any] | None,
        msgspec.Meta(description="{principalId, principalType} of a route or handoff"),
    ] = None
    reason: Annotated[str | None, msgspec.Meta(description="Why")] = None
    preempted_by: Annotated[str | None, msgspec.Meta(description="The preempting run")] = None
    run_id: Annotated[str, msgspec.Meta(description="The run it acts on")]
    trace_id: Annotated[str | None, msgspec.Meta(description="Caller's trace id")] = None
    effective_at: Annotated[str, msgspec.Meta(description="When it took effect (ISO 8601)")]


class ReactionUpdated(ServerMessage, kw_only=True, omit_defaults=False):
    """A member's reaction to a message was set, changed or removed.

    Spec 000 tells only the author (`ReactionOnOwnMessage`); hubbub adds this
    event on `chat/reactions` so every member (and every device) sees the
    reactions of a conversation change, and finds them again through sync.
    """

    message_id: Annotated[str, msgspec.Meta(description="The message reacted to")]
    conversation_id: Annotated[str, msgspec.Meta(description="Its conversation")]
    user_id: Annotated[str, msgspec.Meta(description="The member whose reaction changed")]
    reaction: Annotated[
        str | None, msgspec.Meta(description="The reaction now; null when it was removed")
    ] = None
    timestamp: Annotated[str, msgspec.Meta(description="When it changed")]


class GroupEventDeleted(ServerMessage, kw_only=True, omit_defaults=False):
    """A group event was deleted (spec 000 has no event for it; hubbub adds this one)."""

    event_id: Annotated[str, msgspec.Meta(description="The deleted event")]
    group_id: Annotated[str, msgspec.Meta(description="Its group")]
    deleted_by: Annotated[str, msgspec.Meta(description="Who deleted it")]
    deleted_at: Annotated[str, msgspec.Meta(description="When")]
    version: Annotated[int, msgspec.Meta(description="Its version after the delete")]


_MID = Annotated[str, msgspec.Meta(description="Message ID")]
_CID = Annotated[str, msgspec.Meta(description="Conversation ID")]
_UID = Annotated[str, msgspec.Meta(description="User ID")]
_AT = Annotated[str, msgspec.Meta(description="When it happened (ISO 8601)")]


class ChatMessageEdited(ServerMessage, kw_only=True, omit_defaults=False):
    """A plaintext message got new content from its sender (`core/edits.py`).

    Spec 000 has no edit; other specs' clients (003, 002) edit, and `/ws`
    members are told in the style of `ChatMessageReceived`.
    """

    message_id: _MID
    conversation_id: _CID
    sender_id: Annotated[str, msgspec.Meta(description="Sender user ID")]
    content: Annotated[str, msgspec.Meta(description="The new content")]
    type: Annotated[str, msgspec.Meta(description="Content type, e.g. text or html")]
    edited_at: _AT


class ChatMessageDeleted(ServerMessage, kw_only=True, omit_defaults=False):
    """Its sender deleted a message: clients drop it (its earlier events are tombstones)."""

    message_id: _MID
    conversation_id: _CID
    deleted_at: _AT


class ReadPositionUpdated(ServerMessage, kw_only=True, omit_defaults=False):
    """A member has read the conversation up to `message_id` (only ever forward)."""

    conversation_id: _CID
    user_id: _UID
    message_id: _MID
    timestamp: _AT


class ConversationMemberJoined(ServerMessage, kw_only=True, omit_defaults=False):
    """Someone joined a conversation, or its host or a group's admin added them.

    A spec 003 dialog (by scope or by its host), a Symbia conversation, or a
    group (`POST /v1/conversations/{id}/members`: then `added_by` and `role`
    are set).
    """

    conversation_id: _CID
    user_id: _UID
    joined_as: Annotated[
        str, msgspec.Meta(description="participant (added by the host) or joined (by scope)")
    ] = "participant"
    timestamp: _AT
    added_by: Annotated[
        str | None, msgspec.Meta(description="who added them (the /v1 members API only)")
    ] = None
    role: Annotated[
        str | None, msgspec.Meta(description="member or admin (the /v1 members API only)")
    ] = None


class ConversationMemberLeft(ServerMessage, kw_only=True, omit_defaults=False):
    """Someone left a conversation, or its host or a group's admin removed them.

    Sent to those who stay and, as the last event of it, to the one who left.
    """

    conversation_id: _CID
    user_id: _UID
    timestamp: _AT
    removed_by: Annotated[
        str | None,
        msgspec.Meta(description="who removed them (DELETE /v1/conversations/{id}/members/...)"),
    ] = None


class ConversationMemberRoleChanged(ServerMessage, kw_only=True, omit_defaults=False):
    """A group's owner made a member an admin, or an admin a member (hubbub's).

    `PATCH /v1/conversations/{id}/members/{user_id}`; sent to every member.
    """

    conversation_id: _CID
    user_id: _UID
    role: Annotated[str, msgspec.Meta(description="member or admin: their role from now on")]
    changed_by: Annotated[str, msgspec.Meta(description="who changed it (the group's owner)")]
    timestamp: _AT


class ConversationDeleted(ServerMessage, kw_only=True, omit_defaults=False):
    """A spec 003 dialog was deleted by its host: everyone is out, its messages are gone."""

    conversation_id: _CID
    timestamp: _AT


class SetTyping(ClientMessage, kw_only=True, omit_defaults=False):
    """Start or stop the typing indicator in a conversation (hubbub's; spec 000 has none).

    Never stored. A start lapses after the server's typing TTL unless repeated;
    the reply's `ids.expires_at` says when.
    """

    conversation_id: Annotated[str, msgspec.Meta(description="Conversation ID", max_length=64)]
    typing: Annotated[bool, msgspec.Meta(description="true: typing now; false: stopped")]


class TypingStarted(ServerMessage, kw_only=True, omit_defaults=False):
    """Another member started typing (pushed to the members; no `seq`, never in sync)."""

    conversation_id: _CID
    user_id: _UID
    timestamp: _AT
    expires_at: Annotated[
        str, msgspec.Meta(description="When it lapses unless the member goes on typing")
    ]


class TypingStopped(ServerMessage, kw_only=True, omit_defaults=False):
    """A member stopped typing, or their indicator lapsed (`expired`). Idempotent."""

    conversation_id: _CID
    user_id: _UID
    timestamp: _AT
    expired: Annotated[bool, msgspec.Meta(description="true: no stop came before the TTL")]


ERROR_CODES: Final[dict[str, str]] = {
    "bad_frame": "The frame is not JSON or not a valid envelope.",
    "unknown_channel": "No channel of that name, or not a valid value for its parameters.",
    "validation_failed": "The data does not match the message; `path` says where.",
    "unauthorized": "Not authenticated, or the token is invalid or revoked.",
    "forbidden": "Authenticated, but not allowed to do this.",
    "not_found": "The conversation, message, call or other object does not exist.",
    "conflict": "The request conflicts with the current state (e.g. a stale version).",
    "rate_limited": "Too many frames; `retry_after_ms` says when to try again.",
    "too_large": "The frame or a field exceeds a size limit.",
    "unavailable": "A dependency (database, bus, AI backend) is temporarily unavailable.",
    "internal": "A bug on the server; the request may be retried.",
}

CLIENT_ENVELOPE_TYPES: Final[dict[str, type[ClientMessage]]] = {
    "Authenticate": Authenticate,
    "Subscribe": Subscribe,
    "Unsubscribe": Unsubscribe,
}

SERVER_ENVELOPE_TYPES: Final[dict[str, type[ServerMessage]]] = {
    "Ack": Ack,
    "Error": ErrorData,
    "Authenticated": Authenticated,
}

# Fields hubbub adds to spec messages (DESIGN.md: extra fields allowed,
# documented). message name -> field -> (JSON Schema, description).
EXTRA_FIELDS: Final[dict[str, dict[str, tuple[dict[str, Any], str]]]] = {
    "SyncResponse": {
        "has_more": ({"type": "boolean"}, "More changes follow: SyncAck to get the next page")
    },
    "SyncChangesReceived": {
        "has_more": ({"type": "boolean"}, "More changes follow after this page")
    },
    "EncryptedMessageAck": {
        "user_id": ({"type": "string"}, "Member who sent the receipt (groups have many)")
    },
    "EncryptedMessageReceived": {
        "type": ({"type": ["string", "null"]}, "Encrypted content type, as sent"),
        "reply_to_id": (
            {"type": ["string", "null"]},
            "The message this one replies to (SendEncryptedMessage's reply_to_id); "
            "present only when set",
        ),
    },
    "Ack": {
        "seq": ({"type": "integer"}, "Stream position of the event the request created"),
        "timestamp": ({"type": "string"}, "Server time of the created item"),
        "client_message_id": (
            {"type": ["string", "null"]},
            "SendStickerMessage: the idempotency key, as sent",
        ),
        "options": (
            {"type": "array", "items": {"type": "object"}},
            "CreatePoll: the options as numbered by the server, [{option_id, text}]",
        ),
        "counts": (
            {"type": "object", "additionalProperties": {"type": "integer"}},
            "VotePoll: every option's vote count after this vote",
        ),
        "closed_by": ({"type": ["string", "null"]}, "ClosePoll: who closed it, or system"),
        "closed_at": ({"type": ["string", "null"]}, "ClosePoll: when"),
        "final_results": (
            {"type": "array", "items": {"type": "object"}},
            "ClosePoll: [{option_id, text, vote_count}]",
        ),
        "first": (
            {"type": "boolean"},
            "AcknowledgeBroadcastMessage: true when this acknowledgement was recorded, "
            "false when the user had acknowledged it already",
        ),
        "since_seq": (
            {"type": "integer"},
            "Subscribe on broadcast/{channel_id}: the channel's messages after this seq "
            "are in the user's feed while subscribed",
        ),
        "status": ({"type": "string"}, "SetGroupEventRsvp: the RSVP now"),
        "changed": ({"type": "boolean"}, "SetGroupEventRsvp: false when it was already that"),
        "reminder_time": ({"type": "string"}, "SetGroupEventReminder: when it will fire"),
        "config": (
            {"type": "object"},
            "Subscribe on user/notifications/preview: the caller's preview config in "
            "force (the fields of NotificationPreviewConfigUpdated)",
        ),
        "config_version": (
            {"type": "string"},
            "UpdateNotificationPreviewConfig: the version now in force; the Ack carries "
            "every field of NotificationPreviewConfigUpdated, and `changed` (false: "
            "nothing was written); AcknowledgeNotificationPreview answers `first`",
        ),
    },
    "ForwardMessageAck": {
        "message_id": ({"type": ["string", "null"]}, "The forwarded copy's message id"),
    },
    "ChatMessageReceived": {
        "attachments": (
            {"type": "array", "items": {"type": "object"}},
            "Files of a spec 003 message: [{id, filename, content_type, size}] "
            "(downloads: GET /api/v1/attachments/{id}/url)",
        ),
        "forwarded": ({"type": ["boolean", "null"]}, "True for a forwarded copy"),
        "forward_id": ({"type": ["string", "null"]}, "With forwarded: the forward's id"),
        "note": ({"type": ["string", "null"]}, "With forwarded: the forwarder's note"),
    },
    "StickerMessageReceived": {
        "forwarded": ({"type": ["boolean", "null"]}, "True for a forwarded copy"),
        "forward_id": ({"type": ["string", "null"]}, "With forwarded: the forward's id"),
        "note": ({"type": ["string", "null"]}, "With forwarded: the forwarder's note"),
    },
    "VoiceMessageReceived": {
        "forwarded": ({"type": ["boolean", "null"]}, "True for a forwarded copy"),
        "forward_id": ({"type": ["string", "null"]}, "With forwarded: the forward's id"),
        "note": ({"type": ["string", "null"]}, "With forwarded: the forwarder's note"),
    },
    "VoiceMessageAck": {
        "conversation_id": (
            {"type": ["string", "null"]},
            "status delivered (to the sender): the voice note's conversation",
        ),
        "user_id": (
            {"type": ["string", "null"]},
            "status delivered (to the sender): the member whose device has it",
        ),
        "received_at": (
            {"type": ["string", "null"]},
            "status delivered (to the sender): the received_at that member sent, if any",
        ),
        "changed": (
            {"type": "boolean"},
            "Reply to VoiceMessageDelivered: false when it was already recorded",
        ),
    },
    "ReactionAck": {
        "message_id": ({"type": "string"}, "The message reacted to"),
        "reaction": ({"type": ["string", "null"]}, "The reaction now; null when removed"),
    },
    "BroadcastMessageReceived": {
        "segment": ({"type": "string"}, "The audience: all, or a segment (admins)"),
    },
    "BroadcastMessage": {
        "sender_id": ({"type": "string"}, "The publisher"),
        "expires_at": (
            {"type": ["string", "null"]},
            "Not delivered, nor in sync, after this time",
        ),
    },
    "PollCreated": {
        "options": (
            {"type": "array", "items": {"type": "object"}},
            "[{option_id, text}]: votes name the option_id",
        ),
    },
    "PollClosed": {
        "final_results": (
            {"type": "array", "items": {"type": "object"}},
            "[{option_id, text, vote_count}]",
        ),
    },
    "CreateStatusAck": {
        "created_at": ({"type": "string"}, "When the status was created"),
        "expires_at": ({"type": "string"}, "When it expires (created_at + 24 h)"),
    },
    "StatusCreated": {
        "muted": (
            {"type": "boolean"},
            "The recipient mutes the author's statuses (contacts/status-mute): not to be "
            "announced; always false on the author's own devices",
        ),
    },
    "ContactStatusMuteAck": {
        "first": (
            {"type": "boolean"},
            "AckContactStatusMute: false when that event's receipt was recorded already",
        ),
    },
}

EXTRA_SERVER_EVENTS: Final[dict[tuple[str, str], type[ServerMessage]]] = {
    ("chat/messages", "ChatMessageReceived"): ChatMessageReceived,
    ("chat/messages", "StreamControl"): StreamControl,
    ("chat/reactions", "ReactionUpdated"): ReactionUpdated,
    ("group/events", "GroupEventDeleted"): GroupEventDeleted,
    ("chat/messages", "ChatMessageEdited"): ChatMessageEdited,
    ("chat/messages", "ChatMessageDeleted"): ChatMessageDeleted,
    ("chat/messages", "ReadPositionUpdated"): ReadPositionUpdated,
    ("group/membership", "ConversationMemberJoined"): ConversationMemberJoined,
    ("group/membership", "ConversationMemberLeft"): ConversationMemberLeft,
    ("group/membership", "ConversationMemberRoleChanged"): ConversationMemberRoleChanged,
    ("group/membership", "ConversationDeleted"): ConversationDeleted,
    ("chat/typing", "TypingStopped"): TypingStopped,
}

# Channels hubbub adds to spec 000's (docs/protocol.md), resolved and
# documented like them.
HUBBUB_CHANNELS: Final[dict[str, ChannelDecl]] = {
    "chat/typing": ChannelDecl(
        name="chat/typing",
        description="Typing indicators of conversation members (hubbub's; ephemeral)",
        client_message="SetTyping",
        client_type=SetTyping,
        server_message="TypingStarted",
        server_type=TypingStarted,
    ),
}

# Everything else that concerns a user is pushed without asking (DESIGN.md).
REQUIRES_SUBSCRIPTION: Final[frozenset[str]] = frozenset(
    {
        "broadcast/{channel_id}",
        "ai/chat/{conversation_id}/messages",
        "ai/chat/{conversation_id}/events",
        "user/notifications/preview",
    }
)


# --- channel lookup ---------------------------------------------------------


def _template_pattern(template: str) -> re.Pattern[str]:
    # A parameter value is non-empty and holds no '/', and no braces so that a
    # client cannot address a template by its literal name.
    parts: list[str] = []
    pos = 0
    for m in _PARAM.finditer(template):
        parts.append(re.escape(template[pos : m.start()]))
        parts.append(f"(?P<{m.group(1)}>[^/{{}}]+)")
        pos = m.end()
    parts.append(re.escape(template[pos:]))
    return re.compile("".join(parts))


_Index = tuple[dict[str, ChannelDecl], tuple[tuple[re.Pattern[str], ChannelDecl], ...]]


@functools.cache
def _index() -> _Index:
    # Imported here: `schema` imports this module.
    from hubbub.protocols.channels.schema import CHANNELS

    every = {**CHANNELS, **HUBBUB_CHANNELS}
    exact = {name: decl for name, decl in every.items() if not decl.parameters}
    templated = [decl for decl in every.values() if decl.parameters]
    # Most literal text first, so a more specific template wins an overlap.
    templated.sort(key=lambda d: -len(_PARAM.sub("", d.name)))
    return exact, tuple((_template_pattern(d.name), d) for d in templated)


def resolve(channel: str) -> tuple[ChannelDecl, dict[str, str]] | None:
    """Find the declaration of a concrete channel address and its parameter values.

    Exact names win over templates, so `broadcast/messages` is its own channel
    while `broadcast/news` is `broadcast/{channel_id}` with `channel_id="news"`.
    """
    exact, templated = _index()
    decl = exact.get(channel)
    if decl is not None:
        return decl, {}
    for pattern, candidate in templated:
        m = pattern.fullmatch(channel)
        if m is not None:
            return candidate, m.groupdict()
    return None
