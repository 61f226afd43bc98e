"""Chat settings shared by a conversation's members (`core/chat_backgrounds.py`)."""

from __future__ import annotations

from sqlalchemy import Column, String, Table

from hubbub.store.sql.tables.base import Ms, metadata

__all__ = ["chat_backgrounds"]

# One row per conversation whose background a member set; none is the
# client's default. `value` is a #rrggbb colour, a preset name or a
# `/v1/blobs/{id}` path, validated by the rules before it is stored.
chat_backgrounds = Table(
    "chat_backgrounds",
    metadata,
    Column("conversation_id", String(64), primary_key=True),
    Column("background_id", String(64), nullable=False),
    Column("background_type", String(16), nullable=False),
    Column("value", String(128), nullable=False),
    Column("updated_by", String(36), nullable=False),
    Column("updated_at", Ms, nullable=False),
)
