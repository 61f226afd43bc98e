"""Contact sync: the answer each user's last syncs got (`core/contact_sync.py`)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, Integer, String, Table, Text

from hubbub.store.sql.tables.base import Ms, metadata

__all__ = ["contact_discovery", "contact_syncs"]

# One row per (user, sync_id): the idempotency record of a `StartContactSync`.
# It holds the matches as they were sent (user ids, usernames, display names
# and the client's own labels and indexes, JSON), never the phone numbers or
# e-mails looked up, so a retry answers the same without matching again and
# the table reveals no address book. A user keeps only their last few rows
# (`core.contact_sync.KEEP_PER_USER`).
contact_syncs = Table(
    "contact_syncs",
    metadata,
    Column("user_id", String(36), primary_key=True),
    Column("sync_id", String(128), primary_key=True),
    Column("device_id", String(128), nullable=False),
    Column("created_at", Ms, nullable=False),
    Column("processed", Integer, nullable=False),
    Column("matched", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("matches", Text, nullable=False),
    Column("received_count", Integer, nullable=True),
    Index("ix_contact_syncs_user", "user_id", "created_at"),
)

# hubbub's opt-out: a user with `discoverable` false is never found by
# contact sync. No row is the default, discoverable.
contact_discovery = Table(
    "contact_discovery",
    metadata,
    Column("user_id", String(36), primary_key=True),
    Column("discoverable", Boolean, nullable=False),
    Column("updated_at", Ms, nullable=False),
)
