"""The schema, declared once for SQLAlchemy Core and mirrored by migrations.

Streams follow Synapse: an event is written once, to its conversation (scope
`c`), to one user (scope `u`), or to everyone who shares a conversation with
its actor (scope `a`); its global `pos` is the `seq` every recipient sees.
A user's change feed is the union of those streams, cut by membership windows
(`joined_pos`, `left_pos`) so a member sees only what happened while they were
in. Times are integer milliseconds since the epoch.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = [
    "api_keys",
    "audit_log",
    "auth_throttle",
    "blobs",
    "blocks",
    "conversations",
    "device_cursors",
    "events",
    "group_event_reminders",
    "group_event_rsvps",
    "group_events",
    "members",
    "mentions",
    "messages",
    "metadata",
    "poll_votes",
    "polls",
    "public_keys",
    "reactions",
    "receipts",
    "recovery_codes",
    "registration_tokens",
    "relay_cursors",
    "request_keys",
    "room_users",
    "timers",
    "tokens",
    "totp_secrets",
    "users",
]

metadata = MetaData()

# SQLite only autoincrements an INTEGER PRIMARY KEY (the rowid alias).
Pos = BigInteger().with_variant(Integer(), "sqlite")
Ms = BigInteger

users = Table(
    "users",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("display_name", String(128), nullable=False, server_default=""),
    Column("phone", String(32), nullable=True, unique=True),
    Column("email", String(254), nullable=True, unique=True),
    Column("info_text", String(1024), nullable=False, server_default=""),
    Column("info_text_updated_at", Ms, nullable=True),
    Column("last_seen_at", Ms, nullable=True),
    Column("created_at", Ms, nullable=False),
    Column("is_admin", Boolean, nullable=False, server_default="0"),
    Column("is_agent", Boolean, nullable=False, server_default="0"),
    Column("deactivated_at", Ms, nullable=True),
    Column("deletion_requested_at", Ms, nullable=True),
)

# `id` is the opaque handle a user sees in their device list; the token itself
# is never stored, only its SHA-256.
tokens = Table(
    "tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", String(36), nullable=False, index=True),
    Column("device_id", String(128), nullable=False),
    Column("created_at", Ms, nullable=False),
    Column("revoked_at", Ms, nullable=True),
    Column("id", String(36), nullable=False),
    Column("last_used_at", Ms, nullable=True),
    Index("ix_tokens_id", "id", unique=True),
)

# The primary key serves "does a block either way hold between a and b" (two
# lookups); the second index lists who blocks a user.
blocks = Table(
    "blocks",
    metadata,
    Column("blocker_id", String(36), primary_key=True),
    Column("blocked_id", String(36), primary_key=True),
    Column("created_at", Ms, nullable=False),
    Index("ix_blocks_blocked", "blocked_id", "blocker_id"),
)

conversations = Table(
    "conversations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(16), nullable=False),  # direct | group
    Column("name", String(256), nullable=True),
    Column("creator_id", String(36), nullable=True),
    Column("direct_key", String(80), nullable=True, unique=True),
    Column("client_request_id", String(128), nullable=True),
    Column("created_at", Ms, nullable=False),
    UniqueConstraint("creator_id", "client_request_id", name="uq_conversation_request"),
)

members = Table(
    "members",
    metadata,
    Column("conversation_id", String(36), primary_key=True),
    Column("user_id", String(36), primary_key=True),
    Column("role", String(16), nullable=False),  # owner | admin | member
    Column("joined_pos", Pos, nullable=False),
    Column("left_pos", Pos, nullable=True),
    Column("joined_at", Ms, nullable=False),
    Index("ix_members_user", "user_id", "conversation_id"),
)

events = Table(
    "events",
    metadata,
    Column("pos", Pos, primary_key=True, autoincrement=True),
    Column("scope", String(1), nullable=False),  # c | u | a | b (broadcast)
    Column("target", String(36), nullable=False),
    Column("channel", String(128), nullable=False),
    Column("type", String(64), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("message_id", String(36), nullable=True),
    Column("created_at", Ms, nullable=False),
    Index("ix_events_target", "scope", "target", "pos"),
    Index("ix_events_message", "message_id"),
)

messages = Table(
    "messages",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("conversation_id", String(36), nullable=False),
    Column("sender_id", String(36), nullable=False),
    Column("kind", String(8), nullable=False),  # e2e | text | sticker
    Column("content_type", String(64), nullable=False, server_default="text"),
    Column("content", Text, nullable=True),
    Column("ciphertext", Text, nullable=True),
    Column("nonce", String(256), nullable=True),
    Column("algorithm", String(64), nullable=True),
    Column("key_id", String(256), nullable=True),
    Column("signature", String(1024), nullable=True),
    Column("client_message_id", String(128), nullable=True),
    Column("self_destruct", Boolean, nullable=False, server_default="0"),
    Column("created_at", Ms, nullable=False),
    Column("expires_at", Ms, nullable=True),
    Column("deleted_at", Ms, nullable=True),
    Column("event_pos", Pos, nullable=True),
    # Where the message came from, for the chat-event relay (spec 004): the
    # W3C traceparent of the request (or the trace started for it), the
    # connection and the device. Never sent to clients.
    Column("trace_parent", String(64), nullable=True),
    Column("session_id", String(64), nullable=True),
    Column("client_id", String(128), nullable=True),
    UniqueConstraint("sender_id", "client_message_id", name="uq_message_client_id"),
    Index("ix_messages_conversation", "conversation_id", "created_at"),
)

receipts = Table(
    "receipts",
    metadata,
    Column("message_id", String(36), primary_key=True),
    Column("user_id", String(36), primary_key=True),
    Column("status", String(16), primary_key=True),  # delivered | read | ...
    Column("at", Ms, nullable=False),
)

public_keys = Table(
    "public_keys",
    metadata,
    Column("user_id", String(36), primary_key=True),
    Column("key_id", String(256), primary_key=True),
    Column("public_key", Text, nullable=False),
    Column("algorithm", String(64), nullable=False),
    Column("created_at", Ms, nullable=False),
)

timers = Table(
    "timers",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("ref", String(36), nullable=False),
    Column("due_at", Ms, nullable=False, index=True),
    Column("payload", LargeBinary, nullable=True),
)

device_cursors = Table(
    "device_cursors",
    metadata,
    Column("user_id", String(36), primary_key=True),
    Column("device_id", String(128), primary_key=True),
    Column("seq", Pos, nullable=False),
    Column("updated_at", Ms, nullable=False),
)

# --- rich content (reactions, mentions, polls) --------------------------------

reactions = Table(
    "reactions",
    metadata,
    Column("message_id", String(36), primary_key=True),
    Column("user_id", String(36), primary_key=True),  # one reaction per user per message
    Column("reaction", String(64), nullable=False),
    Column("updated_at", Ms, nullable=False),
)

mentions = Table(
    "mentions",
    metadata,
    Column("id", String(36), primary_key=True),  # the notification_id
    Column("user_id", String(36), nullable=False),  # who was mentioned
    Column("message_id", String(36), nullable=False),
    Column("conversation_id", String(36), nullable=False),
    Column("created_at", Ms, nullable=False),
    Column("acked_at", Ms, nullable=True),
    UniqueConstraint("message_id", "user_id", name="uq_mention_message_user"),
    Index("ix_mentions_user", "user_id", "created_at"),
)

polls = Table(
    "polls",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("conversation_id", String(36), nullable=False, index=True),
    Column("creator_id", String(36), nullable=False),
    Column("question", Text, nullable=False),
    Column("options", LargeBinary, nullable=False),  # JSON [{option_id, text}]
    Column("multi_select", Boolean, nullable=False),
    Column("expires_at", Ms, nullable=True),
    Column("created_at", Ms, nullable=False),
    Column("closed_at", Ms, nullable=True),
    Column("closed_by", String(36), nullable=True),  # a user id, or "system"
)

poll_votes = Table(
    "poll_votes",
    metadata,
    Column("poll_id", String(36), primary_key=True),
    Column("user_id", String(36), primary_key=True),
    Column("option_id", String(16), primary_key=True),
    Column("voted_at", Ms, nullable=False),
)

# --- group events --------------------------------------------------------------

group_events = Table(
    "group_events",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("group_id", String(36), nullable=False, index=True),
    Column("organizer_id", String(36), nullable=False),
    Column("title", String(256), nullable=False),
    Column("description", Text, nullable=True),
    Column("start_time", Ms, nullable=False),
    Column("end_time", Ms, nullable=True),
    Column("location", String(512), nullable=True),
    Column("version", Integer, nullable=False),
    Column("created_at", Ms, nullable=False),
    Column("updated_at", Ms, nullable=False),
    Column("deleted_at", Ms, nullable=True),
)

group_event_rsvps = Table(
    "group_event_rsvps",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("user_id", String(36), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("updated_at", Ms, nullable=False),
)

group_event_reminders = Table(
    "group_event_reminders",
    metadata,
    Column("id", String(36), primary_key=True),  # the timer's ref
    Column("event_id", String(36), nullable=False),
    Column("user_id", String(36), nullable=False),
    Column("remind_at", Ms, nullable=False),
    Column("fired_at", Ms, nullable=True),
    UniqueConstraint("event_id", "user_id", name="uq_reminder_event_user"),
)

# Results of requests keyed by a client's request id: a retry gets the first
# result back (for requests whose outcome is not state one can re-read).
request_keys = Table(
    "request_keys",
    metadata,
    Column("user_id", String(36), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("result", LargeBinary, nullable=False),
    Column("created_at", Ms, nullable=False),
)

# -- operators and account security (docs/security.md) -------------------------

# Invitations to register while `--registration token`: only the SHA-256 of
# the token is kept. `uses_allowed` None = unlimited until `expires_at`.
registration_tokens = Table(
    "registration_tokens",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_by", String(36), nullable=True),
    Column("created_at", Ms, nullable=False),
    Column("expires_at", Ms, nullable=True),
    Column("uses_allowed", Integer, nullable=True),
    Column("uses", Integer, nullable=False, server_default="0"),
    Column("revoked_at", Ms, nullable=True),
)

# Failed sign-ins and registrations per key ("la:<address>", "lu:<user>",
# "ra:<address>", "ok:<user>:<address>"), shared by every node.
auth_throttle = Table(
    "auth_throttle",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("next_at", Ms, nullable=False),
    Column("locked_until", Ms, nullable=False),
    Column("updated_at", Ms, nullable=False, index=True),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("at", Ms, nullable=False),
    Column("action", String(64), nullable=False),
    Column("actor_id", String(36), nullable=True),
    Column("target_id", String(64), nullable=True),
    Column("address", String(64), nullable=True),
    Column("detail", Text, nullable=False, server_default="{}"),
    Index("ix_audit_at", "at", "id"),
    Index("ix_audit_actor", "actor_id", "at"),
    Index("ix_audit_target", "target_id", "at"),
    Index("ix_audit_action", "action", "at"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("user_id", String(36), nullable=False, index=True),
    Column("name", String(64), nullable=False),
    Column("read_only", Boolean, nullable=False, server_default="0"),
    Column("created_at", Ms, nullable=False),
    Column("last_used_at", Ms, nullable=True),
    Column("revoked_at", Ms, nullable=True),
)

# `enabled_at` is None while enrolment awaits its first code; `last_step` is
# the RFC 6238 time step of the last code accepted (a code is good once).
totp_secrets = Table(
    "totp_secrets",
    metadata,
    Column("user_id", String(36), primary_key=True),
    Column("secret", String(64), nullable=False),
    Column("created_at", Ms, nullable=False),
    Column("enabled_at", Ms, nullable=True),
    Column("last_step", BigInteger, nullable=True),
)

recovery_codes = Table(
    "recovery_codes",
    metadata,
    Column("user_id", String(36), primary_key=True),
    Column("code_hash", String(64), primary_key=True),
    Column("used_at", Ms, nullable=True),
)

# The public room of spec 001: who has been in it. `handle` is the client's
# own `id`; `user_id` the member id in the room's conversation (a fresh id for
# an anonymous handle, the account's id for one bound by a token).
# `username_key` is the casefolded name, for "is this name taken".
room_users = Table(
    "room_users",
    metadata,
    Column("room_id", String(36), primary_key=True),
    Column("handle", String(64), primary_key=True),
    Column("user_id", String(36), nullable=False),
    Column("username", String(64), nullable=False),
    Column("username_key", String(64), nullable=False),
    Column("account_bound", Boolean, nullable=False, server_default="0"),
    Column("created_at", Ms, nullable=False),
    Column("last_active", Ms, nullable=False),
    UniqueConstraint("room_id", "user_id", name="uq_room_user"),
    Index("ix_room_users_name", "room_id", "username_key"),
)

# Uploaded files. `data` holds the bytes when blobs live in the database
# (PostgreSQL deployments); with the filesystem store it is NULL and the
# bytes are a file under the data dir named by `id`.
blobs = Table(
    "blobs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("owner_id", String(36), nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("name", String(255), nullable=False),
    Column("mime", String(128), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("created_at", Ms, nullable=False),
    Column("data", LargeBinary, nullable=True),
)

# How far a relay (the chat-event relay of spec 004) has published the event
# stream, and which node holds it: one row per relay, leased so that one node
# relays at a time and another takes over when the lease runs out.
relay_cursors = Table(
    "relay_cursors",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("pos", Pos, nullable=False),
    Column("owner", String(128), nullable=True),
    Column("lease_until", Ms, nullable=False),
)

# Broadcasts (`core/broadcasts.py`): one `events` row of scope `b` each (target:
# "all", "seg:<segment>", "ch:<channel>"), its expiry and idempotency key in
# `broadcasts` (by `pos`); segments are admins' user lists; subscriptions durable.
broadcast_channels = Table(
    "broadcast_channels",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("title", String(200), nullable=False),
    Column("created_by", String(36), nullable=False),
    Column("created_at", Ms, nullable=False),
)
broadcast_publishers = Table(
    "broadcast_publishers",
    metadata,
    Column("channel_id", String(32), primary_key=True),
    Column("user_id", String(36), primary_key=True),
    Column("granted_by", String(36), nullable=False),
    Column("granted_at", Ms, nullable=False),
)
broadcast_subscriptions = Table(
    "broadcast_subscriptions",
    metadata,
    Column("channel_id", String(32), primary_key=True),
    Column("user_id", String(36), primary_key=True),
    Column("since_pos", Pos, nullable=False),
    Column("created_at", Ms, nullable=False),
    Index("ix_broadcast_subscriptions_user", "user_id", "channel_id"),
)
broadcasts = Table(
    "broadcasts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("pos", Pos, nullable=False),
    Column("audience", String(36), nullable=False),
    Column("sender_id", String(36), nullable=False),
    Column("client_request_id", String(128), nullable=True),
    Column("reply", LargeBinary, nullable=False),
    Column("expires_at", Ms, nullable=True),
    Column("created_at", Ms, nullable=False),
    UniqueConstraint("pos", name="uq_broadcasts_pos"),
    UniqueConstraint("sender_id", "client_request_id", name="uq_broadcasts_client"),
)
broadcast_segment_members = Table(
    "broadcast_segment_members",
    metadata,
    Column("segment", String(32), primary_key=True),
    Column("user_id", String(36), primary_key=True),
    Column("added_by", String(36), nullable=False),
    Column("added_at", Ms, nullable=False),
    Index("ix_broadcast_segment_members_user", "user_id", "segment"),
)
broadcast_acks = Table(
    "broadcast_acks",
    metadata,
    Column("message_id", String(36), primary_key=True),
    Column("user_id", String(36), primary_key=True),
    Column("status", String(32), nullable=True),
    Column("received_at", Ms, nullable=True),
    Column("acked_at", Ms, nullable=False),
)
