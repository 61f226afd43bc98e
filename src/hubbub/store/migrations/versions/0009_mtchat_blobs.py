"""MTChat attachments in the shared blob store, and the webhook relay's cursor.

An attachment's bytes become a blob (`blobs`, in the database on PostgreSQL,
so every node serves every file): `attachments.blob_id` names it once the
upload arrived. Unsent attachments are found by age for the orphan
collector (`ix_attachments_created`); `available` pages dialogs by
(created_at, id) (`ix_dialogs_created`). The webhook relay reads the event
stream after its own cursor (`relay_cursors` row `mtchat-webhooks`), which
starts at the stream's head: events committed from now on are delivered.

Revision ID: 0009_mtchat_blobs
Revises: 0005_broadcasts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_mtchat_blobs"
down_revision = "0005_broadcasts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("attachments") as batch:
        batch.add_column(sa.Column("blob_id", sa.String(64), nullable=True))
        batch.create_index("ix_attachments_created", ["created_at"])
    op.create_index("ix_dialogs_created", "dialogs", ["created_at", "conversation_id"])
    head = op.get_bind().execute(sa.text("SELECT coalesce(max(pos), 0) FROM events")).scalar()
    cursors = sa.table(
        "relay_cursors",
        sa.column("name", sa.String),
        sa.column("pos", sa.BigInteger),
        sa.column("owner", sa.String),
        sa.column("lease_until", sa.BigInteger),
    )
    op.bulk_insert(
        cursors,
        [{"name": "mtchat-webhooks", "pos": int(head or 0), "owner": None, "lease_until": 0}],
    )


def downgrade() -> None:
    op.execute("DELETE FROM relay_cursors WHERE name = 'mtchat-webhooks'")
    op.drop_index("ix_dialogs_created", table_name="dialogs")
    with op.batch_alter_table("attachments") as batch:
        batch.drop_index("ix_attachments_created")
        batch.drop_column("blob_id")
