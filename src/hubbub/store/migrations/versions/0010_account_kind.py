"""Accounts have a kind: user | agent | service | bot (`users.kind`).

`is_agent` could say only person or agent; Symbia's `sender_type` also names
services and bots, and a message's sender type comes from its account. The
upgrade carries every agent over (`is_agent` true -> `agent`, else `user`);
the downgrade keeps agents as agents and turns services and bots into
agents too (the nearest the old column can say: not a person).

Revision ID: 0010_account_kind
Revises: 0009_mtchat_blobs
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_account_kind"
down_revision = "0009_mtchat_blobs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("kind", sa.String(8), nullable=False, server_default="user"))
    op.execute(sa.text("UPDATE users SET kind = 'agent' WHERE is_agent"))
    with op.batch_alter_table("users") as batch:
        batch.drop_column("is_agent")


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("is_agent", sa.Boolean, nullable=False, server_default=sa.false())
        )
    op.execute(sa.text("UPDATE users SET is_agent = (kind <> 'user')"))
    with op.batch_alter_table("users") as batch:
        batch.drop_column("kind")
