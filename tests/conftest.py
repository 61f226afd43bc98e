"""Shared fixtures: one real server process per test session (SQLite), and
PostgreSQL when reachable (required when HUBBUB_REQUIRE_SERVICES=1, as in CI)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import secrets
import socket
from collections.abc import AsyncIterator, Coroutine, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.integration.mtchat import ENV as MTCHAT_ENV
from tests.support import Api, ServerProcess

PG_ADMIN_URL = os.environ.get("HUBBUB_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REQUIRE = os.environ.get("HUBBUB_REQUIRE_SERVICES") == "1"
NATS_URL = os.environ.get("HUBBUB_TEST_NATS", "nats://127.0.0.1:4222")


BACKEND = os.environ.get("HUBBUB_TEST_BACKEND", "sqlite")

# The longest test files (measured with --durations), longest first. Under
# pytest-xdist (`make test`: --dist loadfile) a worker takes whole files in
# collection order, so one of these collected late would run alone at the end
# while the other worker idles; first, they overlap with everything else.
LONGEST_FIRST = (
    "tests/reliability/test_schemathesis.py",
    "tests/integration/test_operators.py",
    "tests/web/test_browser.py",
    "tests/test_bench_smoke.py",
    "tests/reliability/test_authz_matrix.py",
    "tests/integration/test_durability.py",
    "tests/integration/test_operator_cli_offline.py",
    "tests/integration/test_chat_events.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On xdist workers only: `LONGEST_FIRST` files first, the rest in their order
    (a stable sort by file, so each file's tests stay together and in order)."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))


@pytest.fixture(scope="session", autouse=True)
def backend(request: pytest.FixtureRequest) -> str:
    """`sqlite` (default) or `postgres-nats`: what every test server runs on.

    The integration suite runs once per backend (see the Makefile).
    """
    if BACKEND == "postgres-nats":
        ServerProcess.default_database_url = request.getfixturevalue("pg_url")
        ServerProcess.default_nats_url = request.getfixturevalue("jetstream_url")
        os.environ["HUBBUB_NATS_PREFIX"] = "hubbub_t_" + secrets.token_hex(4)
    elif BACKEND != "sqlite":
        pytest.fail(f"unknown HUBBUB_TEST_BACKEND {BACKEND!r}")
    return BACKEND


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Iterator[ServerProcess]:
    # Spec 003 (MTChat) configured, so its routes are in the authorization matrix.
    proc = ServerProcess(tmp_path_factory.mktemp("server"), extra_env=MTCHAT_ENV).start()
    yield proc
    proc.stop()


@pytest.fixture
async def api(server: ServerProcess) -> AsyncIterator[Api]:
    a = Api(server)
    yield a
    await a.aclose()


async def _pg_create(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _pg_drop(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def _run_blocking(coro: Coroutine[Any, Any, None]) -> None:
    """Run a coroutine to completion even when called from inside a running loop."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coro).result()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this session, dropped afterwards."""
    name = "hubbub_test_" + secrets.token_hex(4)
    try:
        _run_blocking(_pg_create(name))
    except Exception as exc:
        if REQUIRE:
            pytest.fail(f"PostgreSQL required but unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    _run_blocking(_pg_drop(name))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def nats_probe(url: str, jetstream: bool) -> None:
    """Read the server's INFO line over a plain socket (no event loop needed)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port or 4222), timeout=2) as sock:
        line = sock.makefile("rb").readline()
    if not line.startswith(b"INFO "):
        raise ConnectionError(f"not a NATS server: {line[:40]!r}")
    if jetstream and not json.loads(line[5:]).get("jetstream"):
        raise ConnectionError("JetStream is not enabled")


def _require(url: str, jetstream: bool) -> None:
    try:
        nats_probe(url, jetstream)
    except OSError as exc:
        what = "NATS JetStream" if jetstream else "NATS"
        if REQUIRE:
            pytest.fail(f"{what} required but unreachable at {url}: {exc!r}")
        pytest.skip(f"{what} unreachable at {url}: {exc!r}")


@pytest.fixture(scope="session")
def nats_url() -> str:
    _require(NATS_URL, jetstream=False)
    return NATS_URL


@pytest.fixture(scope="session")
def jetstream_url(nats_url: str) -> str:
    _require(nats_url, jetstream=True)
    return nats_url
