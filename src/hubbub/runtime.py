"""The composition root: builds one node from `Settings`, with no globals.

Everything is constructed here and handed down; tests and benchmarks build
their own node the same way.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from hubbub.bus.inprocess import InProcessBus, LocalPresence
from hubbub.clock import Clock, SystemClock
from hubbub.config import Settings
from hubbub.core.accounts import Accounts
from hubbub.core.admin import Admin
from hubbub.core.apikeys import ApiKeys
from hubbub.core.archive import Archive
from hubbub.core.attachments import Attachments
from hubbub.core.audit import Audit
from hubbub.core.away import INVALIDATE_PREFIX as AWAY_KEY
from hubbub.core.away import Away
from hubbub.core.blob_access import BlobAccess
from hubbub.core.blobs import BlobPolicy, Blobs
from hubbub.core.blocks import Blocks
from hubbub.core.broadcasts import Broadcasts
from hubbub.core.calls import Calls
from hubbub.core.capabilities import Capabilities
from hubbub.core.chat_backgrounds import ChatBackgrounds
from hubbub.core.chatevents import ChatEvents, ChatRelay
from hubbub.core.contact_sync import ContactSync
from hubbub.core.conversation_details import ConversationDetails
from hubbub.core.conversations import Conversations
from hubbub.core.credential_cache import CredentialCache
from hubbub.core.dialogs import Dialogs
from hubbub.core.edits import Edits
from hubbub.core.external_users import ExternalUsers
from hubbub.core.forwards import Forwards
from hubbub.core.group_events import REMINDER_TIMER, GroupEvents
from hubbub.core.group_members import GroupMembers
from hubbub.core.groups import Groups
from hubbub.core.heartbeats import Heartbeats
from hubbub.core.history import History
from hubbub.core.info_visibility import InfoVisibility
from hubbub.core.keys import Keys
from hubbub.core.mentions import Mentions
from hubbub.core.message_details import MessageDetails
from hubbub.core.messages import Messages
from hubbub.core.model import Notification
from hubbub.core.moderation_reports import ModerationReports
from hubbub.core.notification_previews import NotificationPreviews
from hubbub.core.pins import Pins
from hubbub.core.polls import POLL_TIMER, Polls
from hubbub.core.ports import BlobStore, Bus, PresenceRegistry
from hubbub.core.ports.chatevents import ChatEventSink
from hubbub.core.presence import Presence
from hubbub.core.presence_settings import PresenceSettings
from hubbub.core.profile import Profiles
from hubbub.core.publisher import Publisher
from hubbub.core.reactions import Reactions
from hubbub.core.reads import Reads
from hubbub.core.rooms import RoomPolicy, Rooms
from hubbub.core.search import Search
from hubbub.core.signin import SignIn
from hubbub.core.status import StatusService
from hubbub.core.status_updates import STATUS_TIMER, StatusUpdates
from hubbub.core.status_visibility import StatusVisibility
from hubbub.core.stickers import Stickers
from hubbub.core.sync import Sync
from hubbub.core.tenants import Tenants
from hubbub.core.throttle import Throttle, ThrottlePolicy
from hubbub.core.timers import ExpiryWorker
from hubbub.core.totp import Totp
from hubbub.core.typing_status import TypingStatus
from hubbub.core.voice import Voice, VoicePolicy
from hubbub.realtime.dispatch import Dispatcher
from hubbub.realtime.hub import Hub
from hubbub.realtime.outbox import Flusher
from hubbub.realtime.previews import LivePreviews
from hubbub.store.sql.engine import create_engine
from hubbub.store.sql.migrate import migrate
from hubbub.store.sql.stores import SqlStores
from hubbub.store.sql.writer import GroupCommitWriter

if TYPE_CHECKING:
    from hubbub.blobs.s3 import S3Blobs

__all__ = ["Metrics", "Node", "throttle_policy"]

log = logging.getLogger("hubbub")


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.connections = Gauge("hubbub_ws_connections", "Open /ws connections", registry=r)
        self.frames_in = Counter("hubbub_ws_frames_in", "Client frames received", registry=r)
        self.frames_out = Counter("hubbub_ws_frames_out", "Frames written to clients", registry=r)
        self.socket_writes = Counter(
            "hubbub_ws_socket_writes",
            "Socket writes carrying those frames (frames_out / socket_writes = frames per write)",
            registry=r,
        )
        self.errors = Counter("hubbub_ws_errors", "Error replies by code", ["code"], registry=r)
        self.batch = Histogram(
            "hubbub_store_commit_batch",
            "Units per group commit",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
            registry=r,
        )
        self.slow_consumers = Counter(
            "hubbub_ws_slow_consumer_disconnects", "Connections cut for not reading", registry=r
        )
        self.gc_pause = Histogram(
            "hubbub_gc_pause_seconds",
            "Cyclic garbage collector pauses, by generation (the event loop stands still)",
            ["generation"],
            buckets=(0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0),
            registry=r,
        )


def throttle_policy(s: Settings) -> ThrottlePolicy:
    return ThrottlePolicy(
        enabled=s.auth_rate_limit,
        account_free=s.login_account_free,
        account_lockout=s.login_account_lockout,
        address_free=s.login_address_free,
        address_lockout=s.login_address_lockout,
        delay_base_ms=s.login_delay_base_ms,
        delay_max_ms=s.login_delay_max_ms,
        lockout_ms=int(s.login_lockout_s * 1000),
        failure_window_ms=int(s.login_failure_window_s * 1000),
        known_address_ms=int(s.login_known_address_days * 24 * 3600_000),
        registrations_per_address=s.registrations_per_address,
        registration_window_ms=int(s.registration_window_s * 1000),
    )


class Node:
    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.node_id = settings.node_id or "node-" + secrets.token_hex(4)
        self.metrics = Metrics()
        self.engine = create_engine(settings.resolved_database_url, pool_size=settings.db_pool_size)
        self.writer = GroupCommitWriter(
            self.engine, max_batch=settings.writer_max_batch, on_batch=self.metrics.batch.observe
        )
        self.stores = st = SqlStores.build(self.engine, self.writer, self.clock.now_ms)
        self.bus: Bus
        self.registry: PresenceRegistry
        self.bus, self.registry = self._make_bus()
        self.publisher = Publisher(self.bus)
        self.conversations = Conversations(
            st.conversations, st.accounts, self.publisher, self.clock
        )
        self.groups = Groups(
            st.groups,
            st.conversations,
            st.accounts,
            st.blocks,
            self.conversations,
            self.publisher,
            self.clock,
        )
        self.blocks = Blocks(
            st.blocks, st.accounts, st.conversations, self.conversations, self.publisher, self.clock
        )
        self.throttle = Throttle(st.throttle, self.clock, throttle_policy(settings))
        self.accounts = Accounts(
            st.accounts,
            self.publisher,
            self.clock,
            time_cost=settings.argon2_time_cost,
            memory_kib=settings.argon2_memory_kib,
            throttle=self.throttle,
        )
        self.audit = Audit(st.audit, self.clock)
        self.admin = Admin(self.accounts, st.admin, st.registration, self.audit, self.clock)
        self.apikeys = ApiKeys(st.apikeys, self.publisher, self.audit, self.clock)
        self.credentials = CredentialCache(self.clock)
        self.publisher.on_revoke.append(self.credentials.forget)
        self.totp = Totp(st.totp, self.accounts, self.audit, self.clock)
        self.signin = SignIn(
            self.accounts,
            self.throttle,
            self.audit,
            registration=settings.registration,
            second_factor=self.totp,
        )
        self.messages = Messages(
            st.messages, st.events, self.conversations, self.publisher, self.clock
        )
        self.keys = Keys(st.keys, st.accounts, st.conversations, self.publisher, self.clock)
        self.calls = Calls(st.conversations, self.publisher, self.clock)
        self.info_visibility = InfoVisibility(st.info_visibility, self.publisher, self.clock)
        self.profiles = Profiles(
            st.profiles, st.conversations, self.publisher, self.clock, self.info_visibility
        )
        self.presence_settings = PresenceSettings(st.presence_settings, self.clock)
        self.presence = Presence(
            st.presence,
            st.conversations,
            self.publisher,
            self.clock,
            self.registry,
            self.presence_settings,
        )
        self.heartbeats = Heartbeats(
            self.presence, self.clock, int(settings.mtchat_presence_ttl_s * 1000)
        )
        self._heartbeat_wake = asyncio.Event()
        self.typing = TypingStatus(
            self.conversations, self.publisher, self.clock, int(settings.typing_ttl_s * 1000)
        )
        self._typing_wake = asyncio.Event()
        self.typing.on_scheduled.append(self._typing_wake.set)
        self._typing_task: asyncio.Task[None] | None = None
        self._heartbeat_task: asyncio.Task[None] | None = None
        self._archive_task: asyncio.Task[None] | None = None
        self.sync = Sync(st.events, st.sync, self.clock, settings.sync_page_size)
        self.sync.info_visibility = self.info_visibility
        self.status = StatusService(st.events, self.bus, self.clock, self.node_id)
        self.expiry = ExpiryWorker(st.timers, self.conversations, self.publisher, self.clock)
        self.messages.on_timer_scheduled.append(self.expiry.schedule_hint)
        self.messages.mentions = Mentions(st.mentions, st.accounts, st.conversations, self.clock)
        self.messages.mention_store = st.mentions
        self.mentions = self.messages.mentions
        self.reactions = Reactions(
            st.reactions, st.messages, self.conversations, self.publisher, self.clock
        )
        self.stickers = Stickers(self.messages, self.conversations, self.clock)
        self.forwards = Forwards(st.messages, self.messages, self.conversations, self.clock)
        self.polls = Polls(st.polls, self.conversations, self.publisher, self.clock)
        self.polls.on_timer_scheduled.append(self.expiry.schedule_hint)
        self.expiry.register(POLL_TIMER, self.polls.close_due)
        self.group_events = GroupEvents(
            st.group_events, self.conversations, self.publisher, self.clock
        )
        self.group_events.on_timer_scheduled.append(self.expiry.schedule_hint)
        self.expiry.register(REMINDER_TIMER, self.group_events.fire_due)
        self.broadcasts = Broadcasts(st.broadcasts, st.accounts, self.publisher, self.clock)
        self._s3: S3Blobs | None = None
        self.blobs = Blobs(self._make_blob_store(), self.clock)
        self.voice = Voice(
            self.messages, self.conversations, self.blobs, st.blobs, self.clock,
            VoicePolicy(settings.voice_max_bytes, settings.voice_max_duration_ms),
        )  # fmt: skip
        self.forwards.voice = self.voice
        self.status_visibility = StatusVisibility(
            st.status_updates, st.status_updates, self.publisher, self.clock
        )
        self.status_updates = StatusUpdates(
            st.status_updates, self.status_visibility, self.blobs, self.publisher, self.clock,
            int(settings.status_ttl_s * 1000),
        )  # fmt: skip
        self.status_updates.on_timer_scheduled.append(self.expiry.schedule_hint)
        self.expiry.register(STATUS_TIMER, self.status_updates.expire_due)
        self.blob_access = BlobAccess(
            self.blobs, st.blobs, self.conversations, self.clock,
            int(settings.blob_url_ttl_s * 1000),
        )  # fmt: skip
        self.blob_access.readers.append(self.status_updates.may_read_blob)
        self.rooms = Rooms(
            st.rooms,
            self.messages,
            self.blobs,
            st.blobs,
            self.conversations,
            self.publisher,
            self.registry,
            self.clock,
            RoomPolicy(
                history=settings.simplechat_history,
                user_list_limit=settings.simplechat_user_list_limit,
                files=BlobPolicy(
                    "room",
                    settings.simplechat_max_file_bytes,
                    frozenset(t.lower() for t in settings.simplechat_file_types),
                ),
            ),
        )
        self.chat_events_sink: ChatEventSink = self._make_chat_events_sink()
        self.chat_events = ChatEvents(
            self.chat_events_sink, self.clock, settings.chat_events_namespace
        )
        self.chat_relay = ChatRelay(st.chatevents, self.chat_events, self.clock, self.node_id)
        self.messages.on_committed.append(self.chat_relay.wake)
        self.external_users = ExternalUsers(st.external_users, self.clock)
        self.history = History(st.history, self.conversations)
        self.edits = Edits(st.edits, st.history, self.conversations, self.publisher, self.clock)
        self.reads = Reads(st.reads, st.history, self.conversations, self.publisher, self.clock)
        self.archive = Archive(st.archive, self.conversations, self.publisher, self.clock)
        self.messages.on_sent.append(self.archive.revive)  # a new message unarchives
        self.away = Away(st.away, self.messages, self.conversations, self.publisher, self.clock)
        self.messages.on_sent.append(self.away.on_sent)  # away replies and greetings
        self.pins = Pins(st.pins, self.conversations, self.publisher, self.clock)
        self.chat_backgrounds = ChatBackgrounds(
            st.chat_backgrounds, self.conversations, st.blobs, self.publisher, self.clock
        )
        self.search = Search(st.search, self.conversations, self.clock)
        self.contact_sync = ContactSync(
            st.contact_sync,
            st.throttle,
            self.clock,
            default_region=settings.contact_sync_region,
            per_hour=settings.contact_sync_per_hour,
        )
        self.attachments = Attachments(
            st.attachments,
            self.blobs,
            self.conversations,
            self.clock,
        )
        self.dialogs = Dialogs(
            st.dialogs, self.conversations, self.messages, self.publisher, self.clock,
            settings.mtchat_scan_batch,
        )  # fmt: skip
        from hubbub.protocols.mtchat import webhooks as mtchat_webhooks

        self.webhooks = mtchat_webhooks.build(self)  # None unless configured
        if self.webhooks is not None:
            self.messages.on_committed.append(self.webhooks.wake)
        # Symbia (spec 002): tenants, capabilities, conversation and message details.
        self.tenants = Tenants(st.tenants, st.accounts, self.admin, self.audit, self.clock)
        self.capabilities = Capabilities(
            st.capabilities, st.accounts, self.admin, self.audit, self.clock
        )
        self.conversation_details = ConversationDetails(
            st.conversation_details,
            self.conversations,
            self.tenants,
            st.accounts,
            self.publisher,
            self.clock,
        )
        self.group_members = GroupMembers(
            st.conversations,
            st.accounts,
            self.accounts,
            st.blocks,
            self.conversations,
            self.conversation_details,
        )
        self.message_details = MessageDetails(
            st.message_details,
            self.messages,
            self.conversation_details,
            self.capabilities,
            st.accounts,
            self.clock,
        )
        self.moderation_reports = ModerationReports(
            st.moderation_reports, st.messages, self.conversations, st.accounts, st.blocks,
            self.admin, self.audit, self.publisher, self.clock,
        )  # fmt: skip
        self.hub = Hub(self._invalidate)
        self.notification_previews = NotificationPreviews(
            st.notification_previews, self.publisher, self.clock
        )
        self.live_previews = LivePreviews(
            self.notification_previews, st.conversations, st.accounts, self.clock
        )
        self.hub.taps.append(self.live_previews.on_note)
        self.flusher = Flusher(
            self.metrics.frames_out.inc, on_writes=self.metrics.socket_writes.inc
        )
        self.dispatcher = Dispatcher(
            self.hub,
            st.events,
            st.conversations,
            self.conversations.audience,
            self.broadcasts.recipients_of,
        )
        self.publisher.on_local = self.dispatcher.remember_skip
        self.dispatcher.info_audience = self.info_visibility.audience
        self.ready = False
        self._presence_task: asyncio.Task[None] | None = None
        self._gc_task: asyncio.Task[None] | None = None

    def _make_chat_events_sink(self) -> ChatEventSink:
        s = self.settings
        if not s.nats_url:
            from hubbub.protocols.chatevents.inprocess import InProcessChatEvents

            return InProcessChatEvents()
        from hubbub.protocols.chatevents.jetstream import JetStreamChatEvents

        return JetStreamChatEvents(
            s.nats_url, self.node_id, subject_prefix=s.nats_prefix, fmt=s.chat_events_format
        )

    def _make_blob_store(self) -> BlobStore:
        """The bytes' backend (docs/blobs.md); metadata is in the database for all."""
        s = self.settings
        backend = s.resolved_blob_backend
        if backend == "db":
            return self.stores.blobs
        if backend == "s3":
            from hubbub.blobs.s3 import S3Blobs, S3Settings

            s3 = S3Blobs(
                S3Settings(s.s3_bucket, s.s3_endpoint, s.s3_region, s.s3_prefix,
                           s.s3_addressing_style),
                self.stores.blobs,
            )  # fmt: skip
            self._s3 = s3
            return s3
        from hubbub.blobs.filesystem import FsBlobs

        return FsBlobs(s.data_dir.resolve() / "blobs", self.stores.blobs)

    def _make_bus(self) -> tuple[Bus, PresenceRegistry]:
        s = self.settings
        if not s.nats_url:
            return InProcessBus(), LocalPresence()
        from hubbub.bus.nats import NatsBus, NatsPresence

        bus = NatsBus(s.nats_url, self.node_id, subject_prefix=s.nats_prefix, on_gap=self._on_gap)
        presence = NatsPresence(
            s.nats_url, self.node_id, subject_prefix=s.nats_prefix, ttl=s.presence_ttl_s
        )
        return bus, presence

    def _invalidate(self, conversation_ids: list[str]) -> None:
        """A conversation changed on some node: its members, or someone archived it."""
        if any(k.startswith(AWAY_KEY) for k in conversation_ids):  # a user's away settings
            self.away.forget(conversation_ids)
            conversation_ids = [k for k in conversation_ids if not k.startswith(AWAY_KEY)]
        self.conversations.invalidate(conversation_ids)
        self.archive.forget(conversation_ids)

    def _on_note(self, note: Notification) -> None:
        """A bus notification: another node's revocation ends its cached
        credential here too (core/credential_cache.py), then the dispatcher."""
        if note.revoke_token is not None:
            self.credentials.forget(note.revoke_token)
        self.dispatcher.on_note(note)

    def _on_gap(self, reason: str) -> None:
        """Notifications may have been lost: forget caches, make clients resync."""
        log.warning("bus gap, clients will resync", extra={"reason": reason})
        self.conversations.invalidate_all()
        self.archive.forget_all()
        self.away.forget_all()
        self.credentials.clear()
        self.hub.kick_all(1012, f"bus {reason}: reconnect and resume with SyncRequest")

    async def _refresh_presence(self) -> None:
        interval = max(1.0, self.settings.presence_ttl_s / 3)
        while True:
            await asyncio.sleep(interval)
            try:
                await self.registry.refresh()
            except Exception:
                log.warning("presence refresh failed")

    def wake_heartbeats(self) -> None:
        """A connection started being watched: recompute when the next one lapses."""
        self._heartbeat_wake.set()

    async def _sweep_heartbeats(self) -> None:
        while True:
            due = self.heartbeats.due_in_ms()
            self._heartbeat_wake.clear()
            try:
                await asyncio.wait_for(
                    self._heartbeat_wake.wait(), None if due is None else due / 1000 + 0.05
                )
            except TimeoutError:
                pass
            try:
                await self.heartbeats.sweep()
            except Exception:
                log.warning("presence sweep failed")

    async def _sweep_typing(self) -> None:
        while True:
            due = self.typing.due_in_ms()
            self._typing_wake.clear()
            try:
                await asyncio.wait_for(
                    self._typing_wake.wait(), None if due is None else due / 1000 + 0.01
                )
            except TimeoutError:
                pass
            try:
                await self.typing.sweep()
            except Exception:
                log.warning("typing sweep failed")

    async def _auto_archive(self) -> None:
        after_ms = int(self.settings.mtchat_archive_after_s * 1000)
        interval = max(0.5, min(60.0, self.settings.mtchat_archive_after_s / 2))
        while True:
            await asyncio.sleep(interval)
            try:
                await self.archive.archive_inactive(after_ms)
            except Exception:
                log.warning("auto-archive failed")

    async def collect_blobs(self) -> int:
        """One collection pass: voice notes' audio no live message carries
        (core/voice.py), room files the room no longer shows (core/rooms.py) and
        MTChat attachments never sent or whose message is gone
        (core/attachments.py). How many blobs went; one failing collector does
        not stop the others."""
        gone = 0
        collectors = [self.voice.collect_orphans, self.attachments.collect_orphans]
        if self.settings.simplechat:
            collectors.append(self.rooms.collect_files)
        for collect in collectors:
            try:
                gone += await collect()
            except Exception:
                log.warning("blob collection failed")
        return gone

    async def _collect_blobs(self) -> None:
        """Unreferenced blobs are deleted every 10 minutes, on every node
        (deleting an absent blob is a no-op)."""
        while True:
            await asyncio.sleep(600)
            try:
                await self.collect_blobs()
            except Exception:
                log.warning("blob collection failed")

    async def start(self) -> None:
        if self.settings.migrate_on_start:
            await migrate(self.engine)
        if self.settings.registration == "token" and not await self.stores.admin.list_users(
            prefix=None, admins_only=False, after=None, limit=1
        ):
            log.warning(
                "no account yet: the first registration becomes the server admin "
                "(or create it with `hubbub user create NAME --admin`)"
            )
        self.writer.start()
        if self._s3 is not None:
            await self._s3.start()
        if self.settings.simplechat:
            # Every node must know the room's listener key before it publishes
            # or fills a room event (core/rooms.py).
            await self.rooms.start()
        await self.dispatcher.start()
        await self.bus.start(self._on_note)
        await self.registry.start()
        self._presence_task = asyncio.get_running_loop().create_task(self._refresh_presence())
        self._gc_task = asyncio.get_running_loop().create_task(self._collect_blobs())
        self.expiry.start()
        await self.chat_events_sink.start()
        if self.settings.chat_events_relay:
            self.chat_relay.start()
        if self.webhooks is not None:
            self.webhooks.start()
        loop = asyncio.get_running_loop()
        self._heartbeat_task = loop.create_task(self._sweep_heartbeats())
        self._typing_task = loop.create_task(self._sweep_typing())
        if self.settings.mtchat_archive_after_s > 0:
            self._archive_task = loop.create_task(self._auto_archive())
        self.ready = True
        log.info("node started", extra={"node_id": self.node_id})

    async def close(self) -> None:
        self.ready = False
        await self.expiry.close()
        await self.chat_relay.close()
        if self.webhooks is not None:
            await self.webhooks.close()
        await self.chat_events_sink.close()
        if self._presence_task is not None:
            self._presence_task.cancel()
        for task in (self._heartbeat_task, self._typing_task, self._archive_task, self._gc_task):
            if task is not None:
                task.cancel()
        await self.accounts.close()
        await self.apikeys.close()
        if self._s3 is not None:
            await self._s3.close()
        await self.dispatcher.close()
        await self.live_previews.close()
        await self.writer.close()
        await self.registry.close()
        await self.bus.close()
        await self.engine.dispose()
