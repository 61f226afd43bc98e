"""Plain clients of spec 003 (MTChat), as its SDK talks: REST with a JWT and
`?user_id=`, and the flat-JSON WebSocket at `/api/v1/ws`."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import jwt
from websockets.asyncio.client import ClientConnection, connect

from tests.support import DEFAULT_TIMEOUT, ServerProcess

SECRET = "mtchat-test-secret-0123456789abcdef"
ADMIN = "mtchat-admin-token-0123456789"
ENV = {"HUBBUB_MTCHAT_JWT_SECRET": SECRET, "HUBBUB_MTCHAT_ADMIN_TOKEN": ADMIN}


def new_user() -> str:
    return str(uuid.uuid4())


def token_for(user: str, *, secret: str = SECRET, ttl: int = 3600) -> str:
    return jwt.encode({"sub": user, "exp": int(time.time()) + ttl}, secret, algorithm="HS256")


def scope_header(level0: list[str], level1: list[str] = [], level2: list[str] = []) -> str:  # noqa: B006
    raw = json.dumps({"scope_level0": level0, "scope_level1": level1, "scope_level2": level2})
    return base64.b64encode(raw.encode()).decode()


class Mt:
    """One MTChat user of the host application, over REST."""

    def __init__(self, server: ServerProcess, user: str | None = None, scope: str = "") -> None:
        self.server = server
        self.user = user or new_user()
        self.token = token_for(self.user)
        self.scope = scope
        self.http = httpx.AsyncClient(base_url=server.base_url, timeout=DEFAULT_TIMEOUT)

    def headers(self) -> dict[str, str]:
        h = {"Authorization": f"Bearer {self.token}"}
        if self.scope:
            h["X-Scope-Config"] = self.scope
        return h

    async def call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        params = {"user_id": self.user, **kw.pop("params", {})}
        return await self.http.request(
            method, "/api/v1" + path, params=params, headers=self.headers(), **kw
        )

    async def ok(self, method: str, path: str, **kw: Any) -> Any:
        r = await self.call(method, path, **kw)
        assert r.status_code in (200, 204), (r.status_code, r.text)
        return r.json() if r.status_code == 200 else None

    async def aclose(self) -> None:
        await self.http.aclose()


async def admin(server: ServerProcess, method: str, path: str, **kw: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=DEFAULT_TIMEOUT) as http:
        return await http.request(
            method,
            "/api/v1/management" + path,
            headers={"Authorization": f"Bearer {ADMIN}"},
            **kw,
        )


async def create_dialog(
    server: ServerProcess, people: list[Mt], scopes: list[dict[str, list[str]]], **extra: Any
) -> str:
    body = {
        "object_id": str(uuid.uuid4()),
        "object_type": "order",
        "title": "Order #1234",
        "participants": [
            {"user_id": p.user, "display_name": f"User {p.user[:4]}", "company": "Acme"}
            for p in people
        ],
        "access_scopes": scopes,
        **extra,
    }
    r = await admin(server, "POST", "/dialogs", json=body)
    assert r.status_code == 200, r.text
    return str(r.json()["data"]["id"])


class MtSocket:
    """MTChat's WebSocket: flat frames with a `type`."""

    def __init__(self) -> None:
        self.ws: ClientConnection | None = None
        self.frames: list[dict[str, Any]] = []
        self.closed = False
        self._changed = asyncio.Condition()
        self._reader: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, server: ServerProcess, query: str) -> MtSocket:
        self = cls()
        url = server.base_url.replace("http://", "ws://") + "/api/v1/ws?" + query
        self.ws = await connect(url)
        self._reader = asyncio.create_task(self._read())
        await self.wait_for(lambda f: f["type"] == "connected")
        return self

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for raw in self.ws:
                async with self._changed:
                    self.frames.append(json.loads(raw))
                    self._changed.notify_all()
        except Exception:
            pass
        finally:
            async with self._changed:
                self.closed = True
                self._changed.notify_all()

    async def send(self, frame: dict[str, Any]) -> None:
        assert self.ws is not None
        await self.ws.send(json.dumps(frame))

    async def wait_for(
        self, pred: Callable[[dict[str, Any]], bool], timeout: float = DEFAULT_TIMEOUT
    ) -> dict[str, Any]:
        async def check() -> dict[str, Any]:
            async with self._changed:
                while True:
                    for f in self.frames:
                        if pred(f):
                            return f
                    if self.closed:
                        raise AssertionError(f"closed while waiting; got {self.frames}")
                    await self._changed.wait()

        return await asyncio.wait_for(check(), timeout)

    async def event(self, type_: str, **match: Any) -> dict[str, Any]:
        return await self.wait_for(
            lambda f: f["type"] == type_ and all(f.get(k) == v for k, v in match.items())
        )

    def seen(self, type_: str, **match: Any) -> list[dict[str, Any]]:
        return [
            f
            for f in self.frames
            if f["type"] == type_ and all(f.get(k) == v for k, v in match.items())
        ]

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            await self._reader
