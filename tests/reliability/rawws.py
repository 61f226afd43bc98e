"""A minimal raw WebSocket client over asyncio streams, for conformance tests.

Unlike a real client library it lets a test build any frame by hand: any
opcode, RSV bits, masked or not, fragmented, any payload and any declared
length. It reads the server's frames back one by one, including close frames
with their code, and can offer permessage-deflate (then it inflates the
server's compressed frames, and `deflate()` builds compressed payloads).

Nothing here waits on a timer: every read has a timeout and fails loudly.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import socket
import struct
import zlib
from dataclasses import dataclass
from typing import Any

import msgspec

__all__ = [
    "OP_BINARY",
    "OP_CLOSE",
    "OP_CONT",
    "OP_PING",
    "OP_PONG",
    "OP_TEXT",
    "Closed",
    "Frame",
    "RawWS",
    "build_frame",
    "close_payload",
    "deflate",
]

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TIMEOUT = 10.0


@dataclass
class Frame:
    opcode: int
    payload: bytes
    fin: bool = True
    rsv: int = 0  # the three RSV bits as a number: RSV1 = 4, RSV2 = 2, RSV3 = 1

    @property
    def close_code(self) -> int | None:
        if self.opcode != OP_CLOSE or len(self.payload) < 2:
            return None
        code: int = struct.unpack("!H", self.payload[:2])[0]
        return code

    @property
    def close_reason(self) -> bytes:
        return self.payload[2:]

    def json(self) -> dict[str, Any]:
        out: dict[str, Any] = msgspec.json.decode(self.payload)
        return out


class Closed(Exception):
    """The TCP connection ended (EOF or reset) before the expected frame."""


def build_frame(
    opcode: int,
    payload: bytes = b"",
    *,
    fin: bool = True,
    rsv: int = 0,
    mask: bool = True,
    length: int | None = None,
) -> bytes:
    """One frame as bytes. `length` overrides the declared payload length."""
    n = len(payload) if length is None else length
    head = bytes([(0x80 if fin else 0) | ((rsv & 7) << 4) | (opcode & 0x0F)])
    mbit = 0x80 if mask else 0
    if n < 126:
        head += bytes([mbit | n])
    elif n < 65536:
        head += bytes([mbit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([mbit | 127]) + struct.pack("!Q", n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + _xor(payload, key)


def _xor(data: bytes, key: bytes) -> bytes:
    if not data:
        return b""
    n = len(data)
    k = int.from_bytes((key * (n // 4 + 1))[:n], "big")
    return (int.from_bytes(data, "big") ^ k).to_bytes(n, "big")


def close_payload(code: int | None, reason: bytes = b"") -> bytes:
    return b"" if code is None else struct.pack("!H", code) + reason


def deflate(data: bytes, wbits: int = 12) -> bytes:
    """A permessage-deflate payload (RFC 7692 7.2.1): raw deflate, tail removed."""
    c = zlib.compressobj(9, zlib.DEFLATED, -wbits, 9)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


class RawWS:
    """One raw connection. `connect()` does the HTTP upgrade; frames are by hand."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.status = 0
        self.headers: dict[str, str] = {}
        self.deflate = False
        self._inflater: Any = None

    @classmethod
    async def open(
        cls, host: str, port: int, *, rcvbuf: int | None = None, timeout: float = TIMEOUT
    ) -> RawWS:
        """A bare TCP connection (no handshake): for slow or broken handshakes."""
        if rcvbuf is None:
            r, w = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
            return cls(r, w)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Set before connecting, so the advertised window stays small, and a
        # small MSS, so the peer's send buffer (autotuned from cwnd x MSS; on
        # loopback the MSS is ~64 KiB) stays small too: a slow reader on a
        # modest network path, whose bytes mostly wait in the server's process.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 1024)
        sock.setblocking(False)
        try:
            await asyncio.wait_for(
                asyncio.get_running_loop().sock_connect(sock, (host, port)), timeout
            )
        except BaseException:
            sock.close()
            raise
        r, w = await asyncio.open_connection(sock=sock, limit=rcvbuf)
        return cls(r, w)

    @classmethod
    async def connect(
        cls,
        url: str,
        token: str | None = None,
        *,
        device_id: str = "raw",
        offer_deflate: bool = False,
        extra_headers: dict[str, str] | None = None,
        rcvbuf: int | None = None,
        timeout: float = TIMEOUT,
    ) -> RawWS:
        """Open `url` (ws://host:port/path) and complete the upgrade (101 expected)."""
        rest = url.split("://", 1)[1]
        hostport, _, path = rest.partition("/")
        host, _, port = hostport.rpartition(":")
        ws = await cls.open(host, int(port), rcvbuf=rcvbuf, timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        headers = {
            "Host": hostport,
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": key,
            "Sec-WebSocket-Version": "13",
            "X-Device-Id": device_id,
        }
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if offer_deflate:
            headers["Sec-WebSocket-Extensions"] = "permessage-deflate; client_max_window_bits"
        headers.update(extra_headers or {})
        head = f"GET /{path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        ws.writer.write((head + "\r\n").encode())
        await ws.writer.drain()
        raw = await asyncio.wait_for(ws.reader.readuntil(b"\r\n\r\n"), timeout)
        lines = raw.decode("latin-1").split("\r\n")
        ws.status = int(lines[0].split(" ", 2)[1])
        for line in lines[1:]:
            if ":" in line:
                k, _, v = line.partition(":")
                ws.headers[k.strip().lower()] = v.strip()
        if ws.status != 101:
            await ws.abort()
            raise ConnectionError(f"upgrade refused: {lines[0]}")
        expect = base64.b64encode(hashlib.sha1(key.encode() + _GUID).digest()).decode()
        if ws.headers.get("sec-websocket-accept") != expect:
            await ws.abort()
            raise ConnectionError("bad Sec-WebSocket-Accept")
        ext = ws.headers.get("sec-websocket-extensions", "")
        if "permessage-deflate" in ext:
            ws.deflate = True
            ws._inflater = zlib.decompressobj(-15)
        return ws

    # -- sending --------------------------------------------------------------
    async def send_bytes(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def send(
        self,
        opcode: int,
        payload: bytes = b"",
        *,
        fin: bool = True,
        rsv: int = 0,
        mask: bool = True,
        length: int | None = None,
    ) -> None:
        await self.send_bytes(
            build_frame(opcode, payload, fin=fin, rsv=rsv, mask=mask, length=length)
        )

    async def send_text(self, text: str | bytes) -> None:
        await self.send(OP_TEXT, text.encode() if isinstance(text, str) else text)

    async def send_json(self, obj: Any) -> None:
        await self.send(OP_TEXT, msgspec.json.encode(obj))

    async def send_close(self, code: int | None = 1000, reason: bytes = b"") -> None:
        await self.send(OP_CLOSE, close_payload(code, reason))

    # -- receiving ------------------------------------------------------------
    async def _read(self, n: int) -> bytes:
        try:
            return await self.reader.readexactly(n)
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            raise Closed(str(exc)) from None

    async def _read_frame(self) -> Frame:
        b1, b2 = await self._read(2)
        n = b2 & 0x7F
        if n == 126:
            (n,) = struct.unpack("!H", await self._read(2))
        elif n == 127:
            (n,) = struct.unpack("!Q", await self._read(8))
        key = await self._read(4) if b2 & 0x80 else None
        payload = await self._read(n)
        if key is not None:
            payload = _xor(payload, key)
        frame = Frame(b1 & 0x0F, payload, bool(b1 & 0x80), (b1 >> 4) & 7)
        if frame.rsv & 4 and self.deflate and frame.opcode in (OP_TEXT, OP_BINARY, OP_CONT):
            frame.payload = self._inflater.decompress(payload + b"\x00\x00\xff\xff")
            frame.rsv &= 3
        return frame

    async def recv(self, timeout: float = TIMEOUT) -> Frame:
        """The next frame; raises `Closed` at EOF, TimeoutError after `timeout`."""
        return await asyncio.wait_for(self._read_frame(), timeout)

    async def recv_json(self, pred: Any = None, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The next text frame (whose JSON satisfies `pred`), skipping others."""

        async def loop() -> dict[str, Any]:
            while True:
                f = await self._read_frame()
                if f.opcode == OP_CLOSE:
                    raise Closed(f"close frame {f.close_code} {f.close_reason!r}")
                if f.opcode == OP_TEXT:
                    obj = f.json()
                    if pred is None or pred(obj):
                        return obj

        return await asyncio.wait_for(loop(), timeout)

    async def wait_ready(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        """Wait for the server's `Authenticated` frame."""
        return await self.recv_json(lambda f: f.get("type") == "Authenticated", timeout)

    async def wait_close(self, timeout: float = TIMEOUT) -> Frame | None:
        """Read until the server's close frame (returned) or EOF without one (None)."""

        async def loop() -> Frame | None:
            while True:
                try:
                    f = await self._read_frame()
                except Closed:
                    return None
                if f.opcode == OP_CLOSE:
                    return f

        return await asyncio.wait_for(loop(), timeout)

    async def wait_eof(self, timeout: float = TIMEOUT) -> None:
        """Discard everything until the server closes the TCP connection."""

        async def loop() -> None:
            with contextlib.suppress(ConnectionError):
                while await self.reader.read(65536):
                    pass

        await asyncio.wait_for(loop(), timeout)

    async def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.transport.abort()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()

    async def close(self) -> None:
        """Best-effort clean close: send 1000, wait briefly for the echo, drop."""
        with contextlib.suppress(Exception):
            await self.send_close(1000)
            await self.wait_close(timeout=2)
        await self.abort()
