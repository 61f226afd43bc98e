"""`user/notifications/preview/config` and `user/notifications/preview`
(`core/notification_previews.py`, live delivery in `realtime/previews.py`).

`UpdateNotificationPreviewConfig` is answered with an `Ack` carrying the
whole config now in force (an update with no field is a read). Previews
reach only connections that `Subscribe` to `user/notifications/preview`;
the `Subscribe` `Ack` carries the config too, so a fresh device knows what
it will be sent. `AcknowledgeNotificationPreview` is answered with an `Ack`
saying whether it was the `first` for that preview.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hubbub.core.notification_previews import CONFIG_CHANNEL, config_data
from hubbub.protocols.channels import schema as s
from hubbub.protocols.channels.handlers.base import Handler, Reply, ack
from hubbub.realtime.previews import CHANNEL

if TYPE_CHECKING:
    from hubbub.protocols.channels.session import Session

__all__ = ["HANDLERS", "PIPELINED"]


async def update_config(
    ss: Session, m: s.UpdateNotificationPreviewConfig, _p: dict[str, str]
) -> Reply:
    config, changed = await ss.node.notification_previews.update(
        ss.caller, m.show_sender, m.show_body, m.max_body_length, m.allowed_categories
    )
    reply = ack(CONFIG_CHANNEL, user_id=ss.caller.user_id)
    reply.data.update(config_data(config), changed=changed)
    return reply


async def acknowledge(
    ss: Session, m: s.AcknowledgeNotificationPreview, _p: dict[str, str]
) -> Reply:
    first = await ss.node.notification_previews.acknowledge(ss.caller, m.preview_id, m.received_at)
    reply = ack(CHANNEL, preview_id=m.preview_id)
    reply.data["first"] = first
    return reply


async def subscribe(ss: Session, _m: Any, _p: dict[str, str]) -> Reply:
    config = await ss.node.live_previews.subscribe(ss.outbox)
    ss.subscriptions.add(CHANNEL)
    reply = ack(CHANNEL, user_id=ss.caller.user_id)
    reply.data["config"] = config_data(config)
    return reply


async def unsubscribe(ss: Session, _m: Any, _p: dict[str, str]) -> Reply:
    ss.node.live_previews.unsubscribe(ss.outbox)
    ss.subscriptions.discard(CHANNEL)
    return ack(CHANNEL, user_id=ss.caller.user_id)


HANDLERS: dict[tuple[str, str], Handler] = {
    (CONFIG_CHANNEL, "UpdateNotificationPreviewConfig"): update_config,
    (CHANNEL, "AcknowledgeNotificationPreview"): acknowledge,
    (CHANNEL, "Subscribe"): subscribe,
    (CHANNEL, "Unsubscribe"): unsubscribe,
}

PIPELINED: frozenset[tuple[str, str]] = frozenset()
