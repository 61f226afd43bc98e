"""The node's switchboard: bus notifications in, frames out to connections.

    bus --Notification--> Hub.deliver --> by_user[uid][conn].push(frame)

The frame arrives encoded once; the hub wraps it in one `Out` (which frames
it for the WebSocket once, see `outbox.py`), looks up who is connected here
and appends that same object to each connection's bounded send queue.
Membership invalidations and token revocations ride the same bus, so they
are applied in order with the events around them.

A connection added with `everyone=True` (each `/ws` connection) is also
reachable through the one recipient key `EVERYONE`: a broadcast to all users
is one notification naming that key, not one recipient per user.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from hubbub.core.model import Notification
from hubbub.realtime.outbox import Out

__all__ = ["EVERYONE", "Hub", "LiveConnection"]

EVERYONE = "*"  # core.broadcasts.EVERYONE


class LiveConnection(Protocol):
    id: str
    user_id: str
    token_hash: str

    def push(self, out: Out) -> None: ...
    def kick(self, code: int, reason: str) -> None: ...


class Hub:
    def __init__(self, on_invalidate: Callable[[list[str]], None]) -> None:
        self.by_user: dict[str, dict[str, LiveConnection]] = {}
        self.everyone: dict[str, LiveConnection] = {}
        self._on_invalidate = on_invalidate
        self.delivered = 0
        # Also shown every frame delivered here: watchers that are not among a
        # note's recipients by user (spec 003's `subscribe` to a dialog).
        self.taps: list[Callable[[Notification], None]] = []

    def add(self, conn: LiveConnection, *, everyone: bool = False) -> None:
        self.by_user.setdefault(conn.user_id, {})[conn.id] = conn
        if everyone:
            self.everyone[conn.id] = conn

    def remove(self, conn: LiveConnection) -> None:
        self.everyone.pop(conn.id, None)
        conns = self.by_user.get(conn.user_id)
        if conns is not None:
            conns.pop(conn.id, None)
            if not conns:
                del self.by_user[conn.user_id]

    def kick_all(self, code: int, reason: str) -> None:
        for conns in list(self.by_user.values()):
            for conn in list(conns.values()):
                conn.kick(code, reason)

    def count(self) -> int:
        return sum(len(c) for c in self.by_user.values())

    def deliver(self, note: Notification) -> None:
        if note.invalidate:
            self._on_invalidate(note.invalidate)
        if note.revoke_token is not None:
            for conns in list(self.by_user.values()):
                for conn in list(conns.values()):
                    if conn.token_hash == note.revoke_token:
                        conn.kick(4401, "token revoked")
        if not note.frame:
            return
        for tap in self.taps:
            tap(note)
        # Wrapped once here; every connection gets the same object.
        frame, skip, n = Out(note.frame), note.skip_conn, 0
        by_user = self.by_user
        for uid in note.recipients:
            targets = by_user.get(uid) if uid != EVERYONE else self.everyone
            if targets:
                for conn in targets.values():
                    if conn.id != skip:
                        conn.push(frame)
                        n += 1
        self.delivered += n
