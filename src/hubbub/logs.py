"""Structured logs: JSON lines in production, readable on a terminal.

Log calls pass ids and codes only; tokens, passwords and message content are
never handed to a logger (a test greps the suite's logs for them).
"""

from __future__ import annotations

import logging
import os
import sys

import structlog
import websockets

__all__ = ["setup_logging"]


class _ClientInvalidUtf8(logging.Filter):
    """uvicorn logs a client's text frame with invalid UTF-8 as an error with a
    traceback (the bytes' decode error). The client is at fault and is closed
    with 1007: a warning, without the traceback, so error logs stay for bugs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if (
            record.levelno >= logging.ERROR
            and record.msg == "Invalid UTF-8 sequence received from client."
        ):
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info = record.exc_text = None
        return True


class _NoWireTrace(logging.Filter):
    """websockets traces, at debug level and through uvicorn's logger, the upgrade
    request (its `Authorization` header: a token) and every frame (messages,
    `Authenticate` tokens). Dropped, so a debug log holds no secret either."""

    lib = os.path.dirname(websockets.__file__) + os.sep

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG or not record.pathname.startswith(self.lib)


class _NoQueryStrings(logging.Filter):
    """uvicorn logs each WebSocket handshake at info level with its full path
    (`"WebSocket /api/ws?token=..." [accepted]`), and a query string may carry
    a credential (`?token=`, `?apiKey=`, a signature): only the path is kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(
            isinstance(a, str) and "?" in a for a in record.args
        ):
            record.args = tuple(
                a.split("?", 1)[0] + "?[redacted]" if isinstance(a, str) and "?" in a else a
                for a in record.args
            )
        return True


def setup_logging(fmt: str = "auto", level: str = "info") -> None:
    if fmt == "auto":
        fmt = "console" if sys.stderr.isatty() else "json"
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    pre: list[structlog.typing.Processor] = [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=pre,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.error").addFilter(_ClientInvalidUtf8())
    logging.getLogger("uvicorn.error").addFilter(_NoWireTrace())
    logging.getLogger("uvicorn.error").addFilter(_NoQueryStrings())
    # Their debug/info output is every SQL statement with its parameters (content).
    for name in ("aiosqlite", "sqlalchemy"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("alembic").setLevel(logging.WARNING)
