"""A plain WebSocket client of the public room (spec 001), for tests.

It speaks only the seed's JSON: no hubbub envelope, no auth unless a test
adds a token. Waiting is on conditions with timeouts, never a bare sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Callable
from typing import Any

import msgspec
from websockets.asyncio.client import ClientConnection, connect

from tests.support import DEFAULT_TIMEOUT, ProtocolError, ServerProcess

Frame = dict[str, Any]


def room_url(server: ServerProcess, path: str = "/") -> str:
    return server.base_url.replace("http://", "ws://") + path


def fresh_name(prefix: str = "u") -> str:
    return prefix + secrets.token_hex(4)


class RoomClient:
    def __init__(self, server: ServerProcess, path: str = "/") -> None:
        self.server = server
        self.path = path
        self.ws: ClientConnection | None = None
        self.frames: list[Frame] = []
        self.closed: tuple[int | None, str | None] | None = None
        self._changed = asyncio.Condition()
        self._reader: asyncio.Task[None] | None = None
        self.handle = ""
        self.username = ""

    async def connect(self, headers: dict[str, str] | None = None) -> RoomClient:
        self.ws = await connect(
            room_url(self.server, self.path), additional_headers=headers or {}, max_size=2**24
        )
        self._reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for raw in self.ws:
                frame = msgspec.json.decode(raw)
                async with self._changed:
                    self.frames.append(frame)
                    self._changed.notify_all()
        except Exception:
            pass
        finally:
            async with self._changed:
                self.closed = (self.ws.close_code, self.ws.close_reason)
                self._changed.notify_all()

    async def send(self, payload: Any) -> None:
        assert self.ws is not None
        await self.ws.send(
            payload if isinstance(payload, str | bytes) else msgspec.json.encode(payload).decode()
        )

    async def wait_for(
        self, pred: Callable[[Frame], bool], timeout: float = DEFAULT_TIMEOUT, after: int = 0
    ) -> Frame:
        """The first frame (from index `after`) matching `pred`."""

        async def check() -> Frame:
            async with self._changed:
                while True:
                    for f in self.frames[after:]:
                        if pred(f):
                            return f
                    if self.closed is not None:
                        raise ProtocolError(f"connection closed {self.closed} while waiting")
                    await self._changed.wait()

        return await asyncio.wait_for(check(), timeout)

    async def next_frame(self, timeout: float = DEFAULT_TIMEOUT) -> Frame:
        """The next frame after those already seen by this call's caller."""
        mark = len(self.frames)
        return await self.wait_for(lambda _f: True, timeout, after=mark)

    async def request(self, payload: Any, timeout: float = DEFAULT_TIMEOUT) -> Frame:
        """Send, and return the next frame that arrives after it."""
        mark = len(self.frames)
        await self.send(payload)
        return await self.wait_for(lambda _f: True, timeout, after=mark)

    async def error(self, payload: Any, timeout: float = DEFAULT_TIMEOUT) -> Frame:
        """Send, and return the error it got (other frames may arrive meanwhile)."""
        mark = len(self.frames)
        await self.send(payload)
        return await self.wait_for(lambda f: f.get("type") == "error", timeout, after=mark)

    async def init(
        self, username: str | None = None, handle: str | None = None, **extra: Any
    ) -> tuple[Frame, Frame]:
        """Join: returns (userData, history)."""
        self.username = username or fresh_name()
        self.handle = handle or "id-" + secrets.token_hex(6)
        mark = len(self.frames)
        await self.send({"type": "init", "username": self.username, "id": self.handle, **extra})
        first = await self.wait_for(lambda f: f.get("type") in ("userData", "error"), after=mark)
        if first["type"] == "error":
            raise ProtocolError(f"init refused: {first}")
        history = await self.wait_for(lambda f: f.get("type") == "history", after=mark)
        return first, history

    async def text(self, text: str) -> Frame:
        """Send a text and wait for it to come back as a message."""
        mark = len(self.frames)
        await self.send({"type": "text", "text": text})
        return await self.wait_for(
            lambda f: (
                (f.get("type") == "message" and f.get("content") == text)
                or f.get("type") == "error"
            ),
            after=mark,
        )

    def messages(self, **match: Any) -> list[Frame]:
        return [
            f
            for f in self.frames
            if f.get("type") == "message" and all(f.get(k) == v for k, v in match.items())
        ]

    async def wait_closed(self, timeout: float = DEFAULT_TIMEOUT) -> tuple[int | None, str | None]:
        async def check() -> tuple[int | None, str | None]:
            async with self._changed:
                while self.closed is None:
                    await self._changed.wait()
                return self.closed

        return await asyncio.wait_for(check(), timeout)

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._reader, 5)
        self.ws = None
