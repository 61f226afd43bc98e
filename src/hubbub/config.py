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


DEFAULT_FILE_TYPES = (
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
    "audio/mpeg",
    "audio/ogg",
    "audio/webm",
    "video/mp4",
    "video/webm",
    "application/zip",
)


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
    simplechat: bool = True
    simplechat_history: int = 50
    simplechat_user_list_limit: int = 1000
    simplechat_max_file_bytes: int = 512 * 1024
    simplechat_file_types: tuple[str, ...] = DEFAULT_FILE_TYPES
    blob_backend: str = "auto"  # auto | fs | db | s3 (docs/blobs.md)
    blob_store: str = ""  # the old spelling of blob_backend (filesystem | database)
    s3_endpoint: str = ""
    s3_bucket: str = ""
    s3_region: str = "us-east-1"
    s3_prefix: str = "blobs/"
    s3_addressing_style: str = "auto"  # auto | path | virtual
    voice_max_bytes: int = 180 * 1024
    voice_max_duration_ms: int = 15 * 60 * 1000
    blob_url_ttl_s: float = 300.0
    status_ttl_s: float = 24 * 3600.0
    chat_events_format: str = "protobuf"  # protobuf | json
    chat_events_namespace: str = "hubbub"
    chat_events_relay: bool = True
    turn_secret: str = field(default="", repr=False)
    ai_base_url: str = ""
    # operators and account security (docs/security.md)
    registration: str = "token"  # open | token | closed
    auth_rate_limit: bool = True
    login_account_free: int = 3
    login_account_lockout: int = 10
    login_address_free: int = 10
    login_address_lockout: int = 50
    login_delay_base_ms: int = 1000
    login_delay_max_ms: int = 60_000
    login_lockout_s: float = 900.0
    login_failure_window_s: float = 3600.0
    login_known_address_days: float = 30.0
    registrations_per_address: int = 5
    registration_window_s: float = 3600.0
    trusted_proxies: tuple[str, ...] = ()
    mtchat_jwt_secret: str = field(default="", repr=False)
    mtchat_admin_token: str = field(default="", repr=False)
    mtchat_jwt_claim: str = "sub"
    mtchat_trust_user_id: bool = False
    mtchat_webhook_url: str = ""
    mtchat_webhook_secret: str = field(default="", repr=False)
    mtchat_webhook_retry_ms: int = 1000
    mtchat_scan_batch: int = 500
    mtchat_presence_ttl_s: float = 60.0
    mtchat_archive_after_s: float = 259200.0
    public_url: str = ""
    typing_ttl_s: float = 6.0
    contact_sync_region: str = ""
    contact_sync_per_hour: int = 5000

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'hubbub.db').resolve()}"

    @property
    def resolved_blob_backend(self) -> str:
        """`fs`, `db` or `s3`: auto keeps blobs in the database on PostgreSQL
        (every node sees them with no shared disk), on disk otherwise."""
        names = {"fs": "fs", "filesystem": "fs", "db": "db", "database": "db", "s3": "s3"}
        chosen = self.blob_backend
        if chosen == "auto" and self.blob_store:
            chosen = self.blob_store
        if chosen in names:
            return names[chosen]
        if chosen != "auto":
            raise ValueError(f"--blob-backend must be auto, fs, db or s3, not {chosen!r}")
        postgres = "postgres" in self.resolved_database_url.split(":", 1)[0]
        return "db" if postgres else "fs"

    @property
    def simplechat_max_frame_bytes(self) -> int:
        """The room's frame limit: a file of the largest allowed size, base64, fits,
        within the WebSocket layer's limit (4 x --max-frame-bytes, see cli.py)."""
        file_frame = 4 * ((self.simplechat_max_file_bytes + 2) // 3) + 8192
        return min(max(self.max_frame_bytes, file_frame), self.max_frame_bytes * 4)


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
    "simplechat": "serve the public room of spec 001 at ws://HOST/ and /chat (true/false)",
    "simplechat_history": "messages of history sent to a client joining the public room",
    "simplechat_user_list_limit": "most users listed in the room's userData (most recent first)",
    "simplechat_max_file_bytes": "largest file accepted in the public room (decoded bytes)",
    "simplechat_file_types": "comma-separated MIME types accepted as room files",
    "blob_backend": "where uploaded files live: auto (db on PostgreSQL, else fs), fs (files "
    "under the data dir), db (in the database) or s3 (an S3-compatible bucket, --s3-*)",
    "blob_store": "deprecated spelling of --blob-backend (filesystem, database)",
    "s3_endpoint": "URL of an S3-compatible server (MinIO, Ceph...); empty: AWS S3 of --s3-region "
    "(credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the rest of the standard chain)",
    "s3_bucket": "bucket holding the blobs with --blob-backend s3 (created beforehand)",
    "s3_region": "region of the bucket",
    "s3_prefix": "prefix of every blob's object key in the bucket",
    "s3_addressing_style": "auto, path (bucket in the path: MinIO, moto) or virtual "
    "(bucket in the host name)",
    "voice_max_bytes": "largest voice note accepted on chat/voice (decoded bytes; its base64 "
    "must also fit in --max-frame-bytes, which caps it at about 3/4 of that)",
    "voice_max_duration_ms": "longest voice note accepted (its declared duration_ms)",
    "blob_url_ttl_s": "lifetime of a signed download URL (POST /v1/blobs/{id}/url)",
    "status_ttl_s": "lifetime of a status update (status/updates; 24 h, the spec's)",
    "chat_events_format": "encoding of spec-004 chat events on NATS: protobuf or json",
    "chat_events_namespace": "the `namespace` field of every chat event",
    "chat_events_relay": "this node may relay chat events of committed messages (true/false)",
    "mtchat_jwt_secret": "HS256 secret of the JWTs MTChat clients send",
    "mtchat_jwt_claim": "the JWT claim holding the host's user id, a string or a number "
    "(MTChat's JWT_USER_ID_CLAIM; default sub)",
    "mtchat_webhook_url": "where MTChat webhooks are POSTed (message.new, participant.joined, "
    "participant.left; empty: no webhooks)",
    "mtchat_webhook_secret": "HMAC-SHA256 key of the X-Webhook-Signature header of webhooks",
    "mtchat_scan_batch": "dialogs read per query while listing MTChat's `available` "
    "(a tuning knob: the list is complete whatever it is)",
    "mtchat_webhook_retry_ms": "first delay before a failed webhook is sent again (doubling, "
    "at most 60 s)",
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
    "registration": "who may register over the API: open, token (a registration token from an "
    "admin; the very first account needs none and becomes admin) or closed",
    "auth_rate_limit": "throttle sign-in and registration per address and account "
    "(true/false; false only for load tests)",
    "login_account_free": "failed sign-ins per account before each next attempt must wait",
    "login_account_lockout": "failed sign-ins per account that lock it (from unknown addresses)",
    "login_address_free": "failed sign-ins per client address before attempts must wait",
    "login_address_lockout": "failed sign-ins per client address that lock the address out",
    "login_delay_base_ms": "first wait after the free failures; doubles with each failure",
    "login_delay_max_ms": "longest wait between two sign-in attempts",
    "login_lockout_s": "how long a lockout lasts (attempts meanwhile do not extend it)",
    "login_failure_window_s": "failures older than this are forgotten",
    "login_known_address_days": "an address that signed in to an account is exempt from that "
    "account's lockout for this long",
    "registrations_per_address": "registrations per client address per window",
    "registration_window_s": "the registration window",
    "typing_ttl_s": "seconds a typing indicator lasts when no stop comes (it is never stored)",
    "trusted_proxies": "comma-separated proxy addresses/CIDRs whose X-Forwarded-For is believed",
    "contact_sync_region": "ISO 3166 region in which contact sync reads phone numbers written "
    "without a country code (e.g. DE); empty: only international numbers, unless an entry "
    "names its own region",
    "contact_sync_per_hour": "address-book entries each user may look up per hour "
    "(contacts/sync; bounds enumeration of who is registered)",
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
