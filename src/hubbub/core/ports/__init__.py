"""The ports the core needs, one small Protocol per area; `hubbub.store` and
`hubbub.bus` implement them.

A core service takes only the ports it uses (`Messages` takes message
appends and receipts, not tokens), so each area's storage can change without
touching the others. The shared part is the event stream (`events.py`):
every area that appends events goes through the same stream and writer.

Each method is one unit of business state change or one read. Methods that
append to the event stream return the stored events with their positions;
the caller publishes them only after they return, i.e. after the commit.
"""

from hubbub.core.ports.accounts import AccountStore, UserDirectory
from hubbub.core.ports.archive import ArchiveStore
from hubbub.core.ports.attachments import AttachmentStore
from hubbub.core.ports.away import AwaySettings, AwayStore, DirectChat
from hubbub.core.ports.blobs import BlobRefStore, BlobStore
from hubbub.core.ports.blocks import BlockStore
from hubbub.core.ports.broadcasts import BroadcastStore
from hubbub.core.ports.bus import Bus, PresenceRegistry
from hubbub.core.ports.chat_backgrounds import Background, ChatBackgroundStore
from hubbub.core.ports.contact_sync import ContactSyncStore
from hubbub.core.ports.conversation_details import ConversationDetailStore
from hubbub.core.ports.conversations import Contacts, ConversationStore
from hubbub.core.ports.dialogs import DialogStore
from hubbub.core.ports.edits import EditStore
from hubbub.core.ports.events import EventStream
from hubbub.core.ports.external_users import ExternalUserStore
from hubbub.core.ports.group_events import GroupEventRecord, GroupEventStore
from hubbub.core.ports.groups import GroupStore
from hubbub.core.ports.history import HistoryStore
from hubbub.core.ports.info_visibility import InfoVisibilityStore
from hubbub.core.ports.keys import KeyStore
from hubbub.core.ports.mentions import MentionStore
from hubbub.core.ports.message_details import MessageDetailStore
from hubbub.core.ports.messages import MessageStore
from hubbub.core.ports.moderation_reports import Report, ReportStore
from hubbub.core.ports.notification_previews import NotificationPreviewStore, PreviewConfig
from hubbub.core.ports.pins import PinStore
from hubbub.core.ports.polls import PollRecord, PollStore
from hubbub.core.ports.presence import LastSeenStore
from hubbub.core.ports.presence_settings import PresenceSettingStore, PresenceVisibility
from hubbub.core.ports.profile import ProfileStore
from hubbub.core.ports.reactions import ReactionStore
from hubbub.core.ports.reads import ReadStore
from hubbub.core.ports.rooms import RoomStore
from hubbub.core.ports.search import SearchStore
from hubbub.core.ports.status_updates import StatusRecord, StatusStore, StatusVisibilityStore
from hubbub.core.ports.sync import CursorStore
from hubbub.core.ports.tenants import CapabilityStore, TenantStore
from hubbub.core.ports.timers import ExpiryStore
from hubbub.core.ports.webhooks import Delivery, WebhookTransport

__all__ = [
    "AccountStore",
    "ArchiveStore",
    "AttachmentStore",
    "AwaySettings",
    "AwayStore",
    "Background",
    "BlobRefStore",
    "BlobStore",
    "BlockStore",
    "BroadcastStore",
    "Bus",
    "CapabilityStore",
    "ChatBackgroundStore",
    "ContactSyncStore",
    "Contacts",
    "ConversationDetailStore",
    "ConversationStore",
    "CursorStore",
    "Delivery",
    "DialogStore",
    "DirectChat",
    "EditStore",
    "EventStream",
    "ExpiryStore",
    "ExternalUserStore",
    "GroupEventRecord",
    "GroupEventStore",
    "GroupStore",
    "HistoryStore",
    "InfoVisibilityStore",
    "KeyStore",
    "LastSeenStore",
    "MentionStore",
    "MessageDetailStore",
    "MessageStore",
    "NotificationPreviewStore",
    "PinStore",
    "PollRecord",
    "PollStore",
    "PresenceRegistry",
    "PresenceSettingStore",
    "PresenceVisibility",
    "PreviewConfig",
    "ProfileStore",
    "ReactionStore",
    "ReadStore",
    "Report",
    "ReportStore",
    "RoomStore",
    "SearchStore",
    "StatusRecord",
    "StatusStore",
    "StatusVisibilityStore",
    "TenantStore",
    "UserDirectory",
    "WebhookTransport",
]
