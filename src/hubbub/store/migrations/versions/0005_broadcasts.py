"""Broadcasts: channels, their publishers and durable subscriptions, one row per
broadcast beside its event (expiry, idempotency key), segments (user lists),
acknowledgements.

Revision ID: 0005_broadcasts
Revises: 0006_voice
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_broadcasts"
down_revision = "0006_voice"
branch_labels = None
depends_on = None

Pos = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "broadcast_channels",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("created_by", sa.String(36), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "broadcast_publishers",
        sa.Column("channel_id", sa.String(32), primary_key=True),
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("granted_by", sa.String(36), nullable=False),
        sa.Column("granted_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "broadcast_subscriptions",
        sa.Column("channel_id", sa.String(32), primary_key=True),
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("since_pos", Pos, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_index(
        "ix_broadcast_subscriptions_user", "broadcast_subscriptions", ["user_id", "channel_id"]
    )
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("pos", Pos, nullable=False),
        sa.Column("audience", sa.String(36), nullable=False),
        sa.Column("sender_id", sa.String(36), nullable=False),
        sa.Column("client_request_id", sa.String(128), nullable=True),
        sa.Column("reply", sa.LargeBinary, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("pos", name="uq_broadcasts_pos"),
        sa.UniqueConstraint("sender_id", "client_request_id", name="uq_broadcasts_client"),
    )
    op.create_table(
        "broadcast_segment_members",
        sa.Column("segment", sa.String(32), primary_key=True),
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("added_by", sa.String(36), nullable=False),
        sa.Column("added_at", sa.BigInteger, nullable=False),
    )
    op.create_index(
        "ix_broadcast_segment_members_user",
        "broadcast_segment_members",
        ["user_id", "segment"],
    )
    op.create_table(
        "broadcast_acks",
        sa.Column("message_id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("status", sa.String(32), nullable=True),
        sa.Column("received_at", sa.BigInteger, nullable=True),
        sa.Column("acked_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("broadcast_acks")
    op.drop_index("ix_broadcast_segment_members_user", "broadcast_segment_members")
    op.drop_table("broadcast_segment_members")
    op.drop_table("broadcasts")
    op.drop_index("ix_broadcast_subscriptions_user", "broadcast_subscriptions")
    op.drop_table("broadcast_subscriptions")
    op.drop_table("broadcast_publishers")
    op.drop_table("broadcast_channels")
