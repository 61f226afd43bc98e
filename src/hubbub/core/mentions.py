"""Mentions: `@username` in a group message notifies that member.

Only members of the group are notified (a name that is no member's, or the
sender's own, notifies nobody), at most `MAX_MENTIONS` per message, and only
in groups: in a direct conversation the other member reads everything anyway.
The notifications commit in the same transaction as the message
(`MentionStore.append_with_mentions`), each as a user-scoped event on
`chat/mentions`, so they are in the mentioned user's feed and nobody else's.
An `AcknowledgeMention` is stored once; only the mentioned user may send it.
"""

from __future__ import annotations

import re

from hubbub.clock import Clock, iso
from hubbub.core.context import Caller
from hubbub.core.frames import event
from hubbub.core.ports import AccountStore, ConversationStore, MentionStore
from hubbub.core.ports.mentions import MentionRow
from hubbub.errors import NotFound
from hubbub.ids import new_id

__all__ = ["MAX_MENTIONS", "Mentions", "mentioned_names"]

MAX_MENTIONS = 20
PREVIEW_CHARS = 100
# A username as registration allows it, after an @ that does not follow a word
# character (so e-mail addresses mention nobody).
_MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_.-]{1,64})")


def mentioned_names(content: str) -> list[str]:
    """Distinct lower-cased names after `@`, in order, at most MAX_MENTIONS."""
    seen: dict[str, None] = {}
    for m in _MENTION.finditer(content):
        seen.setdefault(m.group(1).rstrip(".").lower(), None)
        if len(seen) >= MAX_MENTIONS:
            break
    return list(seen)


class Mentions:
    def __init__(
        self,
        store: MentionStore,
        accounts: AccountStore,
        conversations: ConversationStore,
        clock: Clock,
    ) -> None:
        self.store = store
        self.accounts = accounts
        self.conversations = conversations
        self.clock = clock

    async def notifications(
        self,
        caller: Caller,
        conversation_id: str,
        members: dict[str, str],
        message_id: str,
        content: str,
        now: int,
    ) -> list[MentionRow]:
        """The notifications a message will commit with (empty: none)."""
        names = mentioned_names(content)
        if not names:
            return []
        conv = await self.conversations.get_conversation(conversation_id)
        if conv is None or conv.kind != "group":
            return []
        rows: list[MentionRow] = []
        for name in names:
            user = await self.accounts.find_user("username", name)
            if user is None or user.id == caller.user_id or user.id not in members:
                continue
            nid = new_id()
            data = {
                "notification_id": nid,
                "conversation_id": conversation_id,
                "message_id": message_id,
                "mentioning_user_id": caller.user_id,
                "mentioned_user_id": user.id,
                "content_preview": content[:PREVIEW_CHARS],
                "timestamp": iso(now),
            }
            ev = event("u", user.id, "chat/mentions", "MentionNotification", data, message_id)
            rows.append((nid, user.id, ev))
        return rows

    async def acknowledge(self, caller: Caller, notification_id: str) -> bool:
        """True when recorded now, False when it was already; `not_found` if not theirs."""
        done = await self.store.ack_mention(notification_id, caller.user_id, self.clock.now_ms())
        if done is None:
            raise NotFound("mention not found")
        return done
