"""MTChat attachments in the shared blob store; keyset paging of dialogs.

An attachment's bytes become a blob (`blobs`, in the database on PostgreSQL,
so every node serves every file): `attachments.blob_id` names it once the
upload arrived. Unsent attachments are found by age for the orphan
collector (`ix_attachments_created`); `available` pages dialogs by
(created_at, id) (`ix_dialogs_created`). The webhook relay's cursor
(`relay_cursors` row `mtchat-webhooks`) is created at the stream's head the
first time a node with webhooks configured claims it, not here: turning
webhooks on does not send the host everything since the upgrade.

Revision ID: 0009_mtchat_blobs
Revises: 0007_symbia
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_mtchat_blobs"
down_revision = "0007_symbia"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("attachments") as batch:
        batch.add_column(sa.Column("blob_id", sa.String(64), nullable=True))
        batch.create_index("ix_attachments_created", ["created_at"])
    op.create_index("ix_dialogs_created", "dialogs", ["created_at", "conversation_id"])


def downgrade() -> None:
    op.execute("DELETE FROM relay_cursors WHERE name = 'mtchat-webhooks'")  # see above
    op.drop_index("ix_dialogs_created", table_name="dialogs")
    with op.batch_alter_table("attachments") as batch:
        batch.drop_index("ix_attachments_created")
        batch.drop_column("blob_id")
