"""Who is calling: every core operation is authorised against a `Caller`."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Caller"]


@dataclass(frozen=True, slots=True)
class Caller:
    user_id: str
    device_id: str
    conn_id: str | None = None
    token_hash: str = ""
    kind: str = "token"  # or "api_key" (core/apikeys.py)
    read_only: bool = False  # a read-only API key
