"""Accounts on a real SQLite store with a controlled clock: a token's last use
is refreshed at most once a minute, in the background, and never for a
revoked token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hubbub.bus.inprocess import InProcessBus
from hubbub.core.accounts import TOUCH_EVERY_MS, Accounts
from hubbub.core.context import Caller
from hubbub.core.publisher import Publisher
from hubbub.errors import NotFound, Unauthorized
from hubbub.store.sql.engine import create_engine
from hubbub.store.sql.migrate import migrate
from hubbub.store.sql.stores import SqlStores
from hubbub.store.sql.writer import GroupCommitWriter

T0 = 1_800_000_000_000


class ManualClock:
    def __init__(self) -> None:
        self.now = T0

    def now_ms(self) -> int:
        return self.now


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[tuple[Accounts, ManualClock]]:
    engine = create_engine(f"sqlite:///{tmp_path / 'a.db'}")
    await migrate(engine)
    writer = GroupCommitWriter(engine)
    writer.start()
    clock = ManualClock()
    store = SqlStores.build(engine, writer, clock.now_ms)
    accounts = Accounts(
        store.accounts, Publisher(InProcessBus()), clock, time_cost=1, memory_kib=64
    )
    yield accounts, clock
    await accounts.close()
    await writer.close()
    await engine.dispose()


async def test_last_use_is_refreshed_at_most_once_a_minute(
    setup: tuple[Accounts, ManualClock],
) -> None:
    accounts, clock = setup
    uid, token = await accounts.register("touchy", "correct horse battery")
    info = await accounts.authenticate(token)
    assert (info.created_at, info.last_used_at) == (T0, T0)

    clock.now = T0 + TOUCH_EVERY_MS - 1
    await accounts.authenticate(token)
    await accounts.close()  # waits for any background update
    assert (await accounts.authenticate(token)).last_used_at == T0

    clock.now = T0 + TOUCH_EVERY_MS
    await accounts.authenticate(token)
    await accounts.close()
    caller = Caller(uid, info.device_id, None, info.token_hash)
    [listed] = await accounts.list_tokens(caller)
    assert listed.last_used_at == T0 + TOUCH_EVERY_MS
    assert listed.token_id == info.token_id and listed.created_at == T0


async def test_revoked_token_is_refused_and_its_id_then_unknown(
    setup: tuple[Accounts, ManualClock],
) -> None:
    accounts, _ = setup
    uid, token = await accounts.register("gone", "correct horse battery")
    info = await accounts.authenticate(token)
    caller = Caller(uid, info.device_id, None, info.token_hash)
    await accounts.revoke_token(caller, info.token_id)
    with pytest.raises(Unauthorized):
        await accounts.authenticate(token)
    with pytest.raises(NotFound):
        await accounts.revoke_token(caller, info.token_id)
    for odd in ("", "x" * 65, "a\x00b"):
        with pytest.raises(NotFound):
            await accounts.revoke_token(caller, odd)
