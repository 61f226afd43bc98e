"""Spec 003's signed transfer URLs: one operation, one file, until `exp`;
the same key on every node configured with the same MTChat secrets."""

from __future__ import annotations

from urllib.parse import parse_qs

from hubbub.config import Settings
from hubbub.protocols.mtchat.urls import Signer

NOW = 1_800_000_000


def _parts(query: str) -> tuple[str, str]:
    q = parse_qs(query)
    return q["exp"][0], q["sig"][0]


def test_a_url_expires_and_names_one_operation_on_one_file() -> None:
    s = Signer(Settings(mtchat_jwt_secret="s" * 32))
    exp, sig = _parts(s.query("get", "file-1", NOW, 60))
    assert s.valid("get", "file-1", exp, sig, NOW)
    assert s.valid("get", "file-1", exp, sig, NOW + 60)
    assert not s.valid("get", "file-1", exp, sig, NOW + 61)
    assert not s.valid("put", "file-1", exp, sig, NOW)
    assert not s.valid("get", "file-2", exp, sig, NOW)
    assert not s.valid("get", "file-1", str(int(exp) + 1), sig, NOW)
    assert not s.valid("get", "file-1", "-1", sig, NOW)


def test_nodes_with_the_same_secrets_agree() -> None:
    a = Signer(Settings(mtchat_jwt_secret="s" * 32, mtchat_admin_token="t"))
    b = Signer(Settings(mtchat_jwt_secret="s" * 32, mtchat_admin_token="t"))
    other = Signer(Settings(mtchat_jwt_secret="x" * 32, mtchat_admin_token="t"))
    exp, sig = _parts(a.query("put", "f", NOW, 300))
    assert b.valid("put", "f", exp, sig, NOW)
    assert not other.valid("put", "f", exp, sig, NOW)
