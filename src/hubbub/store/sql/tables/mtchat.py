"""MTChat (spec 003): external users, dialogs, read positions, archives, attachments."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    String,
    Table,
    Text,
)

from hubbub.store.sql.tables.base import Ms, Pos, metadata

__all__ = [
    "archives",
    "attachments",
    "dialog_profiles",
    "dialogs",
    "external_users",
    "read_positions",
]

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
    Index("ix_dialogs_created", "created_at", "conversation_id"),  # `available`'s keyset
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
    Column("blob_id", String(64), nullable=True),  # in `blobs` once uploaded
    Index("ix_attachments_message", "message_id"),
    Index("ix_attachments_created", "created_at"),  # the orphan collector
)
