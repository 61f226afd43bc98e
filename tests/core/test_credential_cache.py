"""The credential cache of Symbia's REST auth (`core/credential_cache.py`) on a
real SQLite store, real accounts and API keys, and a controlled clock: a
revocation published by this node ends a cached credential at once; one
nobody publishes here (an operator command in another process) ends it at
`TTL_MS`; a lookup that raced a revocation is not kept; concurrent misses
share one lookup."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hubbub.bus.inprocess import InProcessBus
from hubbub.core.accounts import Accounts, hash_token
from hubbub.core.apikeys import ApiKeys
from hubbub.core.audit import Audit
from hubbub.core.context import Caller
from hubbub.core.credential_cache import TTL_MS, CredentialCache
from hubbub.core.model import TokenInfo, User
from hubbub.core.publisher import Publisher
from hubbub.errors import Unauthorized
from hubbub.store.sql.engine import create_engine
from hubbub.store.sql.migrate import migrate
from hubbub.store.sql.stores import SqlStores
from hubbub.store.sql.writer import GroupCommitWriter
from tests.core.test_accounts import T0, ManualClock

PW = "correct horse battery"


@dataclass
class World:
    accounts: Accounts
    apikeys: ApiKeys
    stores: SqlStores
    cache: CredentialCache
    clock: ManualClock
    lookups: list[str]

    async def resolve(self, kind: str, secret: str) -> tuple[TokenInfo, User]:
        """What Symbia's `resolve` does: the credential, then its active account."""

        async def lookup() -> tuple[TokenInfo, User]:
            self.lookups.append(kind)
            if kind == "api_key":
                info = await self.apikeys.authenticate(secret)
            else:
                info = await self.accounts.authenticate(secret)
            user = await self.accounts.get_user(info.user_id)
            if user is None or user.deactivated_at is not None:
                raise Unauthorized("inactive")
            return info, user

        return await self.cache.resolve(kind, secret, lookup)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    engine = create_engine(f"sqlite:///{tmp_path / 'c.db'}")
    await migrate(engine)
    writer = GroupCommitWriter(engine)
    writer.start()
    clock = ManualClock()
    stores = SqlStores.build(engine, writer, clock.now_ms)
    publisher = Publisher(InProcessBus())
    cache = CredentialCache(clock)
    publisher.on_revoke.append(cache.forget)  # as runtime.Node wires it
    accounts = Accounts(stores.accounts, publisher, clock, time_cost=1, memory_kib=64)
    apikeys = ApiKeys(stores.apikeys, publisher, Audit(stores.audit, clock), clock)
    yield World(accounts, apikeys, stores, cache, clock, [])
    await apikeys.close()
    await accounts.close()
    await writer.close()
    await engine.dispose()


async def test_a_hit_reads_nothing_and_an_unpublished_revocation_ends_at_the_ttl(
    world: World,
) -> None:
    uid, token = await world.accounts.register("cached", PW)
    info, user = await world.resolve("token", token)
    assert (info.user_id, user.id, user.password_hash) == (uid, uid, "")
    await world.resolve("token", token)
    assert world.lookups == ["token"]  # the second request read nothing

    # Revoked in the database without telling this node (another process's
    # command): still served until the bound, refused from it on.
    assert await world.stores.accounts.revoke_token(hash_token(token), T0)
    world.clock.now = T0 + TTL_MS - 1
    assert (await world.resolve("token", token))[0].user_id == uid
    world.clock.now = T0 + TTL_MS
    with pytest.raises(Unauthorized):
        await world.resolve("token", token)
    with pytest.raises(Unauthorized):  # a failure is never cached
        await world.resolve("token", token)
    assert world.lookups == ["token", "token", "token"]


async def test_published_revocations_end_a_cached_credential_at_once(world: World) -> None:
    uid, token = await world.accounts.register("logout", PW)
    await world.resolve("token", token)
    await world.accounts.logout(token)
    with pytest.raises(Unauthorized):
        await world.resolve("token", token)

    key, record = await world.apikeys.create(uid, "bot")
    assert (await world.resolve("api_key", key))[0].kind == "api_key"
    await world.apikeys.revoke(Caller(uid, "d"), record.id)
    with pytest.raises(Unauthorized):
        await world.resolve("api_key", key)

    # Deactivation revokes every token and key of the account.
    uid2, token2 = await world.accounts.register("leaver", PW)
    key2, _ = await world.apikeys.create(uid2, "bot")
    await world.resolve("token", token2)
    await world.resolve("api_key", key2)
    assert await world.accounts.deactivate(uid2)
    for kind, secret in (("token", token2), ("api_key", key2)):
        with pytest.raises(Unauthorized):
            await world.resolve(kind, secret)
    assert world.clock.now == T0  # no time passed: "at once"


async def test_a_lookup_that_raced_a_revocation_is_not_kept(world: World) -> None:
    uid, token = await world.accounts.register("racer", PW)
    info = await world.accounts.authenticate(token)
    user = await world.accounts.get_user(uid)
    assert user is not None
    release = asyncio.Event()
    started = asyncio.Event()

    async def slow_lookup() -> tuple[TokenInfo, User]:
        started.set()
        await release.wait()
        return info, user  # read before the revocation below

    first = asyncio.ensure_future(world.cache.resolve("token", token, slow_lookup))
    await asyncio.wait_for(started.wait(), 5)
    await world.accounts.logout(token)  # publishes: forget
    release.set()
    assert (await first)[0].user_id == uid  # it was valid when that request came
    with pytest.raises(Unauthorized):  # but it was not remembered
        await world.resolve("token", token)


async def test_concurrent_misses_share_one_lookup(world: World) -> None:
    uid, token = await world.accounts.register("herd", PW)
    results = await asyncio.gather(*(world.resolve("token", token) for _ in range(20)))
    assert {info.user_id for info, _ in results} == {uid}
    assert world.lookups == ["token"]
