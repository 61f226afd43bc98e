"""Accounts, conversations, the event stream, messages, receipts, keys, timers."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Index,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from hubbub.store.sql.tables.base import Ms, Pos, metadata

__all__ = [
    "blocks",
    "conversations",
    "device_cursors",
    "events",
    "members",
    "messages",
    "public_keys",
    "receipts",
    "timers",
    "tokens",
    "users",
]

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
    # user | agent | service | bot (core.model.ACCOUNT_KINDS); 0010 replaced is_agent
    Column("kind", String(8), nullable=False, server_default="user"),
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
