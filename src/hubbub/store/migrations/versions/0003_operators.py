"""Operators and account security: admin, agent and deactivation columns on
`users`; registration tokens, the shared auth throttle, the audit log, API
keys, TOTP secrets and recovery codes.

Existing users become plain, active accounts (no admin: `hubbub admin grant`).

Revision ID: 0003_operators
Revises: 0004_group_events
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_operators"
down_revision = "0004_group_events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("is_admin", sa.Boolean, nullable=False, server_default="0"))
        batch.add_column(sa.Column("is_agent", sa.Boolean, nullable=False, server_default="0"))
        batch.add_column(sa.Column("deactivated_at", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("deletion_requested_at", sa.BigInteger, nullable=True))
    op.create_table(
        "registration_tokens",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_by", sa.String(36), nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=True),
        sa.Column("uses_allowed", sa.Integer, nullable=True),
        sa.Column("uses", sa.Integer, nullable=False, server_default="0"),
        sa.Column("revoked_at", sa.BigInteger, nullable=True),
    )
    op.create_table(
        "auth_throttle",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("next_at", sa.BigInteger, nullable=False),
        sa.Column("locked_until", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_auth_throttle_updated_at", "auth_throttle", ["updated_at"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("actor_id", sa.String(36), nullable=True),
        sa.Column("target_id", sa.String(64), nullable=True),
        sa.Column("address", sa.String(64), nullable=True),
        sa.Column("detail", sa.Text, nullable=False, server_default="{}"),
    )
    op.create_index("ix_audit_at", "audit_log", ["at", "id"])
    op.create_index("ix_audit_actor", "audit_log", ["actor_id", "at"])
    op.create_index("ix_audit_target", "audit_log", ["target_id", "at"])
    op.create_index("ix_audit_action", "audit_log", ["action", "at"])
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("read_only", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("last_used_at", sa.BigInteger, nullable=True),
        sa.Column("revoked_at", sa.BigInteger, nullable=True),
    )
    op.create_index("ix_api_keys_user_id", "api_keys", ["user_id"])
    op.create_table(
        "totp_secrets",
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("secret", sa.String(64), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("enabled_at", sa.BigInteger, nullable=True),
        sa.Column("last_step", sa.BigInteger, nullable=True),
    )
    op.create_table(
        "recovery_codes",
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("code_hash", sa.String(64), primary_key=True),
        sa.Column("used_at", sa.BigInteger, nullable=True),
    )


def downgrade() -> None:
    for name in (
        "recovery_codes",
        "totp_secrets",
        "api_keys",
        "audit_log",
        "auth_throttle",
        "registration_tokens",
    ):
        op.drop_table(name)
    with op.batch_alter_table("users") as batch:
        batch.drop_column("deletion_requested_at")
        batch.drop_column("deactivated_at")
        batch.drop_column("is_agent")
        batch.drop_column("is_admin")
