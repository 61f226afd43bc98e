"""Helpers of the Symbia (spec 002) tests: accounts with an email, agents and
admins made the operator's way (`hubbub user create --agent`, `hubbub admin
grant`), and a REST client that carries one of the three credentials."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support import DEFAULT_TIMEOUT, ServerProcess, hubbub_cli

PW = "correct horse battery"


@dataclass
class Person:
    """An account and a REST client carrying its bearer token."""

    user_id: str
    username: str
    email: str
    token: str
    http: httpx.AsyncClient

    async def call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return await self.http.request(method, "/api" + path, **kw)

    async def ok(self, method: str, path: str, status: int = 200, **kw: Any) -> Any:
        r = await self.call(method, path, **kw)
        assert r.status_code == status, f"{method} {path}: {r.status_code} {r.text}"
        return r.json() if r.content else None

    async def aclose(self) -> None:
        await self.http.aclose()


def client(server: ServerProcess, **headers: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server.base_url, timeout=DEFAULT_TIMEOUT, headers=headers)


async def login(server: ServerProcess, email: str, password: str = PW) -> httpx.Response:
    async with client(server) as http:
        return await http.post("/api/auth/login", json={"email": email, "password": password})


async def person(
    server: ServerProcess, *, agent: bool = False, admin: bool = False, kind: str = "user"
) -> Person:
    """A new account, signed in by email: registered for a person, created by
    the CLI (`--agent`, `--service`, `--bot`) for an automated kind."""
    kind = "agent" if agent else kind
    name = kind[0] + secrets.token_hex(5)
    email = f"{name}@example.test"
    if kind != "user":
        await hubbub_cli(
            server,
            "user",
            "create",
            name,
            f"--{kind}",
            "--email",
            email,
            "--password-stdin",
            stdin=PW,
        )
    else:
        async with client(server) as http:
            r = await http.post(
                "/v1/auth/register", json={"username": name, "password": PW, "email": email}
            )
            assert r.status_code == 201, r.text
    if admin:
        await hubbub_cli(server, "admin", "grant", name)
    r = await login(server, email)
    assert r.status_code == 200, r.text
    body = r.json()
    token = body["token"]
    return Person(
        body["user"]["id"], name, email, token, client(server, Authorization=f"Bearer {token}")
    )


async def group(owner: Person, *others: Person, **extra: Any) -> dict[str, Any]:
    body = {"type": "group", "name": "g-" + secrets.token_hex(3), **extra}
    body["participants"] = [{"userId": p.user_id} for p in others]
    return await owner.ok("POST", "/conversations", 201, json=body)  # type: ignore[no-any-return]
