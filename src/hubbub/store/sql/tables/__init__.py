"""The schema, declared once for SQLAlchemy Core and mirrored by migrations.

Streams follow Synapse: an event is written once, to its conversation (scope
`c`), to one user (scope `u`), or to everyone who shares a conversation with
its actor (scope `a`); its global `pos` is the `seq` every recipient sees.
A user's change feed is the union of those streams, cut by membership windows
(`joined_pos`, `left_pos`) so a member sees only what happened while they were
in. Times are integer milliseconds since the epoch.

Declared per area in this package over one metadata (`base.py`) and
re-exported here, so stores write `from hubbub.store.sql import tables as t`.
"""

from __future__ import annotations

from hubbub.store.sql.tables.away import away_replies, away_settings, greetings
from hubbub.store.sql.tables.base import Ms, Pos, metadata
from hubbub.store.sql.tables.broadcasts import (
    broadcast_acks,
    broadcast_channels,
    broadcast_publishers,
    broadcast_segment_members,
    broadcast_subscriptions,
    broadcasts,
)
from hubbub.store.sql.tables.chat_settings import chat_backgrounds
from hubbub.store.sql.tables.contact_sync import contact_discovery, contact_syncs
from hubbub.store.sql.tables.content import (
    group_event_reminders,
    group_event_rsvps,
    group_events,
    mentions,
    poll_votes,
    polls,
    reactions,
    request_keys,
)
from hubbub.store.sql.tables.core import (
    blocks,
    conversations,
    device_cursors,
    events,
    members,
    messages,
    public_keys,
    receipts,
    timers,
    tokens,
    users,
)
from hubbub.store.sql.tables.moderation import moderation_reports
from hubbub.store.sql.tables.mtchat import (
    archives,
    attachments,
    dialog_profiles,
    dialogs,
    external_users,
    read_positions,
)
from hubbub.store.sql.tables.previews import (
    notification_preview_acks,
    notification_preview_configs,
)
from hubbub.store.sql.tables.privacy import info_visibility, presence_settings
from hubbub.store.sql.tables.rooms import (
    blob_refs,
    blobs,
    relay_cursors,
    room_users,
    server_secrets,
)
from hubbub.store.sql.tables.security import (
    api_keys,
    audit_log,
    auth_throttle,
    recovery_codes,
    registration_tokens,
    totp_secrets,
)
from hubbub.store.sql.tables.statuses import (
    status_mute_acks,
    status_mutes,
    status_requests,
    status_visibility,
    statuses,
)
from hubbub.store.sql.tables.symbia import (
    capabilities,
    conversation_details,
    message_details,
    message_edits,
    org_members,
    orgs,
    stream_runs,
)

__all__ = [
    "Ms",
    "Pos",
    "api_keys",
    "archives",
    "attachments",
    "audit_log",
    "auth_throttle",
    "away_replies",
    "away_settings",
    "blob_refs",
    "blobs",
    "blocks",
    "broadcast_acks",
    "broadcast_channels",
    "broadcast_publishers",
    "broadcast_segment_members",
    "broadcast_subscriptions",
    "broadcasts",
    "capabilities",
    "chat_backgrounds",
    "contact_discovery",
    "contact_syncs",
    "conversation_details",
    "conversations",
    "device_cursors",
    "dialog_profiles",
    "dialogs",
    "events",
    "external_users",
    "greetings",
    "group_event_reminders",
    "group_event_rsvps",
    "group_events",
    "info_visibility",
    "members",
    "mentions",
    "message_details",
    "message_edits",
    "messages",
    "metadata",
    "moderation_reports",
    "notification_preview_acks",
    "notification_preview_configs",
    "org_members",
    "orgs",
    "poll_votes",
    "polls",
    "presence_settings",
    "public_keys",
    "reactions",
    "read_positions",
    "receipts",
    "recovery_codes",
    "registration_tokens",
    "relay_cursors",
    "request_keys",
    "room_users",
    "server_secrets",
    "status_mute_acks",
    "status_mutes",
    "status_requests",
    "status_visibility",
    "statuses",
    "stream_runs",
    "timers",
    "tokens",
    "totp_secrets",
    "users",
]
