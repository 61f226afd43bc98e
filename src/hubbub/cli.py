"""`hubbub serve | migrate`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from hubbub.config import Settings, add_arguments, settings_from_args

__all__ = ["main"]

log = logging.getLogger("hubbub")


async def _serve(settings: Settings) -> None:
    import uvicorn

    from hubbub.app import create_app

    app = create_app(settings)
    max_ws = settings.max_frame_bytes * 4 + 1024
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        ws="websockets-sansio",
        ws_max_size=max_ws,
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        backlog=4096,
        access_log=False,
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
    else:  # pragma: no cover - argparse rejects unknown commands
        parser.print_help()
        sys.exit(2)


if __name__ == "__main__":
    main()
