"""Sign-in throttling, registration tokens and TOTP on a real store (SQLite,
and PostgreSQL when reachable) with a controlled clock: lockouts end when
they say, an attacker cannot keep a victim locked out from fresh addresses,
tokens expire, a TOTP code is good once and the next window's code works."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pyotp
import pytest

from hubbub.bus.inprocess import InProcessBus
from hubbub.core.accounts import Accounts
from hubbub.core.admin import Admin
from hubbub.core.audit import Audit
from hubbub.core.context import Caller
from hubbub.core.ports.audit import AuditQuery
from hubbub.core.publisher import Publisher
from hubbub.core.signin import SignIn
from hubbub.core.throttle import Throttle, ThrottlePolicy, address_key, client_address
from hubbub.core.totp import STEP_S, Totp
from hubbub.errors import Forbidden, RateLimited, Unauthorized
from hubbub.store.sql.engine import create_engine
from hubbub.store.sql.migrate import migrate
from hubbub.store.sql.stores import SqlStores
from hubbub.store.sql.writer import GroupCommitWriter
from tests.conftest import PG_ADMIN_URL, _pg_create, _pg_drop
from tests.core.test_accounts import T0, ManualClock

PW = "correct horse battery"
POLICY = ThrottlePolicy(
    account_free=3,
    account_lockout=6,
    address_free=5,
    address_lockout=8,
    delay_base_ms=1_000,
    delay_max_ms=8_000,
    lockout_ms=15 * 60_000,
    failure_window_ms=3600_000,
    registrations_per_address=3,
    registration_window_ms=3600_000,
)


@dataclass
class World:
    clock: ManualClock
    accounts: Accounts
    signin: SignIn
    admin: Admin
    audit: Audit
    totp: Totp


@pytest.fixture(params=["sqlite", "postgres"])
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    name = ""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 's.db'}"
    else:
        request.getfixturevalue("pg_url")  # skips (or fails) when PostgreSQL is unreachable
        name = "hubbub_sec_" + secrets.token_hex(4)
        await _pg_create(name)
        url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    engine = create_engine(url, pool_size=2)
    await migrate(engine)
    writer = GroupCommitWriter(engine)
    writer.start()
    clock = ManualClock()
    st = SqlStores.build(engine, writer, clock.now_ms)
    throttle = Throttle(st.throttle, clock, POLICY)
    accounts = Accounts(
        st.accounts, Publisher(InProcessBus()), clock, time_cost=1, memory_kib=64,
        throttle=throttle,
    )  # fmt: skip
    audit = Audit(st.audit, clock)
    totp = Totp(st.totp, accounts, audit, clock)
    signin = SignIn(accounts, throttle, audit, registration="token", second_factor=totp)
    admin = Admin(accounts, st.admin, st.registration, audit, clock)
    yield World(clock, accounts, signin, admin, audit, totp)
    await accounts.close()
    await writer.close()
    await engine.dispose()
    if name:
        await _pg_drop(name)


async def login(w: World, user: str, pw: str, addr: str, **kw: str) -> str:
    _uid, token = await w.signin.login(pw, username=user, address=addr, **kw)
    return token


async def lock_out(w: World, user: str, net: str) -> int:
    """Guess wrong from a fresh address each time, each just after the wait,
    until the account is locked; how long the lock has left."""
    for i in range(POLICY.account_lockout):
        with pytest.raises(Unauthorized):
            await login(w, user, "wrong password", f"{net}.{i}")
        if i == POLICY.account_free - 1:
            # slowed down: the next attempt, from any address, must wait a second
            with pytest.raises(RateLimited) as slow:
                await login(w, user, PW, f"{net}.99")
            assert slow.value.retry_after_ms == POLICY.delay_base_ms
        w.clock.now += POLICY.delay_max_ms
    with pytest.raises(RateLimited) as locked:
        await login(w, user, PW, f"{net}.200")
    left = locked.value.retry_after_ms
    assert left is not None and left == POLICY.lockout_ms - POLICY.delay_max_ms
    return left


async def test_brute_force_on_one_account_from_many_addresses(world: World) -> None:
    w = world
    await w.accounts.register("victim", PW)
    # the victim signed in from home once: that address is known
    await login(w, "victim", PW, "198.51.100.7")
    left = await lock_out(w, "victim", "203.0.113")
    # refused attempts during the lockout do not extend it
    for i in range(20):
        with pytest.raises(RateLimited) as again:
            await login(w, "victim", "wrong password", f"192.0.2.{i}")
        assert again.value.retry_after_ms == left
    # the lockout served, the victim signs in from anywhere
    w.clock.now += left
    assert await login(w, "victim", PW, "192.0.2.250")
    # the slate is clean: a wrong password is a plain 401 again
    with pytest.raises(Unauthorized):
        await login(w, "victim", "wrong password", "192.0.2.251")
    w.clock.now += POLICY.failure_window_ms + 1  # (that failure forgotten)
    # locked out again: from the known address the victim signs in even now
    await lock_out(w, "victim", "198.18.0")
    assert await login(w, "victim", PW, "198.51.100.7")


async def test_many_accounts_from_one_address(world: World) -> None:
    w = world
    names = [f"member{i}" for i in range(POLICY.address_lockout + 2)]
    for n in names:
        await w.accounts.register(n, PW)
    addr = "203.0.113.50"
    for n in names[: POLICY.address_free]:
        with pytest.raises(Unauthorized):
            await login(w, n, "wrong password", addr)
    with pytest.raises(RateLimited) as slow:
        await login(w, names[-1], PW, addr)  # even the right password waits
    assert slow.value.retry_after_ms == POLICY.delay_base_ms
    for n in names[POLICY.address_free : POLICY.address_lockout]:
        w.clock.now += POLICY.delay_max_ms
        with pytest.raises(Unauthorized):
            await login(w, n, "wrong password", addr)
    w.clock.now += POLICY.delay_max_ms
    with pytest.raises(RateLimited) as locked:
        await login(w, names[-1], PW, addr)
    assert locked.value.retry_after_ms is not None
    assert locked.value.retry_after_ms > POLICY.delay_max_ms
    # IPv6: the whole /64 is one address
    assert address_key("2001:db8::1") == address_key("2001:db8::ffff:1") == "2001:db8::/64"
    # other addresses are not affected
    assert await login(w, names[-1], PW, "198.51.100.1")
    w.clock.now += locked.value.retry_after_ms
    assert await login(w, names[-1], PW, addr)


async def test_success_forgives_only_its_own_attempt_on_the_address(world: World) -> None:
    """An attacker who owns an account cannot wash an address clean by
    signing in to it between guesses."""
    w = world
    await w.accounts.register("mine", PW)
    await w.accounts.register("target", PW)
    addr = "203.0.113.80"
    for _ in range(POLICY.address_free):
        with pytest.raises(Unauthorized):
            await _guess(w, addr)
        w.clock.now += POLICY.delay_max_ms
        await login(w, "mine", PW, addr)
    with pytest.raises(RateLimited):
        await login(w, "target", PW, addr)


async def _guess(w: World, addr: str) -> None:
    await w.signin.login("wrong password", username="nobody-" + secrets.token_hex(3), address=addr)


async def test_registration_per_address_and_tokens(world: World) -> None:
    w = world
    first, _ = await w.signin.register("founder", PW, address="198.51.100.2")
    assert first.is_admin  # the very first account, without a token
    with pytest.raises(Forbidden):
        await w.signin.register("second", PW, address="198.51.100.3")
    op = Caller(first.id, "d")
    made = await w.admin.create_invite(op, uses_allowed=2, expires_in_ms=60_000)
    u2, _ = await w.signin.register(
        "second", PW, registration_token=made.token, address="198.51.100.3"
    )
    assert not u2.is_admin
    await w.signin.register("third", PW, registration_token=made.token, address="198.51.100.4")
    with pytest.raises(Forbidden):  # used up
        await w.signin.register("fourth", PW, registration_token=made.token, address="198.51.100.5")
    timed = await w.admin.create_invite(op, uses_allowed=None, expires_in_ms=60_000)
    w.clock.now += 60_000
    with pytest.raises(Forbidden):  # expired
        await w.signin.register("fifth", PW, registration_token=timed.token, address="198.51.100.6")
    # per address: the fourth attempt within the window is refused, whatever it is
    addr = "203.0.113.9"
    for i in range(POLICY.registrations_per_address):
        with pytest.raises(Forbidden):
            await w.signin.register(f"late{i}", PW, address=addr)
    with pytest.raises(RateLimited) as limited:
        await w.signin.register("late", PW, address=addr)
    assert limited.value.retry_after_ms == POLICY.registration_window_ms
    w.clock.now += POLICY.registration_window_ms
    with pytest.raises(Forbidden):  # counted again, and refused only by the policy
        await w.signin.register("late", PW, address=addr)
    [entry] = await w.admin.read_audit(op, AuditQuery(action="registration_token.create", limit=1))
    assert entry.target_id == timed.invite.id and timed.token not in str(entry.detail)


async def test_totp_code_is_good_once_and_recovery_codes_once(world: World) -> None:
    w = world
    uid, token = await w.accounts.register("careful", PW)
    me = Caller(uid, "d")
    with pytest.raises(Forbidden):
        await w.totp.enroll(me, "not my password")
    enrolment = await w.totp.enroll(me, PW)
    otp = pyotp.TOTP(enrolment.secret, interval=STEP_S)

    def code(offset_steps: int = 0) -> str:
        return str(otp.at(w.clock.now // 1000 + offset_steps * STEP_S))

    recovery = await w.totp.confirm(me, code())
    assert len(recovery) == 10 and len(set(recovery)) == 10
    # the code that enabled it cannot sign in
    with pytest.raises(Unauthorized) as replay:
        await login(w, "careful", PW, "198.51.100.9", totp_code=code())
    assert replay.value.path == "$.totp_code"
    with pytest.raises(Unauthorized) as missing:
        await login(w, "careful", PW, "198.51.100.9")
    assert missing.value.path == "$.totp_code"
    w.clock.now += STEP_S * 1000
    fresh = code()
    assert await login(w, "careful", PW, "198.51.100.9", totp_code=fresh)
    with pytest.raises(Unauthorized):  # the same code again, inside its window
        await login(w, "careful", PW, "198.51.100.9", totp_code=fresh)
    # the next window's code is accepted early (drift), and then the current one is old
    w.clock.now += STEP_S * 1000
    assert await login(w, "careful", PW, "198.51.100.9", totp_code=code(+1))
    with pytest.raises(Unauthorized):
        await login(w, "careful", PW, "198.51.100.9", totp_code=code())
    # a recovery code works once
    assert await login(w, "careful", PW, "198.51.100.9", recovery_code=recovery[0].upper())
    with pytest.raises(Unauthorized):
        await login(w, "careful", PW, "198.51.100.9", recovery_code=recovery[0])
    assert await w.totp.status(me) == (True, 9)
    await w.totp.disable(me, PW)
    assert await login(w, "careful", PW, "198.51.100.10")
    actions = [e.action for e in await w.audit.read(AuditQuery(actor_id=uid, limit=50))]
    assert {"totp.enroll", "totp.enable", "totp.disable", "recovery_code.used"} <= set(actions)
    assert token


def test_client_address_believes_forwarded_for_only_from_trusted_proxies() -> None:
    xff = "6.6.6.6, 203.0.113.5, 10.0.0.2"
    assert client_address("10.0.0.1", xff, ()) == "10.0.0.1"
    assert client_address("192.0.2.1", xff, ("10.0.0.0/8",)) == "192.0.2.1"
    # right to left, skipping trusted hops: what the client wrote on the left is ignored
    assert client_address("10.0.0.1", xff, ("10.0.0.0/8",)) == "203.0.113.5"
    assert client_address("10.0.0.1", "garbage, 203.0.113.5", ("10.0.0.0/8",)) == "203.0.113.5"
    assert client_address("10.0.0.1", "203.0.113.5, garbage", ("10.0.0.0/8",)) == "10.0.0.1"
    assert client_address("10.0.0.1", None, ("10.0.0.0/8",)) == "10.0.0.1"
    assert client_address(None, None, ()) == "unknown"
    assert T0 > 0


async def test_racing_first_registrations_make_one_admin_and_a_last_use_is_spent_once(
    world: World,
) -> None:
    import asyncio

    w = world
    results = await asyncio.gather(
        *[w.signin.register(f"first{i}", PW, address=f"198.51.100.{i}") for i in range(4)],
        return_exceptions=True,
    )
    won = [r for r in results if not isinstance(r, BaseException)]
    assert len(won) == 1 and won[0][0].is_admin
    assert all(isinstance(r, Forbidden) for r in results if isinstance(r, BaseException))
    made = await w.admin.create_invite(Caller(won[0][0].id, "d"), uses_allowed=1)
    raced = await asyncio.gather(
        *[
            w.signin.register(
                f"invited{i}", PW, registration_token=made.token, address=f"192.0.2.{i}"
            )
            for i in range(4)
        ],
        return_exceptions=True,
    )
    assert sum(not isinstance(r, BaseException) for r in raced) == 1


async def test_a_stolen_session_cannot_guess_the_password(world: World) -> None:
    """Password checks behind a session (password change, deactivation, 2FA)
    count against the account's sign-in limits."""
    w = world
    uid, _token = await w.accounts.register("held", PW)
    thief = Caller(uid, "d")
    for _ in range(POLICY.account_free):
        with pytest.raises(Forbidden):
            await w.accounts.change_password(thief, "guess one two", "new password!", "192.0.2.7")
    with pytest.raises(RateLimited):
        await w.accounts.verify_password(thief, PW, "192.0.2.8")
    with pytest.raises(RateLimited):  # signing in is slowed down the same way
        await login(w, "held", PW, "192.0.2.9")
    w.clock.now += POLICY.delay_base_ms
    assert (await w.accounts.verify_password(thief, PW, "192.0.2.8")).id == uid
