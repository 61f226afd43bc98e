"""Group events: the events, RSVPs, per-member reminders; request keys.

Revision ID: 0004_group_events
Revises: 0003_content
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_group_events"
down_revision = "0003_content"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "group_events",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("group_id", sa.String(36), nullable=False),
        sa.Column("organizer_id", sa.String(36), nullable=False),
        sa.Column("title", sa.String(256), nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("start_time", sa.BigInteger, nullable=False),
        sa.Column("end_time", sa.BigInteger, nullable=True),
        sa.Column("location", sa.String(512), nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.Column("deleted_at", sa.BigInteger, nullable=True),
    )
    op.create_index("ix_group_events_group_id", "group_events", ["group_id"])
    op.create_table(
        "group_event_rsvps",
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "group_event_reminders",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("remind_at", sa.BigInteger, nullable=False),
        sa.Column("fired_at", sa.BigInteger, nullable=True),
        sa.UniqueConstraint("event_id", "user_id", name="uq_reminder_event_user"),
    )
    op.create_table(
        "request_keys",
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("result", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("request_keys")
    op.drop_table("group_event_reminders")
    op.drop_table("group_event_rsvps")
    op.drop_index("ix_group_events_group_id", "group_events")
    op.drop_table("group_events")
