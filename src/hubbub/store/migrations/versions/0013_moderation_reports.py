"""Users' reports of messages and users, and their review (`moderation_reports`).

Revision ID: 0013_moderation_reports
Revises: 0012_presence_visibility
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_moderation_reports"
down_revision = "0012_presence_visibility"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "moderation_reports",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("reporter_id", sa.String(36), nullable=False),
        sa.Column("client_request_id", sa.String(64), nullable=True),
        sa.Column("report_type", sa.String(16), nullable=False),
        sa.Column("target_id", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("details", sa.Text, nullable=True),
        sa.Column("client_timestamp", sa.String(64), nullable=True),
        sa.Column("received_at", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("handled_by", sa.String(36), nullable=True),
        sa.Column("target_user_id", sa.String(36), nullable=True),
        sa.Column("conversation_id", sa.String(36), nullable=True),
        sa.Column("message_kind", sa.String(16), nullable=True),
        sa.Column("content_type", sa.String(64), nullable=True),
        sa.Column("content", sa.Text, nullable=True),
        sa.UniqueConstraint(
            "reporter_id", "client_request_id", name="uq_moderation_reports_request"
        ),
    )
    op.create_index("ix_moderation_reports_status", "moderation_reports", ["status", "id"])
    op.create_index(
        "ix_moderation_reports_reporter", "moderation_reports", ["reporter_id", "status"]
    )


def downgrade() -> None:
    op.drop_index("ix_moderation_reports_reporter", table_name="moderation_reports")
    op.drop_index("ix_moderation_reports_status", table_name="moderation_reports")
    op.drop_table("moderation_reports")
