"""Symbia (spec 002): conversation and message details, edit history, tenants,
capabilities and agent runs. Each sits beside a core row (a conversation, a
message) instead of widening it, so `/ws` and its hot insert path are unchanged."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, String, Table, Text

from hubbub.store.sql.tables.base import Ms, metadata

__all__ = [
    "capabilities",
    "conversation_details",
    "message_details",
    "message_edits",
    "org_members",
    "orgs",
    "stream_runs",
]

# What Symbia says about a conversation beyond the core row: its type, its
# tenant and the scope headers it was created under (X-Service-Id, X-Env,
# X-Data-Class, X-Policy-Ref).
conversation_details = Table(
    "conversation_details",
    metadata,
    Column("conversation_id", String(36), primary_key=True),
    Column("type", String(16), nullable=False),  # private | group
    Column("description", String(2048), nullable=True),
    Column("org_id", String(64), nullable=True),
    Column("metadata", Text, nullable=False, server_default="{}"),
    Column("updated_at", Ms, nullable=False),
    Column("service_id", String(128), nullable=True),
    Column("env", String(16), nullable=True),
    Column("data_class", String(8), nullable=False, server_default="none"),
    Column("policy_ref", String(256), nullable=True),
    Index("ix_conversation_details_org", "org_id", "updated_at"),
)

# A message's Symbia fields, written in the writer unit of its append.
message_details = Table(
    "message_details",
    metadata,
    Column("message_id", String(36), primary_key=True),
    Column("conversation_id", String(36), nullable=False),
    Column("content_type", String(32), nullable=False),
    Column("sender_type", String(8), nullable=False),
    Column("run_id", String(36), nullable=True),
    Column("trace_id", String(128), nullable=True),
    Column("priority", String(8), nullable=True),
    Column("interruptible", Boolean, nullable=True),
    Column("preempted_by", String(36), nullable=True),
    Column("metadata", Text, nullable=False, server_default="{}"),
    Column("org_id", String(64), nullable=True),
    Column("data_class", String(8), nullable=False, server_default="none"),
    Column("service_id", String(128), nullable=True),
    Column("policy_ref", String(256), nullable=True),
    Index("ix_message_details_run", "conversation_id", "run_id"),
)

# Earlier versions of edited messages: `content` was the text from
# `valid_from` until `replaced_at`. Dropped with the message when it is deleted.
message_edits = Table(
    "message_edits",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("message_id", String(36), nullable=False),
    Column("content", Text, nullable=False),
    Column("valid_from", Ms, nullable=False),
    Column("replaced_at", Ms, nullable=False),
    Index("ix_message_edits_message", "message_id", "replaced_at"),
)

orgs = Table(
    "orgs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(256), nullable=False),
    Column("created_at", Ms, nullable=False),
)

org_members = Table(
    "org_members",
    metadata,
    Column("org_id", String(64), primary_key=True),
    Column("user_id", String(36), primary_key=True),
    Column("role", String(8), nullable=False),  # admin | member
    Column("added_at", Ms, nullable=False),
    Index("ix_org_members_user", "user_id", "org_id"),
)

capabilities = Table(
    "capabilities",
    metadata,
    Column("user_id", String(36), primary_key=True),
    Column("capability", String(64), primary_key=True),
    Column("granted_by", String(36), nullable=True),
    Column("granted_at", Ms, nullable=False),
)

# The state of each agent run (a stream of messages sharing a run_id).
stream_runs = Table(
    "stream_runs",
    metadata,
    Column("conversation_id", String(36), primary_key=True),
    Column("run_id", String(36), primary_key=True),
    Column("state", String(16), nullable=False),  # active | paused | preempted | cancelled
    Column("owner_id", String(36), nullable=False),
    Column("priority", String(8), nullable=False, server_default="normal"),
    Column("interruptible", Boolean, nullable=False, server_default="1"),
    Column("preempted_by", String(36), nullable=True),
    Column("routed_to", String(36), nullable=True),
    Column("last_event", String(32), nullable=True),
    Column("last_message_id", String(36), nullable=True),
    Column("started_at", Ms, nullable=False),
    Column("updated_at", Ms, nullable=False),
)
