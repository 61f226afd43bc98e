"""Spec 003, MTChat: its REST API under `/api/v1`, its WebSocket and `/health`.

An application built on MTChat's SDK points it at hubbub and works
unchanged: dialogs are core conversations bound to business objects, MTChat
users are hubbub accounts created on first use, and every message, edit,
read mark and membership change is the core's, so `/ws` clients share the
same conversations (README, "MTChat clients").

    identity.py    who is calling (JWT, hubbub token, trusted user_id), scopes
    errors.py      MTChat's statuses and codes (400 for validation, *_NOT_FOUND)
    management.py  /api/v1/management: the host backend creates dialogs
    dialogs.py     dialog lists, join/leave, per-user settings, participants
    messages.py    message pages, send, edit, delete
    uploads.py     attachments: presign, upload, download (signed URLs, urls.py)
    ws.py          /api/v1/ws; events.py turns core frames into MTChat events
    webhooks.py    the host's webhooks (message.new, participant.joined/left)
"""

from __future__ import annotations

from fastapi import FastAPI

from hubbub import __version__
from hubbub.protocols.mtchat import dialogs, errors, management, messages, uploads
from hubbub.protocols.mtchat.cors import MtChatCors
from hubbub.protocols.mtchat.urls import Signer
from hubbub.protocols.mtchat.ws import Watchers, mtchat_ws
from hubbub.runtime import Node

__all__ = ["install"]


def install(app: FastAPI, node: Node) -> None:
    watchers = Watchers()
    app.state.mtchat_watchers = watchers
    node.hub.taps.append(watchers.on_note)
    errors.install(app)
    app.include_router(management.router)
    app.include_router(dialogs.router)
    app.include_router(messages.router)
    app.include_router(uploads.router)
    app.state.mtchat_signer = Signer(node.settings)
    app.add_api_websocket_route("/api/v1/ws", mtchat_ws)
    if node.settings.allowed_origins:
        app.add_middleware(MtChatCors, allowed=node.settings.allowed_origins)

    @app.get("/health", tags=["mtchat"])
    async def health() -> dict[str, str]:
        """Where MTChat's SDK looks (hubbub's own probes are /healthz and /readyz)."""
        return {"status": "ok", "version": __version__}
