"""uvicorn's WebSocket protocol (websockets Sans-I/O) with a direct write path.

Through ASGI, every outgoing message is an awaited `send()` of a dict, which
websockets frames and uvicorn writes with one `transport.write` each: at a
thousand recipients per event, that per-message await and syscall was most of
the server's CPU (py-spy, docs/performance.md). This subclass keeps uvicorn
for everything (handshake, parsing, close handshake, keepalive, ASGI receive)
and adds one thing: the connection's `Wire`, published in the ASGI scope as
`scope["extensions"]["hubbub.wire"]`, through which an `Outbox` writes a
batch of already-framed messages with one `transport.write`.

The frames written this way are whole, final text frames, so they interleave
safely with what uvicorn writes itself (pings, pongs, close). When the
connection negotiated permessage-deflate, each frame goes through websockets'
own `send_text` so its compression context stays right; otherwise the frame
bytes are shared by all recipients (`Out.framed`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from hubbub.realtime.outbox import Out

__all__ = ["WIRE_EXTENSION", "websocket_protocol"]

WIRE_EXTENSION = "hubbub.wire"


def websocket_protocol() -> type[asyncio.Protocol] | str:
    try:
        from uvicorn.protocols.websockets.websockets_sansio_impl import (
            WebSocketsSansIOProtocol,
        )
        from websockets.protocol import State
    except ImportError:  # pragma: no cover - both come with uvicorn[standard]
        return "websockets-sansio"

    class WireProtocol(WebSocketsSansIOProtocol):
        def handle_connect(self, event: Any) -> None:
            super().handle_connect(event)
            if self.response.status_code == 101:
                extensions: dict[str, Any] = self.scope["extensions"]
                extensions[WIRE_EXTENSION] = self

        def start_keepalive(self) -> None:
            # Called once the handshake response is sent: uvicorn needs the request
            # and response objects (headers and all) no more; an idle connection
            # need not keep them.
            super().start_keepalive()
            del self.request, self.response

        def open(self) -> bool:
            return (
                self.handshake_complete
                and not self.close_sent
                and not self.disconnected
                and self.conn.state is State.OPEN
                and not self.transport.is_closing()
            )

        def write_frames(self, outs: Sequence[Out]) -> None:
            conn = self.conn
            if conn.extensions:
                for out in outs:
                    conn.send_text(out.payload)
                self.transport.write(b"".join(conn.data_to_send()))
            elif len(outs) == 1:
                self.transport.write(outs[0].framed)
            else:
                self.transport.write(b"".join([out.framed for out in outs]))

    return WireProtocol
