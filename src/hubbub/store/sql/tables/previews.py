"""Notification previews (`core/notification_previews.py`): each user's preview
config and the previews they acknowledged."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Integer, String, Table, Text

from hubbub.store.sql.tables.base import Ms, metadata

__all__ = ["notification_preview_acks", "notification_preview_configs"]

# One row per user who changed the default. `version` is the `config_version`
# clients see; it only grows. The categories are a short list from a fixed
# set, always read whole with the row, so a JSON array.
notification_preview_configs = Table(
    "notification_preview_configs",
    metadata,
    Column("user_id", String(36), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("show_sender", Boolean, nullable=False),
    Column("show_body", Boolean, nullable=False),
    Column("max_body_length", Integer, nullable=False),
    Column("allowed_categories", Text, nullable=False),
    Column("updated_at", Ms, nullable=False),
)

# The key is (user, preview): a retry finds its row and answers "not first".
# Only a user's most recent `MAX_ACKS` are kept (see the SQL module).
notification_preview_acks = Table(
    "notification_preview_acks",
    metadata,
    Column("user_id", String(36), primary_key=True),
    Column("preview_id", String(64), primary_key=True),
    Column("received_at", String(64), nullable=True),
    Column("acked_at", Ms, nullable=False),
)
