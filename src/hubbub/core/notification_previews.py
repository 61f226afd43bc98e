"""What a user's notification previews show (`user/notifications/preview/config`)
and what one preview says (`user/notifications/preview`).

The config is the user's own state, like the presence setting
(`core/presence_settings.py`): one row per user who changed the default,
with a `config_version` that grows by one on every change. An update names
only the fields it changes (a missing field keeps its value), so one with no
field, or with what is stored already, writes nothing and answers the
current config: that is also how a fresh device reads it.
`NotificationPreviewConfigUpdated` is a user-scoped event: every device of
the owner, live and through `SyncRequest`, nobody else.

A preview is built by the server, for one recipient, from that recipient's
config (`build`): a stranger to the config never sees more than it allows,
whatever the client does. End-to-end encrypted messages have no body, since
the server cannot read them. Previews are live only (see
`realtime/previews.py` and docs/protocol.md for why).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hubbub.clock import Clock, iso
from hubbub.core.context import Caller
from hubbub.core.frames import event
from hubbub.core.model import NewEvent
from hubbub.core.ports import NotificationPreviewStore, PreviewConfig
from hubbub.core.publisher import Publisher
from hubbub.errors import NotFound, ValidationFailed
from hubbub.ids import plausible_id

__all__ = [
    "CATEGORIES",
    "CONFIG_CHANNEL",
    "CONFIG_TYPE",
    "DEFAULT",
    "MAX_BODY_LENGTH",
    "NEUTRAL_TITLE",
    "NotificationPreviews",
    "PreviewSource",
    "build",
    "config_data",
]

CONFIG_CHANNEL = "user/notifications/preview/config"
CONFIG_TYPE = "NotificationPreviewConfigUpdated"
# What can reach a user as a preview today is a message: in a direct chat, in
# a group, or in a group naming them (`@username`). `reaction` and
# `broadcast` are accepted so that a client can store its choice for them
# now; nothing produces previews of those yet (docs/protocol.md).
CATEGORIES = ("direct", "group", "mention", "reaction", "broadcast")
MAX_BODY_LENGTH = 1000
NEUTRAL_TITLE = "New message"
DEFAULT = PreviewConfig(
    show_sender=True, show_body=True, max_body_length=100, allowed_categories=CATEGORIES
)


def config_data(c: PreviewConfig) -> dict[str, Any]:
    return {
        "config_version": str(c.version),
        "show_sender": c.show_sender,
        "show_body": c.show_body,
        "max_body_length": c.max_body_length,
        "allowed_categories": list(c.allowed_categories),
        "updated_at": iso(c.updated_at) if c.updated_at is not None else None,
    }


def config_of_data(data: dict[str, Any]) -> PreviewConfig | None:
    """The config a `NotificationPreviewConfigUpdated` carries (None if malformed)."""
    try:
        return PreviewConfig(
            bool(data["show_sender"]),
            bool(data["show_body"]),
            int(data["max_body_length"]),
            tuple(str(c) for c in data["allowed_categories"]),
            int(data["config_version"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


def _categories(value: list[Any]) -> tuple[str, ...]:
    path = "$.data.allowed_categories"
    if len(value) > len(CATEGORIES):
        raise ValidationFailed(f"at most {len(CATEGORIES)} categories", path=path)
    for i, c in enumerate(value):
        if c not in CATEGORIES:
            raise ValidationFailed(f"must be one of {', '.join(CATEGORIES)}", path=f"{path}[{i}]")
    # Stored in the fixed order: the same choice is the same config, however sent.
    return tuple(c for c in CATEGORIES if c in value)


@dataclass(frozen=True, slots=True)
class PreviewSource:
    """What one delivered message gives a preview, looked up once per message."""

    message_id: str
    sender_id: str
    sender_name: str
    conversation_kind: str  # direct | group | ...
    conversation_name: str | None
    content: str | None  # None: encrypted (or not text)
    mentioned: frozenset[str]  # lower-cased names after `@`
    timestamp: str | None


def build(
    c: PreviewConfig, recipient_username: str, src: PreviewSource, now: int
) -> dict[str, Any] | None:
    """The `NotificationPreviewReceived` data for one recipient, or None when
    their config allows no preview of this message."""
    if src.conversation_kind == "direct":
        category = "direct"
    elif recipient_username.lower() in src.mentioned:
        category = "mention"
    else:
        category = "group"
    if category not in c.allowed_categories:
        return None
    if c.show_sender:
        title = src.conversation_name if category != "direct" and src.conversation_name else None
        title = title or src.sender_name
        sender: str | None = src.sender_name
    else:
        title, sender = NEUTRAL_TITLE, None
    body = None
    if c.show_body and c.max_body_length > 0 and src.content is not None:
        body = src.content[: c.max_body_length]
    return {
        "notification_id": src.message_id,
        "preview_id": src.message_id,
        "title": title,
        "body": body,
        "sender": sender,
        "category": category,
        "priority": "normal" if category == "group" else "high",
        "timestamp": iso(now),
        "config_version": str(c.version),
    }


class NotificationPreviews:
    def __init__(self, store: NotificationPreviewStore, publisher: Publisher, clock: Clock) -> None:
        self.store = store
        self.publisher = publisher
        self.clock = clock

    async def config(self, user_id: str) -> PreviewConfig:
        return (await self.store.configs_of([user_id])).get(user_id, DEFAULT)

    async def update(
        self,
        caller: Caller,
        show_sender: bool | None,
        show_body: bool | None,
        max_body_length: int | None,
        allowed_categories: list[Any] | None,
    ) -> tuple[PreviewConfig, bool]:
        """Validate, store and announce; the config now stored and whether this changed it."""
        if max_body_length is not None and not 0 <= max_body_length <= MAX_BODY_LENGTH:
            raise ValidationFailed(f"must be 0..{MAX_BODY_LENGTH}", path="$.data.max_body_length")
        categories = _categories(allowed_categories) if allowed_categories is not None else None
        me = caller.user_id
        current = await self.config(me)
        wanted = PreviewConfig(
            current.show_sender if show_sender is None else show_sender,
            current.show_body if show_body is None else show_body,
            current.max_body_length if max_body_length is None else max_body_length,
            current.allowed_categories if categories is None else categories,
            updated_at=self.clock.now_ms(),
        )

        def event_of(stored: PreviewConfig) -> NewEvent:
            return event("u", me, CONFIG_CHANNEL, CONFIG_TYPE, config_data(stored))

        stored, ev = await self.store.set_config(me, wanted, DEFAULT, event_of)
        if ev is None:
            return stored, False
        await self.publisher.event(ev, [me], skip_conn=caller.conn_id)
        return stored, True

    async def acknowledge(self, caller: Caller, preview_id: str, received_at: str | None) -> bool:
        """Record that a device showed a preview; True the first time (per user).

        A preview's id is its message's, so an ack names a message someone
        else sent to a conversation the caller is in; any other id, the
        caller's own messages included, is `not_found`."""
        if not plausible_id(preview_id):
            raise NotFound("preview not found")
        if received_at is not None and len(received_at) > 64:
            raise ValidationFailed("at most 64 characters", path="$.data.received_at")
        me = caller.user_id
        if not await self.store.can_preview(me, preview_id):
            raise NotFound("preview not found")
        return await self.store.record_ack(me, preview_id, received_at, self.clock.now_ms())
