"""The chat_backgrounds and info_visibility stores' contract, on SQLite and
PostgreSQL: a write happens (and appends its event) only when it changes
something, and a request key returns the first reply and writes nothing."""

from __future__ import annotations

from typing import Any

from hubbub.core.frames import event
from hubbub.core.ports import Background, PresenceVisibility
from hubbub.ids import new_id
from hubbub.store.sql.stores import SqlStores
from tests.store.test_store_contract import make_user, now_ms, store

__all__ = ["store"]


def replies(tag: str) -> Any:
    return lambda status: {"status": status, "tag": tag}


async def test_background_changes_once_per_value_and_keys_replay(store: SqlStores) -> None:
    a, b = await make_user(store), await make_user(store)
    cid = new_id()
    await store.conversations.open_direct(cid, a, b, now_ms())
    bgs = store.chat_backgrounds
    assert await bgs.background_of(cid) is None
    ev = event("c", cid, "chat/background", "ChatBackgroundUpdated", {})
    blue = Background("b1", "color", "#0000ff")

    reply, stored = await bgs.set_background(cid, a, blue, 1, ev, "bg:k1", replies("first"))
    assert reply == {"status": "applied", "tag": "first"}
    assert stored is not None and (stored.scope, stored.target) == ("c", cid)
    assert await bgs.background_of(cid) == blue
    # The same key, even with another background, is the first request.
    other = Background("p1", "preset", "ocean")
    again, none = await bgs.set_background(cid, a, other, 2, ev, "bg:k1", replies("second"))
    assert (again, none) == (reply, None)
    assert await bgs.background_of(cid) == blue
    # The same background from another member: unchanged, no event.
    same, none = await bgs.set_background(cid, b, blue, 3, ev, None, replies("x"))
    assert same["status"] == "unchanged" and none is None
    # b's keys are b's own: "bg:k1" is new for b.
    changed, stored = await bgs.set_background(cid, b, other, 4, ev, "bg:k1", replies("b"))
    assert changed["status"] == "applied" and stored is not None
    assert await bgs.background_of(cid) == other


async def test_info_visibility_stores_once_and_keys_replay(store: SqlStores) -> None:
    a, b, c = await make_user(store), await make_user(store), await make_user(store)
    await store.conversations.open_direct(new_id(), a, b, now_ms())
    iv = store.info_visibility
    assert await iv.direct_peers_of(a) == {b}
    assert await iv.info_visibility_of([a, b]) == {}
    ev = event("u", a, "user/info-visibility", "InfoVisibilityUpdated", {})

    default = PresenceVisibility("everyone", updated_at=1)
    reply, none = await iv.set_info_visibility(a, default, ev, None, replies("d"))
    assert reply["status"] == "unchanged" and none is None  # the default counts as stored
    custom = PresenceVisibility("custom", (b,), (c,), 2)
    reply, stored = await iv.set_info_visibility(a, custom, ev, "k", replies("c"))
    assert reply["status"] == "updated" and stored is not None and stored.target == a
    assert await iv.info_visibility_of([a, b]) == {a: custom}
    nobody = PresenceVisibility("nobody", (), (), 3)
    again, none = await iv.set_info_visibility(a, nobody, ev, "k", replies("n"))
    assert (again, none) == (reply, None)  # a retry: the first reply, nothing written
    assert (await iv.info_visibility_of([a]))[a] == custom
    reply, stored = await iv.set_info_visibility(a, nobody, ev, "k2", replies("n"))
    assert reply["status"] == "updated" and stored is not None
    assert await iv.info_visibility_of([a]) == {a: nobody}
