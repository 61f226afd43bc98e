"""Away messages and greetings: settings, automatic replies sent, greetings sent.

All three tables start empty: nobody is away and nobody has a greeting.

Revision ID: 0018_away_greetings
Revises: 0017_contact_sync
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_away_greetings"
down_revision = "0017_contact_sync"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "away_settings",
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("greeting", sa.Text, nullable=False),
        sa.Column("greeting_at", sa.BigInteger, nullable=True),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "away_replies",
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("conversation_id", sa.String(36), primary_key=True),
        sa.Column("replied_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "greetings",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("conversation_id", sa.String(36), nullable=False),
        sa.Column("owner_id", sa.String(36), nullable=False),
        sa.Column("recipient_id", sa.String(36), nullable=False),
        sa.Column("sent_at", sa.BigInteger, nullable=False),
        sa.Column("acked_at", sa.BigInteger, nullable=True),
        sa.Column("received_at", sa.String(64), nullable=True),
    )
    op.create_index(
        "ix_greetings_conversation_owner", "greetings", ["conversation_id", "owner_id"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ix_greetings_conversation_owner", table_name="greetings")
    op.drop_table("greetings")
    op.drop_table("away_replies")
    op.drop_table("away_settings")
