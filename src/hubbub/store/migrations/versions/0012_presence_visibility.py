"""Who may see a user's online status and last seen (`presence_settings`).

A user without a row has the default, `everyone`: the table starts empty and
nobody's presence changes with the upgrade.

Revision ID: 0012_presence_visibility
Revises: 0009_mtchat_blobs
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_presence_visibility"
down_revision = "0010_account_kind"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "presence_settings",
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("visibility", sa.String(16), nullable=False),
        sa.Column("allowed_user_ids", sa.Text, nullable=False, server_default="[]"),
        sa.Column("blocked_user_ids", sa.Text, nullable=False, server_default="[]"),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("presence_settings")
