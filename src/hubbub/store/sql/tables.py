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
    "archives",
    "attachments",
    "blocks",
    "conversations",
    "device_cursors",
    "dialog_profiles",
    "dialogs",
    "events",
    "external_users",
    "members",
    "messages",
    "metadata",
    "public_keys",
    "read_positions",
    "receipts",
    "timers",
    "tokens",
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
    Column("scope", String(1), nullable=False),  # c | u | a
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
    Column("kind", String(8), nullable=False),  # e2e | text
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
    Column("reply_to_id", String(36), nullable=True),
    Column("edited_at", Ms, nullable=True),
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

# Accounts of other systems' users (MTChat's host application ids), created
# on first use: `namespace` keeps two protocols' id spaces apart.
external_users = Table(
    "external_users",
    metadata,
    Column("namespace", String(16), primary_key=True),
    Column("external_id", String(128), primary_key=True),
    Column("user_id", String(36), nullable=False, unique=True),
    Column("created_at", Ms, nullable=False),
)

# A conversation bound to a business object (spec 003's dialog). Its access
# scopes (JSON list of {scope_level0..2}) say who may see and join it.
dialogs = Table(
    "dialogs",
    metadata,
    Column("conversation_id", String(36), primary_key=True),
    Column("object_type", String(128), nullable=False),
    Column("object_id", String(128), nullable=False),
    Column("title", String(500), nullable=True),
    Column("object_url", String(2048), nullable=True),
    Column("created_by", String(128), nullable=True),
    Column("meta", Text, nullable=True),
    Column("access_scopes", Text, nullable=False, server_default="[]"),
    Column("created_at", Ms, nullable=False),
    Index("ix_dialogs_object", "object_type", "object_id", "created_at"),
)

# What a dialog's participant shows the others, and their own list settings.
dialog_profiles = Table(
    "dialog_profiles",
    metadata,
    Column("conversation_id", String(36), primary_key=True),
    Column("user_id", String(36), primary_key=True),
    Column("display_name", String(256), nullable=False, server_default=""),
    Column("company", String(256), nullable=True),
    Column("email", String(254), nullable=True),
    Column("phone", String(64), nullable=True),
    Column("joined_as", String(16), nullable=False, server_default="participant"),
    Column("is_pinned", Boolean, nullable=False, server_default="0"),
    Column("notifications_enabled", Boolean, nullable=False, server_default="1"),
)

# How far each member has read a conversation (`message_pos`: the message's
# stream position, so "unread" is one range count).
read_positions = Table(
    "read_positions",
    metadata,
    Column("conversation_id", String(36), primary_key=True),
    Column("user_id", String(36), primary_key=True),
    Column("message_id", String(36), nullable=False),
    Column("message_pos", Pos, nullable=False),
    Column("updated_at", Ms, nullable=False),
)

# Conversations a user archived for themselves: archived while no message
# came after `archived_pos` (the stream head when they archived it).
archives = Table(
    "archives",
    metadata,
    Column("conversation_id", String(36), primary_key=True),
    Column("user_id", String(36), primary_key=True),
    Column("archived_at", Ms, nullable=False),
    Column("archived_pos", Pos, nullable=False),
    Index("ix_archives_user", "user_id", "conversation_id"),
)

# Files attached to messages: announced (presign), then uploaded, then bound
# to the message that carries them. The bytes are in a blob store under `id`.
attachments = Table(
    "attachments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("conversation_id", String(36), nullable=False),
    Column("uploader_id", String(36), nullable=False),
    Column("message_id", String(36), nullable=True),
    Column("filename", String(255), nullable=False),
    Column("content_type", String(128), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("created_at", Ms, nullable=False),
    Column("uploaded_at", Ms, nullable=True),
    Index("ix_attachments_message", "message_id"),
)
