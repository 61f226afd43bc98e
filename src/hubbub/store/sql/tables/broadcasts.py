"""Broadcasts (`core/broadcasts.py`): channels, publishers, subscriptions, acks."""

from __future__ import annotations

from sqlalchemy import Column, Index, LargeBinary, String, Table, UniqueConstraint

from hubbub.store.sql.tables.base import Ms, Pos, metadata

__all__ = [
    "broadcast_acks",
    "broadcast_channels",
    "broadcast_publishers",
    "broadcast_segment_members",
    "broadcast_subscriptions",
    "broadcasts",
]

# Broadcasts (`core/broadcasts.py`): one `events` row of scope `b` each (target:
# "all", "seg:<segment>", "ch:<channel>"), its expiry and idempotency key in
# `broadcasts` (by `pos`); segments are admins' user lists; subscriptions durable.
broadcast_channels = Table(
    "broadcast_channels",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("title", String(200), nullable=False),
    Column("created_by", String(36), nullable=False),
    Column("created_at", Ms, nullable=False),
)
broadcast_publishers = Table(
    "broadcast_publishers",
    metadata,
    Column("channel_id", String(32), primary_key=True),
    Column("user_id", String(36), primary_key=True),
    Column("granted_by", String(36), nullable=False),
    Column("granted_at", Ms, nullable=False),
)
broadcast_subscriptions = Table(
    "broadcast_subscriptions",
    metadata,
    Column("channel_id", String(32), primary_key=True),
    Column("user_id", String(36), primary_key=True),
    Column("since_pos", Pos, nullable=False),
    Column("created_at", Ms, nullable=False),
    Index("ix_broadcast_subscriptions_user", "user_id", "channel_id"),
)
broadcasts = Table(
    "broadcasts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("pos", Pos, nullable=False),
    Column("audience", String(36), nullable=False),
    Column("sender_id", String(36), nullable=False),
    Column("client_request_id", String(128), nullable=True),
    Column("reply", LargeBinary, nullable=False),
    Column("expires_at", Ms, nullable=True),
    Column("created_at", Ms, nullable=False),
    UniqueConstraint("pos", name="uq_broadcasts_pos"),
    UniqueConstraint("sender_id", "client_request_id", name="uq_broadcasts_client"),
)
broadcast_segment_members = Table(
    "broadcast_segment_members",
    metadata,
    Column("segment", String(32), primary_key=True),
    Column("user_id", String(36), primary_key=True),
    Column("added_by", String(36), nullable=False),
    Column("added_at", Ms, nullable=False),
    Index("ix_broadcast_segment_members_user", "user_id", "segment"),
)
broadcast_acks = Table(
    "broadcast_acks",
    metadata,
    Column("message_id", String(36), primary_key=True),
    Column("user_id", String(36), primary_key=True),
    Column("status", String(32), nullable=True),
    Column("received_at", Ms, nullable=True),
    Column("acked_at", Ms, nullable=False),
)
