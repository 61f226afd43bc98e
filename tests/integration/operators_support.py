"""Servers of their own for the operator and security tests: a fresh
database each (the first account of a server is special), on the suite's
backend."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import BACKEND, PG_ADMIN_URL, _pg_create, _pg_drop, _run_blocking
from tests.support import ServerProcess

PW = "correct horse battery"


@contextmanager
def own_database() -> Iterator[str]:
    """A new PostgreSQL database on the postgres-nats backend; "" (SQLite in
    the server's data dir) otherwise."""
    if BACKEND != "postgres-nats":
        yield ""
        return
    name = "hubbub_ops_" + secrets.token_hex(4)
    _run_blocking(_pg_create(name))
    try:
        yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        _run_blocking(_pg_drop(name))


@contextmanager
def own_server(
    data_dir: Path, env: dict[str, str], nodes: int = 1
) -> Iterator[list[ServerProcess]]:
    with own_database() as url:
        started: list[ServerProcess] = []
        try:
            for i in range(nodes):
                started.append(
                    ServerProcess(
                        data_dir / f"n{i}",
                        database_url=url,
                        extra_env={**env, "HUBBUB_NODE_ID": f"n{i}"},
                    ).start()
                )
            yield started
        finally:
            for s in started:
                s.stop()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def register(
    http: httpx.AsyncClient, name: str | None = None, **extra: Any
) -> httpx.Response:
    username = name or "u" + secrets.token_hex(5)
    return await http.post(
        "/v1/auth/register", json={"username": username, "password": PW, **extra}
    )


async def login(
    http: httpx.AsyncClient, username: str, password: str = PW, **extra: Any
) -> httpx.Response:
    return await http.post(
        "/v1/auth/login", json={"username": username, "password": password, **extra}
    )
