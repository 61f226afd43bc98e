"""Spec 003 (MTChat) and the core capabilities it needs: edits, read
positions, per-user archive, dialogs bound to business objects, message
attachments, and the accounts of another system's users.

Revision ID: 0003_mtchat
Revises: 0003_rooms
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_mtchat"
down_revision = "0003_rooms"
branch_labels = None
depends_on = None

_Pos = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("reply_to_id", sa.String(36), nullable=True))
        batch.add_column(sa.Column("edited_at", sa.BigInteger, nullable=True))
    op.create_table(
        "external_users",
        sa.Column("namespace", sa.String(16), primary_key=True),
        sa.Column("external_id", sa.String(128), primary_key=True),
        sa.Column("user_id", sa.String(36), nullable=False, unique=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "dialogs",
        sa.Column("conversation_id", sa.String(36), primary_key=True),
        sa.Column("object_type", sa.String(128), nullable=False),
        sa.Column("object_id", sa.String(128), nullable=False),
        sa.Column("title", sa.String(500), nullable=True),
        sa.Column("object_url", sa.String(2048), nullable=True),
        sa.Column("created_by", sa.String(128), nullable=True),
        sa.Column("meta", sa.Text, nullable=True),
        sa.Column("access_scopes", sa.Text, nullable=False, server_default="[]"),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_dialogs_object", "dialogs", ["object_type", "object_id", "created_at"])
    op.create_table(
        "dialog_profiles",
        sa.Column("conversation_id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("display_name", sa.String(256), nullable=False, server_default=""),
        sa.Column("company", sa.String(256), nullable=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("phone", sa.String(64), nullable=True),
        sa.Column("joined_as", sa.String(16), nullable=False, server_default="participant"),
        sa.Column("is_pinned", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("notifications_enabled", sa.Boolean, nullable=False, server_default="1"),
    )
    op.create_table(
        "read_positions",
        sa.Column("conversation_id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("message_id", sa.String(36), nullable=False),
        sa.Column("message_pos", _Pos, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "archives",
        sa.Column("conversation_id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("archived_at", sa.BigInteger, nullable=False),
        sa.Column("archived_pos", _Pos, nullable=False),
    )
    op.create_index("ix_archives_user", "archives", ["user_id", "conversation_id"])
    op.create_table(
        "attachments",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("conversation_id", sa.String(36), nullable=False),
        sa.Column("uploader_id", sa.String(36), nullable=False),
        sa.Column("message_id", sa.String(36), nullable=True),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(128), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("uploaded_at", sa.BigInteger, nullable=True),
    )
    op.create_index("ix_attachments_message", "attachments", ["message_id"])


def downgrade() -> None:
    op.drop_table("attachments")
    op.drop_table("archives")
    op.drop_table("read_positions")
    op.drop_table("dialog_profiles")
    op.drop_index("ix_dialogs_object", "dialogs")
    op.drop_table("dialogs")
    op.drop_table("external_users")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("edited_at")
        batch.drop_column("reply_to_id")
