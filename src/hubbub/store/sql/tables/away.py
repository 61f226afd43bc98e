"""Away messages and greetings (`core/away.py`): each user's automatic-reply
settings, the conversations an automatic reply went to, the greetings sent."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, String, Table, Text

from hubbub.store.sql.tables.base import Ms, metadata

__all__ = ["away_replies", "away_settings", "greetings"]

# One row per user who ever set an away message or a greeting. Disabling keeps
# the text (enabling again without one reuses it); an empty greeting is none.
# `greeting_at` is when the greeting was last set: only conversations created
# since then get it (an old contact is no first contact).
away_settings = Table(
    "away_settings",
    metadata,
    Column("user_id", String(36), primary_key=True),
    Column("enabled", Boolean, nullable=False),
    Column("message", Text, nullable=False),
    Column("greeting", Text, nullable=False),
    Column("greeting_at", Ms, nullable=True),
    Column("updated_at", Ms, nullable=False),
)

# The last automatic reply an away user sent in a conversation: at most one
# per conversation per window (`core.away.REPLY_WINDOW_MS`).
away_replies = Table(
    "away_replies",
    metadata,
    Column("user_id", String(36), primary_key=True),
    Column("conversation_id", String(36), primary_key=True),
    Column("replied_at", Ms, nullable=False),
)

# A greeting sent: one per (conversation, owner), found again by its id for
# the recipient's acknowledgement (`acked_at`, set once).
greetings = Table(
    "greetings",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("conversation_id", String(36), nullable=False),
    Column("owner_id", String(36), nullable=False),
    Column("recipient_id", String(36), nullable=False),
    Column("sent_at", Ms, nullable=False),
    Column("acked_at", Ms, nullable=True),
    Column("received_at", String(64), nullable=True),
    Index("ix_greetings_conversation_owner", "conversation_id", "owner_id", unique=True),
)
