"""Status updates: 24-hour statuses, their visibility, viewers' mutes.

Every table starts empty: an author without a visibility row has the
default (`contacts`), a viewer without mute rows mutes nobody.

Revision ID: 0016_status_updates
Revises: 0015_notification_previews
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_status_updates"
down_revision = "0015_notification_previews"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "statuses",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("author_id", sa.String(36), nullable=False),
        sa.Column("client_request_id", sa.String(64), nullable=True),
        sa.Column("content_type", sa.String(8), nullable=False),
        sa.Column("content_url", sa.String(128), nullable=True),
        sa.Column("text", sa.Text, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("author_id", "client_request_id", name="uq_statuses_request"),
    )
    op.create_index("ix_statuses_author", "statuses", ["author_id", "expires_at"])
    op.create_index("ix_statuses_url", "statuses", ["content_url"])
    op.create_table(
        "status_visibility",
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("visibility", sa.String(16), nullable=False),
        sa.Column("allowed_user_ids", sa.Text, nullable=False),
        sa.Column("blocked_user_ids", sa.Text, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "status_mutes",
        sa.Column("viewer_id", sa.String(36), primary_key=True),
        sa.Column("contact_id", sa.String(36), primary_key=True),
        sa.Column("muted_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "status_requests",
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("contact_id", sa.String(36), nullable=True),
        sa.Column("muted", sa.Boolean, nullable=True),
        sa.Column("done_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "status_mute_acks",
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("event_id", sa.String(20), primary_key=True),
        sa.Column("received_at", sa.String(64), nullable=True),
        sa.Column("acked_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("status_mute_acks")
    op.drop_table("status_requests")
    op.drop_table("status_mutes")
    op.drop_table("status_visibility")
    op.drop_index("ix_statuses_url", table_name="statuses")
    op.drop_index("ix_statuses_author", table_name="statuses")
    op.drop_table("statuses")
