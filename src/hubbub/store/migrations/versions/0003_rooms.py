"""The public room (spec 001), blobs, and the chat-event relay (spec 004).

`room_users` lists who has been in the room, `blobs` holds uploaded files
(or only their metadata, with the filesystem store), `relay_cursors` how far
the chat-event relay has published the stream. Messages get the origin the
relay needs (trace, session, client).

Revision ID: 0003_rooms
Revises: 0003_operators
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_rooms"
down_revision = "0003_operators"
branch_labels = None
depends_on = None

Pos = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "room_users",
        sa.Column("room_id", sa.String(36), primary_key=True),
        sa.Column("handle", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("username_key", sa.String(64), nullable=False),
        sa.Column("account_bound", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("last_active", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("room_id", "user_id", name="uq_room_user"),
    )
    op.create_index("ix_room_users_name", "room_users", ["room_id", "username_key"])
    op.create_table(
        "blobs",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("owner_id", sa.String(36), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("mime", sa.String(128), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=True),
    )
    op.create_table(
        "relay_cursors",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("pos", Pos, nullable=False),
        sa.Column("owner", sa.String(128), nullable=True),
        sa.Column("lease_until", sa.BigInteger, nullable=False),
    )
    # The relay starts at the stream's head: every message committed from now
    # on gets its personalChatSent, whichever node relays first.
    head = op.get_bind().execute(sa.text("SELECT coalesce(max(pos), 0) FROM events")).scalar()
    cursors = sa.table(
        "relay_cursors",
        sa.column("name", sa.String),
        sa.column("pos", sa.BigInteger),
        sa.column("owner", sa.String),
        sa.column("lease_until", sa.BigInteger),
    )
    op.bulk_insert(
        cursors, [{"name": "chatevents", "pos": int(head or 0), "owner": None, "lease_until": 0}]
    )
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("trace_parent", sa.String(64), nullable=True))
        batch.add_column(sa.Column("session_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("client_id", sa.String(128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("client_id")
        batch.drop_column("session_id")
        batch.drop_column("trace_parent")
    op.drop_table("relay_cursors")
    op.drop_table("blobs")
    op.drop_index("ix_room_users_name", "room_users")
    op.drop_table("room_users")
