"""Spec 000's handler table, assembled from one module per core area.

`handlers/<area>.py` holds the handlers of the channels whose rules live in
`core/<area>.py` and exports its part of the table (`HANDLERS`) and of the
pipelined set (`PIPELINED`); this is the one place they are joined.
Channels without an entry answer `unavailable`. docs/areas.md lists which
module serves which channel and how an area is added.
"""

from __future__ import annotations

from types import ModuleType

from hubbub.protocols.channels.handlers import (
    archive,
    away,
    broadcasts,
    calls,
    chat_backgrounds,
    contact_sync,
    forwards,
    group_events,
    groups,
    info_visibility,
    keys,
    mentions,
    messages,
    moderation_reports,
    notification_previews,
    pins,
    polls,
    presence_settings,
    profile,
    reactions,
    search,
    status,
    status_updates,
    stickers,
    sync,
    typing_status,
    voice,
)
from hubbub.protocols.channels.handlers.base import Handler, Reply, ack

__all__ = ["AREAS", "HANDLERS", "PIPELINED", "Handler", "Reply", "ack"]

AREAS: tuple[ModuleType, ...] = (
    messages,
    stickers,
    forwards,
    reactions,
    mentions,
    polls,
    groups,
    group_events,
    keys,
    profile,
    presence_settings,
    status,
    sync,
    calls,
    voice,
    broadcasts,
    typing_status,
    archive,
    pins,
    notification_previews,
    search,
    moderation_reports,
    away,
    contact_sync,
    chat_backgrounds,
    info_visibility,
    status_updates,
)


def _assemble() -> tuple[dict[tuple[str, str], Handler], frozenset[tuple[str, str]]]:
    table: dict[tuple[str, str], Handler] = {}
    pipelined: set[tuple[str, str]] = set()
    for area in AREAS:
        part: dict[tuple[str, str], Handler] = area.HANDLERS
        clash = table.keys() & part.keys()
        if clash:  # two areas claiming one message is a wiring bug, found at import
            raise RuntimeError(f"{area.__name__} redefines {sorted(clash)}")
        table.update(part)
        own: frozenset[tuple[str, str]] = area.PIPELINED
        if not own <= part.keys():
            raise RuntimeError(f"{area.__name__} pipelines a message it does not handle")
        pipelined |= own
    return table, frozenset(pipelined)


HANDLERS, PIPELINED = _assemble()
