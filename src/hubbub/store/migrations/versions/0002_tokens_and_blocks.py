"""Device sessions and blocks: token ids and last use; the `blocks` table.

Existing tokens get a fresh random id each (never derived from the hash, which
must not leave the server) and no `last_used_at` (unknown).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tokens") as batch:
        batch.add_column(sa.Column("id", sa.String(36), nullable=True))
        batch.add_column(sa.Column("last_used_at", sa.BigInteger, nullable=True))
    tokens = sa.table("tokens", sa.column("token_hash", sa.String), sa.column("id", sa.String))
    conn = op.get_bind()
    for (token_hash,) in conn.execute(sa.select(tokens.c.token_hash)).all():
        conn.execute(
            sa.update(tokens).where(tokens.c.token_hash == token_hash).values(id=str(uuid.uuid4()))
        )
    with op.batch_alter_table("tokens") as batch:
        batch.alter_column("id", existing_type=sa.String(36), nullable=False)
        batch.create_index("ix_tokens_id", ["id"], unique=True)
    op.create_table(
        "blocks",
        sa.Column("blocker_id", sa.String(36), primary_key=True),
        sa.Column("blocked_id", sa.String(36), primary_key=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_blocks_blocked", "blocks", ["blocked_id", "blocker_id"])


def downgrade() -> None:
    op.drop_table("blocks")
    with op.batch_alter_table("tokens") as batch:
        batch.drop_index("ix_tokens_id")
        batch.drop_column("last_used_at")
        batch.drop_column("id")
