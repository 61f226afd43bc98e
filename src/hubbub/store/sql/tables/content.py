"""Rich content: reactions, mentions, polls, group events, request keys."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from hubbub.store.sql.tables.base import Ms, metadata

__all__ = [
    "group_event_reminders",
    "group_event_rsvps",
    "group_events",
    "mentions",
    "poll_votes",
    "polls",
    "reactions",
    "request_keys",
]

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
