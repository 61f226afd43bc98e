"""`hubbub serve | migrate | admin | user | registration-token | api-key`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import socket
import sys

from hubbub import gctune
from hubbub.config import Settings, add_arguments, settings_from_args

__all__ = ["main"]

log = logging.getLogger("hubbub")


async def _serve(settings: Settings) -> None:
    import uvicorn

    from hubbub.app import Edge, create_app
    from hubbub.protocols.wsserver import websocket_protocol

    try:
        fastapi_app = create_app(settings)
    except ValueError as exc:  # a setting out of its range (e.g. --registration)
        raise SystemExit(f"hubbub: {exc}") from None
    node = fastapi_app.state.node
    app = Edge(fastapi_app, node)
    gctune.watch_pauses(lambda gen, s: node.metrics.gc_pause.labels(str(gen)).observe(s))
    gctune.tune(gctune.parse_thresholds(settings.gc_thresholds))
    max_ws = settings.max_frame_bytes * 4 + 1024
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        http=_http_protocol(settings.request_head_timeout_s, settings.tcp_user_timeout_s),
        ws=websocket_protocol(),
        ws_max_size=max_ws,
        ws_per_message_deflate=settings.ws_deflate,
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        backlog=4096,
        access_log=False,
        # The client address is ours to decide (`--trusted-proxies`,
        # core/throttle.py): uvicorn would otherwise believe X-Forwarded-For
        # from any local peer and hand the throttles a client-chosen address.
        proxy_headers=False,
        log_config=None,
        lifespan="on",
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            await task
            raise SystemExit("server failed to start")
        await asyncio.sleep(0.02)
    for s in server.servers:
        for sock in s.sockets:
            host, port = sock.getsockname()[:2]
            print(f"hubbub listening on http://{host}:{port}", flush=True)
    await task


def _http_protocol(head_timeout: float, user_timeout: float) -> type[asyncio.Protocol] | str:
    """uvicorn's httptools protocol plus a deadline for the request head, and
    TCP_USER_TIMEOUT on every accepted socket.

    uvicorn has no timeout between accepting a connection and the end of a
    request head (its keep-alive timer is reset by every byte received), so a
    client that never sends a request, or trickles one a byte at a time
    (slowloris), held a connection and a descriptor forever. The deadline runs
    from the connection (or the first byte of a next request) to the end of
    the head, then is disarmed: WebSocket upgrades and bodies are unaffected.

    A peer that stops reading (a slow consumer cut off, a keepalive timeout)
    is sent a close frame and the transport is closed gracefully, which waits
    for the unread data to drain: forever, while the peer keeps its window at
    zero. TCP_USER_TIMEOUT has the kernel drop such a connection once sent
    data has waited that long, releasing the socket and its buffers.
    """
    user_timeout_ms = int(user_timeout * 1000)
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # pragma: no cover - httptools comes with uvicorn[standard]
        return "auto"

    class HeadDeadlineProtocol(HttpToolsProtocol):
        _head_timer: asyncio.TimerHandle | None = None

        def _arm(self) -> None:
            if self._head_timer is None:
                self._head_timer = self.loop.call_later(head_timeout, self._head_expired)

        def _disarm(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_expired(self) -> None:
            self._head_timer = None
            if not self.transport.is_closing():
                self.transport.close()

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()
            sock = transport.get_extra_info("socket")
            if user_timeout_ms > 0 and sock is not None and hasattr(socket, "TCP_USER_TIMEOUT"):
                with contextlib.suppress(OSError):  # not TCP (a Unix socket)
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, user_timeout_ms)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._arm()

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return HeadDeadlineProtocol


async def _migrate(settings: Settings) -> None:
    from hubbub.store.sql.engine import create_engine
    from hubbub.store.sql.migrate import migrate

    engine = create_engine(settings.resolved_database_url)
    try:
        await migrate(engine)
    finally:
        await engine.dispose()
    print("migrations applied", flush=True)


def _run(coro: object) -> None:
    try:
        import uvloop

        uvloop.run(coro)  # type: ignore[arg-type]
    except ImportError:  # pragma: no cover - uvloop is a dependency on POSIX
        asyncio.run(coro)  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> None:
    from hubbub.logs import setup_logging

    parser = argparse.ArgumentParser(prog="hubbub", description="real-time messaging server")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_ in (("serve", "run the server"), ("migrate", "apply database migrations")):
        add_arguments(sub.add_parser(name, help=help_))
    from hubbub.operator import OPERATOR_COMMANDS, add_operator_commands, run_operator_command

    add_operator_commands(sub, add_arguments)
    ns = parser.parse_args(argv)
    settings = settings_from_args(ns)
    setup_logging(settings.log_format, settings.log_level)
    if ns.command == "serve":
        try:
            _run(_serve(settings))
        except KeyboardInterrupt:
            pass
    elif ns.command == "migrate":
        _run(_migrate(settings))
    elif ns.command in OPERATOR_COMMANDS:
        _run(run_operator_command(ns, settings))
    else:  # pragma: no cover - argparse rejects unknown commands
        parser.print_help()
        sys.exit(2)


if __name__ == "__main__":
    main()
