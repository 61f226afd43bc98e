"""Bare Python `websockets` broadcast room: the ceiling without hubbub's work.

Every text message from one client goes to every other client, as is. No
persistence, no auth, no validation. Prints "listening on <port>".
"""

from __future__ import annotations

import asyncio
import sys

from websockets.asyncio.server import ServerConnection, broadcast, serve

CLIENTS: set[ServerConnection] = set()


async def handler(ws: ServerConnection) -> None:
    CLIENTS.add(ws)
    try:
        async for message in ws:
            broadcast([c for c in CLIENTS if c is not ws], message)
    finally:
        CLIENTS.discard(ws)


async def main(port: int) -> None:
    async with serve(
        handler, "127.0.0.1", port, compression=None, max_queue=None, backlog=4096
    ) as server:
        sock = next(iter(server.sockets))
        print(f"listening on {sock.getsockname()[1]}", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
    except ImportError:
        asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
