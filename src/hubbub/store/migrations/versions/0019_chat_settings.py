"""Chat settings: shared chat backgrounds and who may see a user's info text.

Both tables start empty: a conversation without a row has the client's
default background, a user without a row shows their info text to everyone
who shares a conversation with them (see `core/chat_backgrounds.py`,
`core/info_visibility.py`).

Revision ID: 0019_chat_settings
Revises: 0018_away_greetings
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_chat_settings"
down_revision = "0018_away_greetings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_backgrounds",
        sa.Column("conversation_id", sa.String(64), primary_key=True),
        sa.Column("background_id", sa.String(64), nullable=False),
        sa.Column("background_type", sa.String(16), nullable=False),
        sa.Column("value", sa.String(128), nullable=False),
        sa.Column("updated_by", sa.String(36), nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "info_visibility",
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("rule", sa.String(16), nullable=False),
        sa.Column("allowed_user_ids", sa.Text, nullable=False, server_default="[]"),
        sa.Column("blocked_user_ids", sa.Text, nullable=False, server_default="[]"),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("info_visibility")
    op.drop_table("chat_backgrounds")
