"""Operators and account security (docs/security.md)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from hubbub.store.sql.tables.base import Ms, metadata

__all__ = [
    "api_keys",
    "audit_log",
    "auth_throttle",
    "recovery_codes",
    "registration_tokens",
    "totp_secrets",
]

# -- operators and account security (docs/security.md) -------------------------

# Invitations to register while `--registration token`: only the SHA-256 of
# the token is kept. `uses_allowed` None = unlimited until `expires_at`.
registration_tokens = Table(
    "registration_tokens",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_by", String(36), nullable=True),
    Column("created_at", Ms, nullable=False),
    Column("expires_at", Ms, nullable=True),
    Column("uses_allowed", Integer, nullable=True),
    Column("uses", Integer, nullable=False, server_default="0"),
    Column("revoked_at", Ms, nullable=True),
)

# Failed sign-ins and registrations per key ("la:<address>", "lu:<user>",
# "ra:<address>", "ok:<user>:<address>"), shared by every node.
auth_throttle = Table(
    "auth_throttle",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("next_at", Ms, nullable=False),
    Column("locked_until", Ms, nullable=False),
    Column("updated_at", Ms, nullable=False, index=True),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("at", Ms, nullable=False),
    Column("action", String(64), nullable=False),
    Column("actor_id", String(36), nullable=True),
    Column("target_id", String(64), nullable=True),
    Column("address", String(64), nullable=True),
    Column("detail", Text, nullable=False, server_default="{}"),
    Index("ix_audit_at", "at", "id"),
    Index("ix_audit_actor", "actor_id", "at"),
    Index("ix_audit_target", "target_id", "at"),
    Index("ix_audit_action", "action", "at"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("user_id", String(36), nullable=False, index=True),
    Column("name", String(64), nullable=False),
    Column("read_only", Boolean, nullable=False, server_default="0"),
    Column("created_at", Ms, nullable=False),
    Column("last_used_at", Ms, nullable=True),
    Column("revoked_at", Ms, nullable=True),
)

# `enabled_at` is None while enrolment awaits its first code; `last_step` is
# the RFC 6238 time step of the last code accepted (a code is good once).
totp_secrets = Table(
    "totp_secrets",
    metadata,
    Column("user_id", String(36), primary_key=True),
    Column("secret", String(64), nullable=False),
    Column("created_at", Ms, nullable=False),
    Column("enabled_at", Ms, nullable=True),
    Column("last_step", BigInteger, nullable=True),
)

recovery_codes = Table(
    "recovery_codes",
    metadata,
    Column("user_id", String(36), primary_key=True),
    Column("code_hash", String(64), primary_key=True),
    Column("used_at", Ms, nullable=True),
)

# The public room of spec 001: who has been in it. `handle` is the client's
# own `id`; `user_id` the member id in the room's conversation (a fresh id for
