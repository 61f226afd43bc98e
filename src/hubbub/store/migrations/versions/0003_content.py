"""Rich content: reactions, mentions, polls and their votes.

Revision ID: 0003_content
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_content"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reactions",
        sa.Column("message_id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("reaction", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "mentions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("message_id", sa.String(36), nullable=False),
        sa.Column("conversation_id", sa.String(36), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("acked_at", sa.BigInteger, nullable=True),
        sa.UniqueConstraint("message_id", "user_id", name="uq_mention_message_user"),
    )
    op.create_index("ix_mentions_user", "mentions", ["user_id", "created_at"])
    op.create_table(
        "polls",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("conversation_id", sa.String(36), nullable=False),
        sa.Column("creator_id", sa.String(36), nullable=False),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("options", sa.LargeBinary, nullable=False),
        sa.Column("multi_select", sa.Boolean, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("closed_at", sa.BigInteger, nullable=True),
        sa.Column("closed_by", sa.String(36), nullable=True),
    )
    op.create_index("ix_polls_conversation_id", "polls", ["conversation_id"])
    op.create_table(
        "poll_votes",
        sa.Column("poll_id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("option_id", sa.String(16), primary_key=True),
        sa.Column("voted_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("poll_votes")
    op.drop_index("ix_polls_conversation_id", "polls")
    op.drop_table("polls")
    op.drop_index("ix_mentions_user", "mentions")
    op.drop_table("mentions")
    op.drop_table("reactions")
