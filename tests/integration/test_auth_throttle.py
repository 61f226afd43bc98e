"""Sign-in and registration throttling over real HTTP, behind a trusted
proxy (`X-Forwarded-For` from 127.0.0.1 is believed), and across two nodes
sharing PostgreSQL + NATS. Waits are long (10 minutes) so that nothing here
depends on how fast the test runs; the lockout and its end run with a
controlled clock in tests/core/test_signin_security.py."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.operators_support import PW, own_server
from tests.support import ServerProcess

THROTTLED = {
    "HUBBUB_REGISTRATION": "open",
    "HUBBUB_AUTH_RATE_LIMIT": "true",
    "HUBBUB_TRUSTED_PROXIES": "127.0.0.1/32,::1",
    "HUBBUB_LOGIN_ACCOUNT_FREE": "2",
    "HUBBUB_LOGIN_ACCOUNT_LOCKOUT": "4",
    "HUBBUB_LOGIN_ADDRESS_FREE": "3",
    "HUBBUB_LOGIN_ADDRESS_LOCKOUT": "6",
    "HUBBUB_LOGIN_DELAY_BASE_MS": "600000",
    "HUBBUB_LOGIN_DELAY_MAX_MS": "600000",
    "HUBBUB_REGISTRATIONS_PER_ADDRESS": "2",
}


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with own_server(tmp_path_factory.mktemp("throttle"), THROTTLED) as [srv]:
        yield srv


def via(addr: str) -> dict[str, str]:
    return {"X-Forwarded-For": f"6.6.6.6, {addr}"}  # the left part is the client's own claim


def net() -> str:
    return f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}"


async def account(http: httpx.AsyncClient, addr: str) -> str:
    name = "t" + secrets.token_hex(5)
    r = await http.post(
        "/v1/auth/register", json={"username": name, "password": PW}, headers=via(addr)
    )
    assert r.status_code == 201, r.text
    return name


async def guess(
    http: httpx.AsyncClient, name: str, addr: str, pw: str = "wrong password"
) -> httpx.Response:
    return await http.post(
        "/v1/auth/login", json={"username": name, "password": pw}, headers=via(addr)
    )


async def test_one_account_from_many_addresses(guarded: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=guarded.base_url, timeout=15) as http:
        n = net()
        victim = await account(http, f"{n}.1")
        assert (await guess(http, victim, f"{n}.1", PW)).status_code == 200  # home
        for i in range(2):
            assert (await guess(http, victim, f"{n}.{10 + i}")).status_code == 401
        r = await guess(http, victim, f"{n}.20", PW)  # a new address: slowed down too
        assert r.status_code == 429
        err = r.json()["error"]
        assert err["code"] == "rate_limited" and 0 < err["retry_after_ms"] <= 600_000
        assert int(r.headers["retry-after"]) * 1000 >= err["retry_after_ms"]
        # from the address it signed in from before, the victim is not held back
        assert (await guess(http, victim, f"{n}.1", PW)).status_code == 200


async def test_many_accounts_from_one_address(guarded: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=guarded.base_url, timeout=15) as http:
        n = net()
        names = [await account(http, f"{n}.{i}") for i in range(4)]
        attacker = f"{n}.66"
        for name in names[:3]:
            assert (await guess(http, name, attacker)).status_code == 401
        r = await guess(http, names[3], attacker, PW)
        assert r.status_code == 429 and r.json()["error"]["retry_after_ms"] > 0
        # the address is what is held, not the accounts
        assert (await guess(http, names[3], f"{n}.67", PW)).status_code == 200


async def test_registrations_per_address(guarded: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=guarded.base_url, timeout=15) as http:
        n = net()
        for _ in range(2):
            await account(http, f"{n}.5")
        r = await http.post(
            "/v1/auth/register",
            json={"username": "t" + secrets.token_hex(5), "password": PW},
            headers=via(f"{n}.5"),
        )
        assert r.status_code == 429 and r.json()["error"]["retry_after_ms"] > 0
        await account(http, f"{n}.6")


async def test_limits_hold_across_nodes(tmp_path: Path, pg_url: str, jetstream_url: str) -> None:
    env = {**THROTTLED, "HUBBUB_NATS_PREFIX": "hubbub_t_" + secrets.token_hex(4)}
    nodes = [
        ServerProcess(
            tmp_path / f"n{i}", database_url=pg_url, nats_url=jetstream_url,
            extra_env={**env, "HUBBUB_NODE_ID": f"n{i}"},
        ).start()
        for i in range(2)
    ]  # fmt: skip
    try:
        a = httpx.AsyncClient(base_url=nodes[0].base_url, timeout=15)
        b = httpx.AsyncClient(base_url=nodes[1].base_url, timeout=15)
        n = net()
        victim = await account(a, f"{n}.1")
        assert (await guess(a, victim, f"{n}.2")).status_code == 401
        assert (await guess(b, victim, f"{n}.3")).status_code == 401
        # the failures on two nodes add up: the third attempt, on either, waits
        assert (await guess(a, victim, f"{n}.4", PW)).status_code == 429
        assert (await guess(b, victim, f"{n}.5", PW)).status_code == 429
        await a.aclose()
        await b.aclose()
    finally:
        for s in nodes:
            s.stop()
