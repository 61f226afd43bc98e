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
from hubbub.store.sql.archive import SqlArchive
from hubbub.store.sql.attachments import SqlAttachments
from hubbub.store.sql.blocks import SqlBlocks
from hubbub.store.sql.conversations import SqlConversations
from hubbub.store.sql.dialogs import SqlDialogs
from hubbub.store.sql.edits import SqlEdits
from hubbub.store.sql.events import SqlEvents
from hubbub.store.sql.external_users import SqlExternalUsers
from hubbub.store.sql.groups import SqlGroups
from hubbub.store.sql.history import SqlHistory
from hubbub.store.sql.keys import SqlKeys
from hubbub.store.sql.messages import SqlMessages
from hubbub.store.sql.presence import SqlLastSeen
from hubbub.store.sql.profile import SqlProfiles
from hubbub.store.sql.reads import SqlReads
from hubbub.store.sql.sync import SqlCursors
from hubbub.store.sql.timers import SqlExpiries
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
    sync: SqlCursors
    external_users: SqlExternalUsers
    dialogs: SqlDialogs
    history: SqlHistory
    edits: SqlEdits
    reads: SqlReads
    archive: SqlArchive
    attachments: SqlAttachments

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
            sync=SqlCursors(*args),
            external_users=SqlExternalUsers(*args),
            dialogs=SqlDialogs(*args),
            history=SqlHistory(*args),
            edits=SqlEdits(*args),
            reads=SqlReads(*args),
            archive=SqlArchive(*args),
            attachments=SqlAttachments(*args),
        )
