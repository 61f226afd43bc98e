"""The web client's files as a server hands them out: `/`, `/app/...`, `/sw.js`.

Over real HTTP against a real server process: the page and every file it
loads (followed through `src`/`href` and ES module imports) come from this
origin with the strict Content-Security-Policy, and the package data in
pyproject.toml covers every file of the client, so `pip install` ships it.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import ServerProcess

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "src" / "hubbub" / "web"
REFS = re.compile(r"""(?:src|href)="([^"]+)\"""")
IMPORTS = re.compile(r"""(?:^|\s)(?:import|export)\s[^'"]*?from\s+["']([^"']+)["']""", re.M)
DYNAMIC = re.compile(r"""(?:import\(|register\()\s*["']([^"']+)["']""")


@pytest.fixture
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=10) as c:
        yield c


def _csp(r: httpx.Response) -> dict[str, list[str]]:
    policy = r.headers["content-security-policy"]
    out: dict[str, list[str]] = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def test_root_serves_the_page_with_a_strict_csp(http: httpx.Client) -> None:
    r = http.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    csp = _csp(r)
    assert csp["default-src"] == ["'none'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["connect-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    policy = r.headers["content-security-policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "http" not in policy  # no other origin, not even one
    assert r.headers["x-content-type-options"] == "nosniff"
    # No inline script or style in the page itself.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", r.text)
    assert "<style" not in r.text and " style=" not in r.text


def test_every_asset_is_same_origin_and_served(http: httpx.Client) -> None:
    """Follow the page's references and the modules' imports: all local, all 200."""
    todo = ["/"]
    seen: set[str] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        r = http.get(path)
        assert r.status_code == 200, path
        assert "content-security-policy" in r.headers, path
        base = path.rsplit("/", 1)[0] + "/"
        refs = REFS.findall(r.text) if path == "/" else []
        if path.endswith(".css"):
            refs += re.findall(r"""url\("?([^")]+)"?\)""", r.text)
        if path.endswith(".js"):
            assert r.headers["content-type"].startswith("text/javascript"), path
            refs += IMPORTS.findall(r.text) + DYNAMIC.findall(r.text)
        for ref in refs:
            assert not re.match(r"^[a-z][a-z0-9+.-]*:|^//", ref, re.I), f"{path} loads {ref}"
            todo.append(ref if ref.startswith("/") else _join(base, ref))
    assert {"/app/js/main.js", "/app/app.css", "/sw.js", "/app/js/views/chat.js"} <= seen
    # Every file of the client is reachable from the page: no dead files.
    shipped = {f"/app/{p.relative_to(WEB).as_posix()}" for p in WEB.rglob("*") if p.is_file()}
    shipped = {
        "/" if p == "/app/index.html" else "/sw.js" if p == "/app/sw.js" else p for p in shipped
    }
    assert shipped <= seen


def _join(base: str, ref: str) -> str:
    parts = (base + ref).split("/")
    out: list[str] = []
    for p in parts:
        if p == "..":
            out.pop()
        elif p not in (".", ""):
            out.append(p)
    return "/" + "/".join(out)


def test_caching_head_and_unknown_paths(http: httpx.Client) -> None:
    r = http.get("/app/js/main.js")
    etag = r.headers["etag"]
    assert r.headers["cache-control"] == "no-cache"
    again = http.get("/app/js/main.js", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    head = http.head("/")
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(http.get("/").content)
    for bad in ("/app/nope.js", "/app/../pyproject.toml", "/app/%2e%2e/app.py", "/app/js"):
        r = http.get(bad)
        assert r.status_code == 404, bad
        if r.url.path.startswith("/app/"):  # (httpx resolves the `..` itself)
            assert "content-security-policy" in r.headers


def test_package_data_ships_every_client_file() -> None:
    """`pip install` (not only an editable checkout) must carry the client."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["hubbub"]
    files = [p.relative_to(WEB.parent).as_posix() for p in WEB.rglob("*") if p.is_file()]
    assert files
    missing = [f for f in files if not any(_glob(pat).fullmatch(f) for pat in patterns)]
    assert missing == []


def _glob(pattern: str) -> re.Pattern[str]:
    """A setuptools package-data glob: `*` stays within one directory."""
    return re.compile("".join("[^/]*" if c == "*" else re.escape(c) for c in pattern))
