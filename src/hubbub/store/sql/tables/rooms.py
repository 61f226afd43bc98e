"""The public room (spec 001), blobs and who may fetch them, shared secrets,
the chat-event relay (spec 004)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
)

from hubbub.store.sql.tables.base import Ms, Pos, metadata

__all__ = ["blob_refs", "blobs", "relay_cursors", "room_users", "server_secrets"]

# an anonymous handle, the account's id for one bound by a token).
# `username_key` is the casefolded name, for "is this name taken".
room_users = Table(
    "room_users",
    metadata,
    Column("room_id", String(36), primary_key=True),
    Column("handle", String(64), primary_key=True),
    Column("user_id", String(36), nullable=False),
    Column("username", String(64), nullable=False),
    Column("username_key", String(64), nullable=False),
    Column("account_bound", Boolean, nullable=False, server_default="0"),
    Column("created_at", Ms, nullable=False),
    Column("last_active", Ms, nullable=False),
    UniqueConstraint("room_id", "user_id", name="uq_room_user"),
    Index("ix_room_users_name", "room_id", "username_key"),
)

# Uploaded files. `data` holds the bytes when blobs live in the database
# (PostgreSQL deployments); with the filesystem store it is NULL and the
# bytes are a file under the data dir named by `id`.
blobs = Table(
    "blobs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("owner_id", String(36), nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("name", String(255), nullable=False),
    Column("mime", String(128), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("created_at", Ms, nullable=False),
    Column("data", LargeBinary, nullable=True),
)

# How far a relay (the chat-event relay of spec 004) has published the event
# stream, and which node holds it: one row per relay, leased so that one node
# relays at a time and another takes over when the lease runs out.
relay_cursors = Table(
    "relay_cursors",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("pos", Pos, nullable=False),
    Column("owner", String(128), nullable=True),
    Column("lease_until", Ms, nullable=False),
)

# Accounts of other systems' users (MTChat's host application ids), created
# on first use: `namespace` keeps two protocols' id spaces apart.

# Which conversations a blob belongs to (a voice note's, and those it was
# forwarded to): downloads are for their members. Written before the message
# that carries the blob commits.
blob_refs = Table(
    "blob_refs",
    metadata,
    Column("blob_id", String(64), primary_key=True),
    Column("conversation_id", String(36), primary_key=True),
    Column("message_id", String(36), nullable=False),
    Column("created_at", Ms, nullable=False),
)

# Secrets every node must share (the key that signs blob URLs), created by
# the first node that needs one: never a per-process random value.
server_secrets = Table(
    "server_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(128), nullable=False),
    Column("created_at", Ms, nullable=False),
)
