"""Status updates (`core/status_updates.py`, `core/status_visibility.py`):
24-hour statuses, who may see them, whose statuses a viewer muted, and the
request ids that make the settings' writes idempotent."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, String, Table, Text, UniqueConstraint

from hubbub.store.sql.tables.base import Ms, metadata

__all__ = [
    "status_mute_acks",
    "status_mutes",
    "status_requests",
    "status_visibility",
    "statuses",
]

# A live status; its row is deleted by its timer at `expires_at` (and every
# read also filters on `expires_at`). `client_request_id` is the author's
# idempotency key. `content_url` is a `/v1/blobs/{id}` path, never fetched.
statuses = Table(
    "statuses",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("author_id", String(36), nullable=False),
    Column("client_request_id", String(64), nullable=True),
    Column("content_type", String(8), nullable=False),
    Column("content_url", String(128), nullable=True),
    Column("text", Text, nullable=True),
    Column("created_at", Ms, nullable=False),
    Column("expires_at", Ms, nullable=False),
    UniqueConstraint("author_id", "client_request_id", name="uq_statuses_request"),
    Index("ix_statuses_author", "author_id", "expires_at"),
    Index("ix_statuses_url", "content_url"),
)

# One row per author who changed the default (`contacts`, nobody listed).
status_visibility = Table(
    "status_visibility",
    metadata,
    Column("user_id", String(36), primary_key=True),
    Column("visibility", String(16), nullable=False),
    Column("allowed_user_ids", Text, nullable=False),
    Column("blocked_user_ids", Text, nullable=False),
    Column("updated_at", Ms, nullable=False),
)

# A row while `viewer_id` mutes `contact_id`'s statuses.
status_mutes = Table(
    "status_mutes",
    metadata,
    Column("viewer_id", String(36), primary_key=True),
    Column("contact_id", String(36), primary_key=True),
    Column("muted_at", Ms, nullable=False),
)

# The request ids of a user's SetStatusVisibility / SetContactStatusMute
# (`kind` visibility | mute) and what they answered: a retry answers the
# same, and SetStatusVisibilityAckRequest looks one up. The most recent
# `MAX_REQUESTS` per user and kind are kept (see the SQL module).
status_requests = Table(
    "status_requests",
    metadata,
    Column("user_id", String(36), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("request_id", String(64), primary_key=True),
    Column("contact_id", String(36), nullable=True),
    Column("muted", Boolean, nullable=True),
    Column("done_at", Ms, nullable=False),
)

# Receipts of ContactStatusMuteChanged events (`event_id`: the event's seq).
status_mute_acks = Table(
    "status_mute_acks",
    metadata,
    Column("user_id", String(36), primary_key=True),
    Column("event_id", String(20), primary_key=True),
    Column("received_at", String(64), nullable=True),
    Column("acked_at", Ms, nullable=False),
)
