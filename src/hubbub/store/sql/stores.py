"""`SqlStores`: every area's store over one engine, writer and event stream.

The composition root builds this once and hands each core service only the
areas it needs, as Synapse's `storage/databases/main/<area>.py` stores share
one database pool. No single class holds every query; adding an area is
adding a field here (docs/areas.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from hubbub.store.sql.accounts import SqlAccounts
from hubbub.store.sql.admin import SqlAdmin
from hubbub.store.sql.apikeys import SqlApiKeys
from hubbub.store.sql.archive import SqlArchive
from hubbub.store.sql.attachments import SqlAttachments
from hubbub.store.sql.audit import SqlAudit
from hubbub.store.sql.away import SqlAway
from hubbub.store.sql.blobs import SqlBlobs
from hubbub.store.sql.blocks import SqlBlocks
from hubbub.store.sql.broadcasts import SqlBroadcasts
from hubbub.store.sql.capabilities import SqlCapabilities
from hubbub.store.sql.chat_backgrounds import SqlChatBackgrounds
from hubbub.store.sql.chatevents import SqlRelay
from hubbub.store.sql.contact_sync import SqlContactSync
from hubbub.store.sql.conversation_details import SqlConversationDetails
from hubbub.store.sql.conversations import SqlConversations
from hubbub.store.sql.dialogs import SqlDialogs
from hubbub.store.sql.edits import SqlEdits
from hubbub.store.sql.events import SqlEvents
from hubbub.store.sql.external_users import SqlExternalUsers
from hubbub.store.sql.group_events import SqlGroupEvents
from hubbub.store.sql.groups import SqlGroups
from hubbub.store.sql.history import SqlHistory
from hubbub.store.sql.info_visibility import SqlInfoVisibility
from hubbub.store.sql.keys import SqlKeys
from hubbub.store.sql.mentions import SqlMentions
from hubbub.store.sql.message_details import SqlMessageDetails
from hubbub.store.sql.messages import SqlMessages
from hubbub.store.sql.moderation_reports import SqlReports
from hubbub.store.sql.notification_previews import SqlNotificationPreviews
from hubbub.store.sql.pins import SqlPins
from hubbub.store.sql.polls import SqlPolls
from hubbub.store.sql.presence import SqlLastSeen
from hubbub.store.sql.presence_settings import SqlPresenceSettings
from hubbub.store.sql.profile import SqlProfiles
from hubbub.store.sql.reactions import SqlReactions
from hubbub.store.sql.reads import SqlReads
from hubbub.store.sql.rooms import SqlRooms
from hubbub.store.sql.search import SqlSearch
from hubbub.store.sql.signin import SqlRegistration
from hubbub.store.sql.status_updates import SqlStatusUpdates
from hubbub.store.sql.sync import SqlCursors
from hubbub.store.sql.tenants import SqlTenants
from hubbub.store.sql.throttle import SqlThrottle
from hubbub.store.sql.timers import SqlExpiries
from hubbub.store.sql.totp import SqlTotp
from hubbub.store.sql.writer import GroupCommitWriter

__all__ = ["SqlStores"]


@dataclass
class SqlStores:
    engine: AsyncEngine
    writer: GroupCommitWriter
    events: SqlEvents
    accounts: SqlAccounts
    blocks: SqlBlocks
    conversations: SqlConversations
    groups: SqlGroups
    messages: SqlMessages
    timers: SqlExpiries
    keys: SqlKeys
    profiles: SqlProfiles
    presence: SqlLastSeen
    presence_settings: SqlPresenceSettings
    sync: SqlCursors
    reactions: SqlReactions
    mentions: SqlMentions
    polls: SqlPolls
    group_events: SqlGroupEvents
    admin: SqlAdmin
    registration: SqlRegistration
    audit: SqlAudit
    throttle: SqlThrottle
    apikeys: SqlApiKeys
    totp: SqlTotp
    rooms: SqlRooms
    blobs: SqlBlobs
    chatevents: SqlRelay
    external_users: SqlExternalUsers
    dialogs: SqlDialogs
    history: SqlHistory
    edits: SqlEdits
    reads: SqlReads
    archive: SqlArchive
    pins: SqlPins
    chat_backgrounds: SqlChatBackgrounds
    info_visibility: SqlInfoVisibility
    search: SqlSearch
    contact_sync: SqlContactSync
    attachments: SqlAttachments
    broadcasts: SqlBroadcasts
    tenants: SqlTenants
    capabilities: SqlCapabilities
    conversation_details: SqlConversationDetails
    message_details: SqlMessageDetails
    notification_previews: SqlNotificationPreviews
    status_updates: SqlStatusUpdates
    moderation_reports: SqlReports
    away: SqlAway

    @classmethod
    def build(
        cls, engine: AsyncEngine, writer: GroupCommitWriter, clock_ms: Callable[[], int]
    ) -> SqlStores:
        args = (engine, writer, clock_ms)
        return cls(
            engine=engine,
            writer=writer,
            events=SqlEvents(*args),
            accounts=SqlAccounts(*args),
            blocks=SqlBlocks(*args),
            conversations=SqlConversations(*args),
            groups=SqlGroups(*args),
            messages=SqlMessages(*args),
            timers=SqlExpiries(*args),
            keys=SqlKeys(*args),
            profiles=SqlProfiles(*args),
            presence=SqlLastSeen(*args),
            presence_settings=SqlPresenceSettings(*args),
            sync=SqlCursors(*args),
            reactions=SqlReactions(*args),
            mentions=SqlMentions(*args),
            polls=SqlPolls(*args),
            group_events=SqlGroupEvents(*args),
            admin=SqlAdmin(*args),
            registration=SqlRegistration(*args),
            audit=SqlAudit(*args),
            throttle=SqlThrottle(*args),
            apikeys=SqlApiKeys(*args),
            totp=SqlTotp(*args),
            rooms=SqlRooms(*args),
            blobs=SqlBlobs(*args),
            chatevents=SqlRelay(*args),
            external_users=SqlExternalUsers(*args),
            dialogs=SqlDialogs(*args),
            history=SqlHistory(*args),
            edits=SqlEdits(*args),
            reads=SqlReads(*args),
            archive=SqlArchive(*args),
            pins=SqlPins(*args),
            chat_backgrounds=SqlChatBackgrounds(*args),
            info_visibility=SqlInfoVisibility(*args),
            search=SqlSearch(*args),
            contact_sync=SqlContactSync(*args),
            attachments=SqlAttachments(*args),
            broadcasts=SqlBroadcasts(*args),
            tenants=SqlTenants(*args),
            capabilities=SqlCapabilities(*args),
            conversation_details=SqlConversationDetails(*args),
            message_details=SqlMessageDetails(*args),
            notification_previews=SqlNotificationPreviews(*args),
            status_updates=SqlStatusUpdates(*args),
            moderation_reports=SqlReports(*args),
            away=SqlAway(*args),
        )
