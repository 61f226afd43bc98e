"""Bare Python `websockets` broadcast rooms: the ceiling without hubbub's work.

`ws://host:port/room/<id>` joins room `<id>`; every text message from one
client goes, as is, to every other client in its room, and the sender gets
the text frame `ack` (the load generator's flow control, like hubbub's
`ChatMessageAccepted`). No persistence, no auth, no validation. Runs on
uvloop when it is installed, like hubbub. Prints "listening on <port>".
"""

from __future__ import annotations

import asyncio
import sys

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed

ROOMS: dict[str, set[ServerConnection]] = {}
PREFIX = "/room/"


async def handler(ws: ServerConnection) -> None:
    path = ws.request.path if ws.request is not None else "/"
    room_id = path[len(PREFIX) :] if path.startswith(PREFIX) else path
    room = ROOMS.setdefault(room_id, set())
    room.add(ws)
    try:
        async for message in ws:
            broadcast([c for c in room if c is not ws], message)
            await ws.send("ack")
    except ConnectionClosed:
        pass  # clients leave without a close frame when a run ends: not an error
    finally:
        room.discard(ws)
        if not room and ROOMS.get(room_id) is room:
            del ROOMS[room_id]


async def main(port: int) -> None:
    async with serve(
        handler,
        "127.0.0.1",
        port,
        compression=None,
        max_queue=None,
        backlog=4096,
    ) as server:
        sock = next(iter(server.sockets))
        print(f"listening on {sock.getsockname()[1]}", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    try:
        import uvloop
    except ImportError:
        asyncio.run(main(port))
    else:
        uvloop.run(main(port))
