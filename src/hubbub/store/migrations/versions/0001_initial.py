"""Initial schema: accounts, conversations, streams, messages, keys, timers.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Pos = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("display_name", sa.String(128), nullable=False, server_default=""),
        sa.Column("phone", sa.String(32), nullable=True, unique=True),
        sa.Column("email", sa.String(254), nullable=True, unique=True),
        sa.Column("info_text", sa.String(1024), nullable=False, server_default=""),
        sa.Column("info_text_updated_at", sa.BigInteger, nullable=True),
        sa.Column("last_seen_at", sa.BigInteger, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(36), nullable=False, index=True),
        sa.Column("device_id", sa.String(128), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("revoked_at", sa.BigInteger, nullable=True),
    )
    op.create_table(
        "conversations",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(256), nullable=True),
        sa.Column("creator_id", sa.String(36), nullable=True),
        sa.Column("direct_key", sa.String(80), nullable=True, unique=True),
        sa.Column("client_request_id", sa.String(128), nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("creator_id", "client_request_id", name="uq_conversation_request"),
    )
    op.create_table(
        "members",
        sa.Column("conversation_id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("joined_pos", Pos, nullable=False),
        sa.Column("left_pos", Pos, nullable=True),
        sa.Column("joined_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_members_user", "members", ["user_id", "conversation_id"])
    op.create_table(
        "events",
        sa.Column("pos", Pos, primary_key=True, autoincrement=True),
        sa.Column("scope", sa.String(1), nullable=False),
        sa.Column("target", sa.String(36), nullable=False),
        sa.Column("channel", sa.String(128), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("message_id", sa.String(36), nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_events_target", "events", ["scope", "target", "pos"])
    op.create_index("ix_events_message", "events", ["message_id"])
    op.create_table(
        "messages",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("conversation_id", sa.String(36), nullable=False),
        sa.Column("sender_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("content_type", sa.String(64), nullable=False, server_default="text"),
        sa.Column("content", sa.Text, nullable=True),
        sa.Column("ciphertext", sa.Text, nullable=True),
        sa.Column("nonce", sa.String(256), nullable=True),
        sa.Column("algorithm", sa.String(64), nullable=True),
        sa.Column("key_id", sa.String(256), nullable=True),
        sa.Column("signature", sa.String(1024), nullable=True),
        sa.Column("client_message_id", sa.String(128), nullable=True),
        sa.Column("self_destruct", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=True),
        sa.Column("deleted_at", sa.BigInteger, nullable=True),
        sa.Column("event_pos", Pos, nullable=True),
        sa.UniqueConstraint("sender_id", "client_message_id", name="uq_message_client_id"),
    )
    op.create_index("ix_messages_conversation", "messages", ["conversation_id", "created_at"])
    op.create_table(
        "receipts",
        sa.Column("message_id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("status", sa.String(16), primary_key=True),
        sa.Column("at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "public_keys",
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("key_id", sa.String(256), primary_key=True),
        sa.Column("public_key", sa.Text, nullable=False),
        sa.Column("algorithm", sa.String(64), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "timers",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("ref", sa.String(36), nullable=False),
        sa.Column("due_at", sa.BigInteger, nullable=False, index=True),
        sa.Column("payload", sa.LargeBinary, nullable=True),
    )
    op.create_table(
        "device_cursors",
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("device_id", sa.String(128), primary_key=True),
        sa.Column("seq", Pos, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    for name in (
        "device_cursors",
        "timers",
        "public_keys",
        "receipts",
        "messages",
        "events",
        "members",
        "conversations",
        "tokens",
        "users",
    ):
        op.drop_table(name)
