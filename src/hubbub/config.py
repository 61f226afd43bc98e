"""Server settings: every option is a CLI flag and a `HUBBUB_*` env var.

Defaults give a working single-node server on a fresh machine: SQLite and
blobs under `./hubbub-data/`, the in-process bus, loopback only.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

__all__ = ["Settings", "add_arguments", "settings_from_args"]


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path("./hubbub-data")
    database_url: str = ""
    nats_url: str = ""
    nats_prefix: str = "hubbub"
    presence_ttl_s: float = 30.0
    node_id: str = ""
    log_format: str = "auto"  # auto | json | console
    log_level: str = "info"
    allowed_origins: tuple[str, ...] = ()
    max_frame_bytes: int = 256 * 1024
    ws_deflate: bool = True
    send_queue_limit: int = 1024
    rate_per_second: float = 50.0
    rate_burst: int = 200
    auth_timeout_s: float = 10.0
    request_head_timeout_s: float = 10.0
    tcp_user_timeout_s: float = 60.0
    sync_page_size: int = 500
    writer_max_batch: int = 512
    db_pool_size: int = 10
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    migrate_on_start: bool = True
    gc_thresholds: str = "50000,20,100"
    turn_secret: str = field(default="", repr=False)
    ai_base_url: str = ""
    mtchat_jwt_secret: str = field(default="", repr=False)
    mtchat_admin_token: str = field(default="", repr=False)
    mtchat_trust_user_id: bool = False
    mtchat_presence_ttl_s: float = 60.0
    mtchat_archive_after_s: float = 259200.0
    public_url: str = ""

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'hubbub.db').resolve()}"


_HELP: dict[str, str] = {
    "host": "interface to listen on",
    "port": "TCP port (0 picks a free one and prints it)",
    "data_dir": "directory for the SQLite file and blobs",
    "database_url": "sqlite:///path or postgresql://user@host/db (default: SQLite in data dir)",
    "nats_url": "nats://host:4222 to run as a cluster node (default: in-process bus)",
    "node_id": "name of this node in a cluster (default: random)",
    "log_format": "auto, json or console",
    "allowed_origins": "comma-separated Origin allowlist for WebSockets ('*' = any)",
    "migrate_on_start": "apply database migrations at start-up (true/false)",
    "gc_thresholds": "the cyclic garbage collector's three generation thresholds "
    "(CPython's default is 700,10,10; see docs/performance.md)",
    "ws_deflate": "accept permessage-deflate when a client offers it (true/false): less "
    "bandwidth, about 40 KiB more memory per connection and a compression per frame",
    "request_head_timeout_s": "seconds to send a complete HTTP request head (slowloris guard)",
    "mtchat_jwt_secret": "HS256 secret of the JWTs MTChat clients send (sub = user id)",
    "mtchat_admin_token": "bearer token of MTChat's management API (empty: management API off)",
    "mtchat_trust_user_id": "accept MTChat's bare ?user_id= without a token (true/false; only "
    "behind a trusted backend that proxies every request)",
    "public_url": "the server's address as clients reach it (https://chat.example.com), for "
    "the absolute URLs it hands out; default: the request's own scheme and host",
    "mtchat_archive_after_s": "archive a dialog for its members after this many seconds "
    "without a message (MTChat's default: 3 days; 0 = never)",
    "mtchat_presence_ttl_s": "seconds an MTChat user stays online after their last ping",
    "tcp_user_timeout_s": "seconds a peer may leave sent data unread before the connection is "
    "dropped (TCP_USER_TIMEOUT; 0 = system default)",
}


def _env_name(name: str) -> str:
    return "HUBBUB_" + name.upper()


def _coerce(kind: Any, raw: str) -> Any:
    if kind in (bool, "bool"):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if kind in (int, "int"):
        return int(raw)
    if kind in (float, "float"):
        return float(raw)
    if kind in (Path, "Path"):
        return Path(raw)
    if kind in ("tuple[str, ...]",):
        return tuple(o.strip() for o in raw.split(",") if o.strip())
    return raw


def add_arguments(parser: argparse.ArgumentParser) -> None:
    for f in fields(Settings):
        flag = "--" + f.name.replace("_", "-")
        env = _env_name(f.name)
        parser.add_argument(
            flag,
            dest=f.name,
            default=None,
            help=f"{_HELP.get(f.name, f.name.replace('_', ' '))} [env {env}]",
        )


def settings_from_args(ns: argparse.Namespace | None = None, **overrides: Any) -> Settings:
    """Flags win over env vars, env vars over defaults."""
    values: dict[str, Any] = {}
    for f in fields(Settings):
        raw = getattr(ns, f.name, None) if ns is not None else None
        if raw is None:
            raw = os.environ.get(_env_name(f.name))
        if raw is not None:
            values[f.name] = _coerce(f.type, str(raw))
    values.update(overrides)
    return Settings(**values)
