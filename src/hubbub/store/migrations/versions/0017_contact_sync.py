"""Contact sync: the idempotency record of each user's last contact syncs,
and hubbub's per-user opt-out of being found.

Both tables start empty (no opt-out row: discoverable): nothing to backfill.

Revision ID: 0017_contact_sync
Revises: 0016_status_updates
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_contact_sync"
down_revision = "0016_status_updates"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contact_syncs",
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("sync_id", sa.String(128), primary_key=True),
        sa.Column("device_id", sa.String(128), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("processed", sa.Integer, nullable=False),
        sa.Column("matched", sa.Integer, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False),
        sa.Column("matches", sa.Text, nullable=False),
        sa.Column("received_count", sa.Integer, nullable=True),
    )
    op.create_index("ix_contact_syncs_user", "contact_syncs", ["user_id", "created_at"])
    op.create_table(
        "contact_discovery",
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("discoverable", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("contact_discovery")
    op.drop_index("ix_contact_syncs_user", table_name="contact_syncs")
    op.drop_table("contact_syncs")
