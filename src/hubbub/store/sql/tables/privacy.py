"""Privacy settings: who may see a user's presence (`core/presence_settings.py`)."""

from __future__ import annotations

from sqlalchemy import Column, String, Table, Text

from hubbub.store.sql.tables.base import Ms, metadata

__all__ = ["info_visibility", "presence_settings"]

# One row per user who changed the default (`everyone`). The lists are small
# and bounded (`MAX_LISTED`) and always read whole with the row, so they are
# JSON arrays of user ids rather than a table of their own.
presence_settings = Table(
    "presence_settings",
    metadata,
    Column("user_id", String(36), primary_key=True),
    Column("visibility", String(16), nullable=False),
    Column("allowed_user_ids", Text, nullable=False, server_default="[]"),
    Column("blocked_user_ids", Text, nullable=False, server_default="[]"),
    Column("updated_at", Ms, nullable=False),
)

# Who may see a user's info text (`core/info_visibility.py`): the same shape as
# `presence_settings`, one row per user who changed the default (`everyone`).
info_visibility = Table(
    "info_visibility",
    metadata,
    Column("user_id", String(36), primary_key=True),
    Column("rule", String(16), nullable=False),
    Column("allowed_user_ids", Text, nullable=False, server_default="[]"),
    Column("blocked_user_ids", Text, nullable=False, server_default="[]"),
    Column("updated_at", Ms, nullable=False),
)
