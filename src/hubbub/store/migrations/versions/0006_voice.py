"""Voice notes: which conversation a blob belongs to, and shared server secrets.

`blob_refs` ties a blob (a voice note's audio) to its conversations (where
it was sent and forwarded), so only their members may download it;
`server_secrets` holds the key that signs blob URLs, created by the first
node that needs it and the same on every node.

Revision ID: 0006_voice
Revises: 0003_mtchat
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_voice"
down_revision = "0003_mtchat"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blob_refs",
        sa.Column("blob_id", sa.String(64), primary_key=True),
        sa.Column("conversation_id", sa.String(36), primary_key=True),
        sa.Column("message_id", sa.String(36), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "server_secrets",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(128), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("server_secrets")
    op.drop_table("blob_refs")
