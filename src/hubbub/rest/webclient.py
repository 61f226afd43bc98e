"""The browser client: `GET /` (the page), `/app/...` (its files), `/sw.js`.

The client (`src/hubbub/web/`, docs/web-client.md) is plain ES modules
shipped as package data: no build step, nothing from another origin. It is a
client of the public protocol only (`/v1`, `/ws`); these routes just hand out
its files, each with a strict Content-Security-Policy (no inline script or
style, no other origin), an ETag and `Cache-Control: no-cache` so a new
version is picked up on the next load. Only HTTP is routed here: a WebSocket
upgrade at `/` is left to whoever serves that path.

Files are read once into memory (about 100 KiB) and looked up by exact
relative path, so no request path ever reaches the file system.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from importlib.resources.abc import Traversable

from fastapi import APIRouter, Request, Response

__all__ = ["CSP", "SECURITY_HEADERS", "router"]

router = APIRouter()

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; font-src 'self'; connect-src 'self'; manifest-src 'self'; "
    "worker-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), geolocation=(), microphone=(self)",
}
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".webmanifest": "application/manifest+json",
    ".png": "image/png",
}


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    media_type: str
    etag: str


def _walk(node: Traversable, prefix: str, out: dict[str, Asset]) -> None:
    for child in node.iterdir():
        name = f"{prefix}{child.name}"
        if child.is_dir():
            _walk(child, name + "/", out)
            continue
        suffix = "." + child.name.rsplit(".", 1)[-1] if "." in child.name else ""
        media = MEDIA_TYPES.get(suffix)
        if media is None:
            continue  # only the kinds of file the client is made of
        body = child.read_bytes()
        out[name] = Asset(body, media, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')


@lru_cache(maxsize=1)
def assets() -> dict[str, Asset]:
    """Every file of the client by relative path (`index.html`, `js/main.js`, ...)."""
    found: dict[str, Asset] = {}
    _walk(files("hubbub") / "web", "", found)
    return found


def _serve(request: Request, name: str, **extra: str) -> Response:
    asset = assets().get(name)
    headers = dict(SECURITY_HEADERS)
    if asset is None:
        return Response(b"not found\n", status_code=404, media_type="text/plain", headers=headers)
    headers.update(ETag=asset.etag, **{"Cache-Control": "no-cache"}, **extra)
    if request.headers.get("if-none-match") == asset.etag:
        return Response(status_code=304, headers=headers)
    body = b"" if request.method == "HEAD" else asset.body
    response = Response(body, media_type=asset.media_type, headers=headers)
    if request.method == "HEAD":
        response.headers["content-length"] = str(len(asset.body))
    return response


@router.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
async def index(request: Request) -> Response:
    return _serve(request, "index.html")


@router.api_route("/sw.js", methods=["GET", "HEAD"], include_in_schema=False)
async def service_worker(request: Request) -> Response:
    """At the root so that its scope covers the page (`/`)."""
    return _serve(request, "sw.js")


@router.api_route("/app/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
async def asset(path: str, request: Request) -> Response:
    return _serve(request, path)
