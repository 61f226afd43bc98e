"""Moderation: users' reports of messages and users (`core/moderation_reports.py`)."""

from __future__ import annotations

from sqlalchemy import Column, Index, String, Table, Text, UniqueConstraint

from hubbub.store.sql.tables.base import Ms, metadata

__all__ = ["moderation_reports"]

# One row per report. A message report keeps a snapshot of what was reported
# (conversation, sender, kind and, for plaintext only, the content) so that a
# later edit or deletion by the sender does not erase the evidence; an
# end-to-end encrypted message has no content here (the server cannot read
# it). `client_request_id` is the reporter's idempotency key.
moderation_reports = Table(
    "moderation_reports",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("reporter_id", String(36), nullable=False),
    Column("client_request_id", String(64), nullable=True),
    Column("report_type", String(16), nullable=False),
    Column("target_id", String(64), nullable=False),
    Column("reason", String(32), nullable=False),
    Column("details", Text, nullable=True),
    Column("client_timestamp", String(64), nullable=True),
    Column("received_at", Ms, nullable=False),
    Column("status", String(16), nullable=False),
    Column("updated_at", Ms, nullable=False),
    Column("note", Text, nullable=True),
    Column("handled_by", String(36), nullable=True),
    Column("target_user_id", String(36), nullable=True),
    Column("conversation_id", String(36), nullable=True),
    Column("message_kind", String(16), nullable=True),
    Column("content_type", String(64), nullable=True),
    Column("content", Text, nullable=True),
    UniqueConstraint("reporter_id", "client_request_id", name="uq_moderation_reports_request"),
    Index("ix_moderation_reports_status", "status", "id"),
    Index("ix_moderation_reports_reporter", "reporter_id", "status"),
)
