"""Signed, expiring transfer URLs for attachments, absolute for the host's page.

MTChat's SDK uploads with a plain `PUT` to the URL it was given and shows
files from a URL, both from the host application's page, without hubbub's
credentials: so the URL itself carries the permission, as S3's presigned
URLs do. `sig` is an HMAC-SHA256 of (operation, attachment id, expiry) under
a key derived from the MTChat secrets, the same on every node; a URL
expires (`exp`, seconds since the epoch) and names one operation on one
file. URLs are built on `--public-url`, else the request's own scheme and
host.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlencode

from starlette.requests import HTTPConnection

from hubbub.config import Settings

__all__ = ["DOWNLOAD_TTL_S", "UPLOAD_TTL_S", "Signer", "base_url", "download_url"]

UPLOAD_TTL_S = 300
DOWNLOAD_TTL_S = 3600


class Signer:
    def __init__(self, settings: Settings) -> None:
        material = f"{settings.mtchat_jwt_secret}\0{settings.mtchat_admin_token}"
        if material == "\0":  # nothing shared to derive from: valid on this node only
            self.key = secrets.token_bytes(32)
        else:
            self.key = hashlib.sha256(b"hubbub mtchat urls\0" + material.encode()).digest()

    def sign(self, op: str, attachment_id: str, exp: int) -> str:
        msg = f"{op}\0{attachment_id}\0{exp}".encode()
        return hmac.new(self.key, msg, hashlib.sha256).hexdigest()

    def query(self, op: str, attachment_id: str, now_s: int, ttl_s: int) -> str:
        exp = now_s + ttl_s
        return urlencode({"exp": exp, "sig": self.sign(op, attachment_id, exp)})

    def valid(self, op: str, attachment_id: str, exp: str, sig: str, now_s: int) -> bool:
        if not exp.isdigit() or len(exp) > 12 or int(exp) < now_s:
            return False
        return hmac.compare_digest(self.sign(op, attachment_id, int(exp)), sig)


def base_url(conn: HTTPConnection, settings: Settings) -> str:
    """Where the host's page reaches hubbub; a WebSocket's `ws(s)` becomes `http(s)`."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    scheme = {"ws": "http", "wss": "https"}.get(conn.url.scheme, conn.url.scheme)
    return f"{scheme}://{conn.headers.get('host', conn.url.netloc)}"


def download_url(signer: Signer, base: str, attachment_id: str, now_s: int) -> str:
    q = signer.query("get", attachment_id, now_s, DOWNLOAD_TTL_S)
    return f"{base}/api/v1/attachments/{attachment_id}/content?{q}"
