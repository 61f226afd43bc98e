"""A minimal WebSocket client for the load generator's receiving side.

The load generator must not be the bottleneck it measures: on 2 cores its
receivers share one core, and a fan-out of one message to 1,000 members is
1,000 messages to parse there. The `websockets` client spends tens of
microseconds per message (a future per `recv`, a task switch, the assembler),
which put a floor of tens of milliseconds under every fan-out latency, for
hubbub and the bare peers alike. This client parses frames in
`data_received` and hands each payload to a callback: no await per message.

It speaks just what the benchmark needs (RFC 6455, no extensions): the
opening handshake, unfragmented text/binary frames from the server, ping ->
pong, and the close handshake. Client frames are masked with a zero key (the
mask bit is set as the RFC requires; a fixed key only matters for browsers
facing proxies, not for a benchmark on loopback).
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct
from collections.abc import Callable
from typing import cast
from urllib.parse import urlsplit

__all__ = ["LeanClient"]

_ZERO_MASK = b"\x00\x00\x00\x00"


def _client_frame(opcode: int, payload: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    return head + _ZERO_MASK + payload


class _Protocol(asyncio.Protocol):
    def __init__(self, client: LeanClient) -> None:
        self.client = client
        self.buf = bytearray()
        self.handshaken = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        if not self.handshaken:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end])
            del buf[: end + 4]
            self.handshaken = True
            self.client._handshake_done(head)
        on_message = self.client.on_message
        pos, size = 0, len(buf)
        while size - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            n = b1 & 0x7F
            at = pos + 2
            if n == 126:
                if size - at < 2:
                    break
                n = int.from_bytes(buf[at : at + 2], "big")
                at += 2
            elif n == 127:
                if size - at < 8:
                    break
                n = int.from_bytes(buf[at : at + 8], "big")
                at += 8
            if size - at < n:
                break
            payload = bytes(buf[at : at + n])
            pos = at + n
            opcode = b0 & 0x0F
            if opcode in (1, 2):
                on_message(payload)
            elif opcode == 9:  # ping
                self._write(_client_frame(10, payload))
            elif opcode == 8:  # close: echo it, note the code
                code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                reason = payload[2:].decode(errors="replace")
                self._write(_client_frame(8, payload[:2]))
                self.client._closed(f"{code} {reason}")
                if self.transport is not None:
                    self.transport.close()
        if pos:
            del buf[:pos]

    def _write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.client._closed("no close frame" if exc is None else f"connection lost: {exc}")


class LeanClient:
    """One connection: `send` text, `on_message` gets each payload as bytes."""

    def __init__(
        self, on_message: Callable[[bytes], None], on_close: Callable[[str], None]
    ) -> None:
        self.on_message = on_message
        self._on_close = on_close
        self._proto: _Protocol | None = None
        self._open: asyncio.Future[None] | None = None
        self.close_reason: str | None = None

    @property
    def transport(self) -> asyncio.Transport:
        assert self._proto is not None and self._proto.transport is not None
        return self._proto.transport

    async def connect(self, url: str, headers: dict[str, str], timeout: float = 60) -> None:
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        loop = asyncio.get_running_loop()
        self._open = loop.create_future()
        _, proto = await asyncio.wait_for(
            loop.create_connection(lambda: _Protocol(self), host, port), timeout
        )
        self._proto = proto
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {parts.path or '/'}{'?' + parts.query if parts.query else ''} HTTP/1.1",
            f"Host: {host}:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            *(f"{k}: {v}" for k, v in headers.items()),
        ]
        self.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await asyncio.wait_for(self._open, timeout)

    def _handshake_done(self, head: bytes) -> None:
        status = head.split(b"\r\n", 1)[0]
        if self._open is not None and not self._open.done():
            if b" 101 " in status + b" ":
                self._open.set_result(None)
            else:
                self._open.set_exception(ConnectionError(status.decode(errors="replace")))

    def _closed(self, reason: str) -> None:
        if self.close_reason is None:
            self.close_reason = reason
            if self._open is not None and not self._open.done():
                self._open.set_exception(ConnectionError(reason))
            self._on_close(reason)

    async def send(self, text: str) -> None:
        if self.close_reason is not None:
            raise ConnectionError(self.close_reason)
        self.transport.write(_client_frame(1, text.encode()))

    async def close(self) -> None:
        if self._proto is not None and self._proto.transport is not None:
            self._proto._write(_client_frame(8, (1000).to_bytes(2, "big")))
            self._proto.transport.close()
