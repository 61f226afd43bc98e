"""Symbia (spec 002): conversation and message details, edit history, tenants
(orgs and their members), capabilities, agent runs.

Revision ID: 0007_symbia
Revises: 0005_broadcasts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_symbia"
down_revision = "0005_broadcasts"
branch_labels = None
depends_on = None

Ms = sa.BigInteger


def upgrade() -> None:
    op.create_table(
        "conversation_details",
        sa.Column("conversation_id", sa.String(36), primary_key=True),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("description", sa.String(2048), nullable=True),
        sa.Column("org_id", sa.String(64), nullable=True),
        sa.Column("metadata", sa.Text, nullable=False, server_default="{}"),
        sa.Column("updated_at", Ms, nullable=False),
        sa.Column("service_id", sa.String(128), nullable=True),
        sa.Column("env", sa.String(16), nullable=True),
        sa.Column("data_class", sa.String(8), nullable=False, server_default="none"),
        sa.Column("policy_ref", sa.String(256), nullable=True),
    )
    op.create_index("ix_conversation_details_org", "conversation_details", ["org_id", "updated_at"])
    op.create_table(
        "message_details",
        sa.Column("message_id", sa.String(36), primary_key=True),
        sa.Column("conversation_id", sa.String(36), nullable=False),
        sa.Column("content_type", sa.String(32), nullable=False),
        sa.Column("sender_type", sa.String(8), nullable=False),
        sa.Column("run_id", sa.String(36), nullable=True),
        sa.Column("trace_id", sa.String(128), nullable=True),
        sa.Column("priority", sa.String(8), nullable=True),
        sa.Column("interruptible", sa.Boolean, nullable=True),
        sa.Column("preempted_by", sa.String(36), nullable=True),
        sa.Column("metadata", sa.Text, nullable=False, server_default="{}"),
        sa.Column("org_id", sa.String(64), nullable=True),
        sa.Column("data_class", sa.String(8), nullable=False, server_default="none"),
        sa.Column("service_id", sa.String(128), nullable=True),
        sa.Column("policy_ref", sa.String(256), nullable=True),
    )
    op.create_index("ix_message_details_run", "message_details", ["conversation_id", "run_id"])
    op.create_table(
        "message_edits",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("message_id", sa.String(36), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("valid_from", Ms, nullable=False),
        sa.Column("replaced_at", Ms, nullable=False),
    )
    op.create_index("ix_message_edits_message", "message_edits", ["message_id", "replaced_at"])
    op.create_table(
        "orgs",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("created_at", Ms, nullable=False),
    )
    op.create_table(
        "org_members",
        sa.Column("org_id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("added_at", Ms, nullable=False),
    )
    op.create_index("ix_org_members_user", "org_members", ["user_id", "org_id"])
    op.create_table(
        "capabilities",
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("capability", sa.String(64), primary_key=True),
        sa.Column("granted_by", sa.String(36), nullable=True),
        sa.Column("granted_at", Ms, nullable=False),
    )
    op.create_table(
        "stream_runs",
        sa.Column("conversation_id", sa.String(36), primary_key=True),
        sa.Column("run_id", sa.String(36), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("owner_id", sa.String(36), nullable=False),
        sa.Column("priority", sa.String(8), nullable=False, server_default="normal"),
        sa.Column("interruptible", sa.Boolean, nullable=False, server_default="1"),
        sa.Column("preempted_by", sa.String(36), nullable=True),
        sa.Column("routed_to", sa.String(36), nullable=True),
        sa.Column("last_event", sa.String(32), nullable=True),
        sa.Column("last_message_id", sa.String(36), nullable=True),
        sa.Column("started_at", Ms, nullable=False),
        sa.Column("updated_at", Ms, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("stream_runs")
    op.drop_table("capabilities")
    op.drop_index("ix_org_members_user", table_name="org_members")
    op.drop_table("org_members")
    op.drop_table("orgs")
    op.drop_index("ix_message_edits_message", table_name="message_edits")
    op.drop_table("message_edits")
    op.drop_index("ix_message_details_run", table_name="message_details")
    op.drop_table("message_details")
    op.drop_index("ix_conversation_details_org", table_name="conversation_details")
    op.drop_table("conversation_details")
