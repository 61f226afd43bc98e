"""A frame's place in the commit order, so a connection can pipeline its sends.

A connection's frames used to be handled one at a time through the commit:
a sender with 32 unacked messages still got one message per group commit, and
a commit (an fsync) per message bounded each sender. The order that matters
(a sender's messages in a conversation; gap-free `seq`) is fixed when a write
joins the group-commit queue, not when it commits: the queue runs in order.
So the `/ws` reader starts a pipelined handler and goes on to the next frame
as soon as that handler has queued its write (or finished), and replies are
still sent in frame order. The store's writer calls `queued()` when it has
taken a write; the handler's task set the callback in its own context.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

__all__ = ["on_queued", "queued"]

on_queued: ContextVar[Callable[[], None] | None] = ContextVar("on_queued", default=None)


def queued() -> None:
    """Tell the current frame's reader that its write now has its place in the order."""
    callback = on_queued.get()
    if callback is not None:
        callback()
