"""Notification previews: each user's preview config and acknowledged previews.

A user without a config row has the default (see
`core/notification_previews.py`): both tables start empty.

Revision ID: 0015_notification_previews
Revises: 0014_message_search
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_notification_previews"
down_revision = "0014_message_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notification_preview_configs",
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("show_sender", sa.Boolean, nullable=False),
        sa.Column("show_body", sa.Boolean, nullable=False),
        sa.Column("max_body_length", sa.Integer, nullable=False),
        sa.Column("allowed_categories", sa.Text, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "notification_preview_acks",
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("preview_id", sa.String(64), primary_key=True),
        sa.Column("received_at", sa.String(64), nullable=True),
        sa.Column("acked_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("notification_preview_acks")
    op.drop_table("notification_preview_configs")
