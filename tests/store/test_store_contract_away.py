"""The away store's contract, on SQLite and PostgreSQL: settings written only
when they change; who has anything automatic; one automatic reply per window;
one greeting per (conversation, owner), acknowledged once by its recipient."""

from __future__ import annotations

from hubbub.core.away import CHANNEL, GREETINGS
from hubbub.core.frames import event
from hubbub.core.model import NewEvent
from hubbub.core.ports import AwaySettings
from hubbub.ids import new_id
from hubbub.store.sql.stores import SqlStores
from tests.store.test_store_contract import make_user, now_ms, store

__all__ = ["store"]


async def test_settings_change_once_and_who_is_automatic(store: SqlStores) -> None:
    a, b = await make_user(store), await make_user(store)
    s = store.away
    assert await s.settings_of(a) is None

    def ev(x: AwaySettings) -> NewEvent:
        return event("u", a, CHANNEL, "AwayMessageUpdated", {"enabled": x.enabled})

    on = AwaySettings(True, "away", "", None, 1)
    got, stored = await s.set_settings(a, on, ev)
    assert got == on and stored is not None and stored.scope == "u" and stored.target == a
    same, none = await s.set_settings(a, AwaySettings(True, "away", "", None, 2), ev)
    assert none is None and same == on  # unchanged: nothing written
    assert await s.settings_of(a) == on
    await s.set_settings(b, AwaySettings(False, "x", "hello", 3, 3), ev)
    assert {a, b} <= set(await s.automatic_users(1000))
    await s.set_settings(a, AwaySettings(False, "away", "", None, 4), ev)
    await s.set_settings(b, AwaySettings(False, "x", "", 3, 5), ev)
    assert not {a, b} & set(await s.automatic_users(1000))
    assert (await s.settings_of(a)) == AwaySettings(False, "away", "", None, 4)


async def test_reply_window_direct_chats_and_greetings(store: SqlStores) -> None:
    a, b, c = await make_user(store), await make_user(store), await make_user(store)
    s = store.away
    t0 = now_ms()
    cid, _ = await store.conversations.open_direct(new_id(), a, b, t0)
    chat = await s.direct_chat(cid)
    assert chat is not None and chat.created_at == t0
    assert await s.direct_chat(new_id()) is None
    gid = new_id()
    await store.groups.create_group(
        gid, "g", a, [b], None, t0, event("c", gid, "chat/groups", "GroupCreated", {})
    )
    assert await s.direct_chat(gid) is None

    # One reply per window: the first claims it, a second within it does not.
    assert await s.claim_reply(a, cid, 100, 0) is True
    assert await s.claim_reply(a, cid, 200, 100 - 1) is False
    assert await s.claim_reply(b, cid, 200, 0) is True  # the other member's own
    assert await s.claim_reply(a, cid, 300, 101) is True  # the window has passed

    # One greeting per (conversation, owner); acknowledged once, by its recipient.
    g1 = new_id()

    def greet(g: str) -> NewEvent:
        return event("u", b, GREETINGS, "GreetingMessageReceived", {"greeting_id": g})

    stored = await s.send_greeting(g1, cid, a, b, 10, greet(g1))
    assert stored is not None and stored.target == b
    assert await s.send_greeting(new_id(), cid, a, b, 11, greet("x")) is None
    assert await s.ack_greeting(g1, cid, c, None, 12) is None  # not theirs
    assert await s.ack_greeting(g1, new_id(), b, None, 12) is None  # another conversation
    assert await s.ack_greeting(new_id(), cid, b, None, 12) is None
    assert await s.ack_greeting(g1, cid, b, "2026-01-01T00:00:00Z", 12) is True
    assert await s.ack_greeting(g1, cid, b, None, 13) is False
