"""Who is calling: every core operation is authorised against a `Caller`."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Caller"]


@dataclass(frozen=True, slots=True)
class Caller:
    """The user, device and connection a request came from.

    `conn_id` is the connection spared a copy of its own event (it gets a
    reply instead); None when the sender must get the event like everyone
    (the public room). `session_id` names the connection for the chat events
    of spec 004 whatever `conn_id` is, and `trace_parent` is the W3C
    `traceparent` of the request, when it carried one.
    """

    user_id: str
    device_id: str
    conn_id: str | None = None
    token_hash: str = ""
    kind: str = "token"  # or "api_key" (core/apikeys.py)
    read_only: bool = False  # a read-only API key
    session_id: str = ""
    trace_parent: str | None = None
