"""Core records rendered the way MTChat's clients read them.

Ids of people are the host application's (`external_users`); a hubbub user
with no host id (one who came from `/ws`) shows under their own id. System
messages show no sender (`sender_id` null, `message_type` `system`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from hubbub.clock import iso
from hubbub.core.ports.dialogs import DialogRecord, Participant
from hubbub.core.ports.history import StoredMessage
from hubbub.protocols.mtchat.html import as_html
from hubbub.protocols.mtchat.identity import NAMESPACE
from hubbub.runtime import Node

__all__ = ["Names", "attachment_json", "dialog_json", "message_json", "participant_json"]


class Names:
    """hubbub account id -> the id MTChat clients know (resolved in batches)."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.known: dict[str, str] = {}

    async def load(self, user_ids: Iterable[str]) -> None:
        wanted = [u for u in set(user_ids) if u not in self.known]
        if wanted:
            found = await self.node.external_users.external_of(NAMESPACE, wanted)
            for u in wanted:
                self.known[u] = found.get(u, u)

    def of(self, user_id: str) -> str:
        return self.known.get(user_id, user_id)


def dialog_json(d: DialogRecord) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": d.conversation_id,
        "object_id": d.object_id,
        "object_type": d.object_type,
        "title": d.title,
        "object_url": d.object_url,
        "created_by": d.created_by,
        "created_at": iso(d.created_at),
    }
    if d.meta is not None:
        out["meta"] = json.loads(d.meta)
    return out


def attachment_json(
    attachment_id: str, filename: str, content_type: str, size: int, url: str
) -> dict[str, Any]:
    """MTChat's `AttachmentResponse`: `width`, `height` and `thumbnail_url` are
    left out when unknown (hubbub makes no thumbnails), as MTChat leaves them."""
    return {
        "id": attachment_id,
        "filename": filename,
        "content_type": content_type,
        "size": size,
        "url": url,
    }


def message_json(
    m: StoredMessage, names: Names, files: dict[str, list[dict[str, Any]]] | None = None
) -> dict[str, Any]:
    """A message row; `attachments` only when it has files (MTChat skips an empty list)."""
    system = m.content_type == "system"
    out: dict[str, Any] = {
        "id": m.id,
        "dialog_id": m.conversation_id,
        "sender_id": None if system else names.of(m.sender_id),
        "message_type": "system" if system else "user",
        "content": as_html(m.content or "", m.content_type),
        "reply_to_id": m.reply_to_id,
        "sent_at": iso(m.created_at),
        "last_edited_at": iso(m.edited_at) if m.edited_at is not None else None,
    }
    if found := (files or {}).get(m.id):
        out["attachments"] = found
    return out


def participant_json(cid: str, p: Participant, names: Names) -> dict[str, Any]:
    return {
        "dialog_id": cid,
        "user_id": names.of(p.user_id),
        "display_name": p.display_name,
        "company": p.company,
        "email": p.email,
        "phone": p.phone,
        "joined_as": p.joined_as,
        "joined_at": iso(p.joined_at),
        "notifications_enabled": p.notifications_enabled,
        "is_pinned": p.is_pinned,
    }
