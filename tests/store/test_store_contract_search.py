"""The search store's contract (`store/sql/search.py`) on SQLite and PostgreSQL.

The index follows every writer of `messages` (appends, edits, deletes,
expiry), the query is never SQL or FTS syntax, and chat search sees only the
user's own current chats.
"""

from __future__ import annotations

from dataclasses import replace

from hubbub.core.frames import event
from hubbub.core.search import terms_of
from hubbub.ids import new_id
from hubbub.store.sql.stores import SqlStores
from tests.store.test_store_contract import make_user, now_ms, record, store, text_event

__all__ = ["store"]


async def _say(s: SqlStores, cid: str, sender: str, content: str, **rec: object) -> str:
    r = replace(record(cid, sender), **rec)  # type: ignore[arg-type]
    got, _ = await s.messages.append_message(
        r, {"content": content, "content_type": "text"}, text_event(cid, r.id, content)
    )
    return got.id


async def _find(s: SqlStores, cid: str, q: str, offset: int = 0, limit: int = 10) -> list[str]:
    hits, _ = await s.search.search_messages(cid, q, terms_of(q), now_ms(), offset, limit, 1000)
    return [h.message_id for h in hits]


async def test_search_follows_appends_edits_deletes_and_expiry(store: SqlStores) -> None:
    a, b = await make_user(store), await make_user(store)
    cid, _ = await store.conversations.open_direct(new_id(), a, b, now_ms())
    other, _ = await store.conversations.open_direct(new_id(), a, await make_user(store), now_ms())
    m1 = await _say(store, cid, a, "the quick brown fox")
    m2 = await _say(store, cid, b, "a quick reply")
    m3 = await _say(store, cid, a, "quick to delete")
    m4 = await _say(store, cid, a, "quick but expired", expires_at=now_ms() - 1)
    await _say(store, other, a, "quick elsewhere")
    enc = replace(record(cid, a), kind="e2e")
    await store.messages.append_message(enc, {"content": "quick"}, text_event(cid, enc.id, "x"))
    sysm = await _say(store, cid, a, "placeholder")
    await store.messages.append_message(
        replace(record(cid, a)), {"content": "quick", "content_type": "system"},
        text_event(cid, new_id(), "x"),
    )  # fmt: skip

    assert await _find(store, cid, "QUICK") == [m3, m2, m1]  # newest first; not m4 (expired)
    hits, total = await store.search.search_messages(cid, "quick", ["quick"], now_ms(), 1, 1, 1000)
    assert [h.message_id for h in hits] == [m2] and total == 3
    assert hits[0].sender_id == b and hits[0].content == "a quick reply"
    _, capped = await store.search.search_messages(cid, "quick", ["quick"], now_ms(), 0, 1, 2)
    assert capped == 2
    assert m4 not in await _find(store, cid, "expired")

    ev = event("c", cid, "chat/messages", "ChatMessageEdited", {}, m1)
    await store.edits.edit_message(m1, "the slow brown fox", now_ms(), ev)
    assert await _find(store, cid, "quick") == [m3, m2]
    assert await _find(store, cid, "slow") == [m1]
    [edited], _ = await store.search.search_messages(cid, "slow", ["slow"], now_ms(), 0, 5, 10)
    assert edited.edited_at is not None
    ev = event("c", cid, "chat/messages", "ChatMessageDeleted", {}, m3)
    await store.edits.delete_message(m3, now_ms(), ev)
    assert await _find(store, cid, "quick") == [m2]
    assert await _find(store, cid, "placeholder") == [sysm]

    for hostile in ('"', "*", "NEAR", "OR", "a OR b", "NEAR(quick reply)", "-quick", "((", "'"):
        assert isinstance(await _find(store, cid, hostile), list)
    assert await _find(store, cid, 'quick" "reply') == [m2]
    assert await _find(store, cid, "slow OR reply") == []  # OR is a word, not an operator
    assert await _find(store, cid, "") == []
    # The conversation's id narrows the index; its parts are no words of the text.
    assert await _find(store, cid, cid.split("-")[0]) == []
    assert await _find(store, cid, cid) == []


async def test_chat_search_own_chats_by_name_never_a_blocker(store: SqlStores) -> None:
    tag = new_id()[-8:].lower()
    me = await make_user(store, f"me{tag}")
    pal = await make_user(store, f"pal{tag}")
    foe = await make_user(store, f"foe{tag}")
    stranger = await make_user(store, f"stranger{tag}")
    d_pal, _ = await store.conversations.open_direct(new_id(), me, pal, now_ms())
    d_foe, _ = await store.conversations.open_direct(new_id(), me, foe, now_ms())
    await store.conversations.open_direct(new_id(), stranger, pal, now_ms())
    gid = new_id()
    ev = event("c", gid, "chat/groups", "GroupCreated", {})
    await store.groups.create_group(gid, f"Club {tag}", me, [me, pal], None, now_ms(), ev)
    theirs = new_id()
    ev = event("c", theirs, "chat/groups", "GroupCreated", {})
    await store.groups.create_group(
        theirs, f"club {tag} 2", stranger, [stranger], None, now_ms(), ev
    )

    hits = await store.search.search_chats(me, tag, None, 0, 10)
    assert [(h.kind, h.conversation_id) for h in hits] == [
        ("group", gid), ("direct", d_foe), ("direct", d_pal),
    ]  # fmt: skip
    assert hits[2].other_id == pal and hits[2].other_username == f"pal{tag}"
    assert [
        h.conversation_id for h in await store.search.search_chats(me, tag, "direct", 1, 1)
    ] == [d_pal]
    assert [h.conversation_id for h in await store.search.search_chats(me, tag, "group", 0, 9)] == [
        gid
    ]
    assert await store.search.search_chats(me, "%", None, 0, 10) == []
    assert await store.search.search_chats(me, "_", None, 0, 10) == []
    await store.blocks.add_block(foe, me, now_ms())
    assert [h.conversation_id for h in await store.search.search_chats(me, tag, None, 0, 10)] == [
        gid, d_pal,
    ]  # fmt: skip
