"""Real clients of spec 002's real time: python-socketio's AsyncClient and a
plain `/api/ws` WebSocket, recording every event; waits are on conditions."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import msgspec
import socketio
from websockets.asyncio.client import ClientConnection, connect

from tests.support import DEFAULT_TIMEOUT, ServerProcess

__all__ = ["ApiWs", "Sio"]


class _Events:
    """What a client received, and a condition to wait on for the next one."""

    def __init__(self) -> None:
        self.received: list[tuple[str, Any]] = []
        self.changed = asyncio.Condition()

    async def add(self, name: str, data: Any) -> None:
        async with self.changed:
            self.received.append((name, data))
            self.changed.notify_all()

    async def wait_until(self, check: Any, timeout: float = DEFAULT_TIMEOUT) -> Any:
        async def loop() -> Any:
            async with self.changed:
                while not (found := check()):
                    await self.changed.wait()
                return found

        return await asyncio.wait_for(loop(), timeout)

    def seen(self, name: str, **match: Any) -> list[Any]:
        return [
            d
            for n, d in self.received
            if n == name and all(isinstance(d, dict) and d.get(k) == v for k, v in match.items())
        ]

    async def event(self, name: str, **match: Any) -> Any:
        return (await self.wait_until(lambda: self.seen(name, **match)))[0]


class Sio(_Events):
    def __init__(self) -> None:
        super().__init__()
        self.client = socketio.AsyncClient(reconnection=False)
        self.client.on("*", self._any)

    async def _any(self, name: str, data: Any = None) -> None:
        await self.add(name, data)

    @classmethod
    async def open(
        cls,
        server: ServerProcess,
        *,
        auth: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        transports: list[str] | None = None,
    ) -> Sio:
        s = cls()
        await s.client.connect(
            server.base_url,
            auth=auth,
            headers=headers or {},
            transports=transports or ["websocket"],
            socketio_path="socket.io",
            wait_timeout=DEFAULT_TIMEOUT,
        )
        return s

    async def call(self, event: str, data: Any) -> Any:
        return await self.client.call(event, data, timeout=DEFAULT_TIMEOUT)

    async def close(self) -> None:
        await self.client.disconnect()


class ApiWs(_Events):
    _ids = itertools.count(1)

    def __init__(self, ws: ClientConnection) -> None:
        super().__init__()
        self.ws = ws
        self.acks: dict[Any, dict[str, Any]] = {}
        self.closed: tuple[int | None, str | None] | None = None
        self.reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def open(
        cls, server: ServerProcess, query: str = "", headers: dict[str, str] | None = None
    ) -> ApiWs:
        url = server.ws_url.replace("/ws", "/api/ws") + (f"?{query}" if query else "")
        return cls(await connect(url, additional_headers=headers or {}))

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                frame = msgspec.json.decode(raw)
                if frame.get("event") == "ack":
                    self.acks[frame.get("ref")] = frame
                await self.add(frame["event"], frame.get("data"))
        except Exception:
            pass
        finally:
            async with self.changed:
                self.closed = (self.ws.close_code, self.ws.close_reason)
                self.changed.notify_all()

    async def call(self, event: str, data: Any) -> Any:
        ref = f"r{next(self._ids)}"
        await self.ws.send(msgspec.json.encode({"event": event, "data": data, "id": ref}).decode())
        frame = await self.wait_until(lambda: self.acks.get(ref))
        assert frame["for"] == event
        return frame["data"]

    async def close(self) -> None:
        await self.ws.close()
        self.reader.cancel()
