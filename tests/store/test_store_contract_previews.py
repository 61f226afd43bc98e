"""The notification_previews store's contract, on SQLite and PostgreSQL: configs
are versioned and written only when they change; who may acknowledge which
preview; acknowledgements once per (user, preview), a user's rows bounded."""

from __future__ import annotations

import pytest

from hubbub.core.frames import event
from hubbub.core.model import NewEvent
from hubbub.core.notification_previews import CONFIG_CHANNEL, CONFIG_TYPE, DEFAULT, config_data
from hubbub.core.ports import PreviewConfig
from hubbub.ids import new_id
from hubbub.store.sql import notification_previews as sql
from hubbub.store.sql.stores import SqlStores
from tests.store.test_store_contract import make_user, now_ms, record, store, text_event

__all__ = ["store"]


async def test_config_versions_grow_and_the_same_config_writes_nothing(store: SqlStores) -> None:
    a = await make_user(store)
    p = store.notification_previews
    assert await p.configs_of([a]) == {}

    def ev(c: PreviewConfig) -> NewEvent:
        return event("u", a, CONFIG_CHANNEL, CONFIG_TYPE, config_data(c))

    same, none = await p.set_config(
        a, PreviewConfig(True, True, 100, DEFAULT.allowed_categories, updated_at=1), DEFAULT, ev
    )
    assert none is None and same == DEFAULT  # the default counts as stored
    quiet = PreviewConfig(False, True, 50, ("direct",), updated_at=2)
    first, stored = await p.set_config(a, quiet, DEFAULT, ev)
    assert stored is not None and stored.scope == "u" and stored.target == a
    assert first.version == 1 and first.updated_at == 2 and first.same_as(quiet)
    assert (await p.configs_of([a]))[a] == first
    again, none = await p.set_config(
        a, PreviewConfig(False, True, 50, ("direct",), updated_at=3), DEFAULT, ev
    )
    assert none is None and again == first
    second, stored = await p.set_config(
        a, PreviewConfig(False, False, 50, ("direct",), updated_at=4), DEFAULT, ev
    )
    assert second.version == 2 and stored is not None


async def test_who_may_acknowledge_and_acks_once_bounded(
    store: SqlStores, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b, c = await make_user(store), await make_user(store), await make_user(store)
    cid, _ = await store.conversations.open_direct(new_id(), a, b, now_ms())
    rec, _ = await store.messages.append_message(
        record(cid, a), {"content": "hi"}, text_event(cid, "m", "hi")
    )
    p = store.notification_previews
    assert await p.can_preview(b, rec.id) is True
    assert await p.can_preview(a, rec.id) is False  # the sender's own
    assert await p.can_preview(c, rec.id) is False  # not a member
    assert await p.can_preview(b, new_id()) is False
    assert await p.record_ack(b, rec.id, None, now_ms()) is True
    assert await p.record_ack(b, rec.id, "2026-01-01T00:00:00Z", now_ms()) is False
    assert await p.record_ack(c, rec.id, None, now_ms()) is True  # per user
    monkeypatch.setattr(sql, "MAX_ACKS", 3)
    ids = [new_id() for _ in range(5)]
    for i, pid in enumerate(ids):
        assert await p.record_ack(b, pid, None, 10**13 + i) is True
    # Only the three most recent are kept: the oldest ones count as new again.
    assert await p.record_ack(b, ids[-1], None, 10**13 + 9) is False
    assert await p.record_ack(b, ids[0], None, 10**13 + 10) is True
