"""Probes, metrics and protocol documents."""

from __future__ import annotations

import asyncio
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from hubbub.protocols.channels.asyncapi import build_asyncapi
from hubbub.protocols.simplechat.asyncapi import build_simplechat_asyncapi
from hubbub.rest.deps import node_of

__all__ = ["router"]

router = APIRouter()

LLMS_TXT = """# hubbub

> Self-hostable real-time messaging server. REST for accounts, WebSocket /ws for
> everything live (spec 000 channels in a JSON envelope).

## Documents
- /docs/openapi.json: REST routes (accounts, devices, users, blocks, conversations)
- /docs/asyncapi.json: every /ws channel and message, AsyncAPI 3.0
- /docs/asyncapi-simplechat.json: the public room at / and /chat (spec 001), AsyncAPI 3.0

## Quick start
1. POST /v1/auth/register {"username","password"} -> {"user_id","token"}
2. Connect to /ws with "Authorization: Bearer <token>" (or send
   {"type":"Authenticate","data":{"token":"..."}} as the first frame).
3. Send {"id":"1","channel":"chat/messages/ack","type":"SendChatMessageWithClientId",
   "data":{"client_message_id":"c1","conversation_id":"...","content":"hi"}}
   and get one reply with "ref":"1".
4. After a reconnect send {"channel":"sync/request","type":"SyncRequest",
   "data":{"request_id":"r","since_sequence":<last seq seen>}}.

Errors: {"type":"Error","data":{"code","message","path"?,"retry_after_ms"?}} with
codes bad_frame, unknown_channel, validation_failed, unauthorized, forbidden,
not_found, conflict, rate_limited, too_large, unavailable, internal.
"""


@lru_cache(maxsize=1)
def _asyncapi() -> dict[str, Any]:
    return build_asyncapi()


@router.get("/healthz", include_in_schema=False)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", include_in_schema=False)
async def readyz(request: Request) -> Response:
    node = node_of(request)
    checks: dict[str, str] = {}
    for name, probe in (("database", node.stores.events.ping), ("bus", node.bus.ping)):
        try:
            await asyncio.wait_for(probe(), timeout=2)
            checks[name] = "ok"
        except Exception as exc:
            checks[name] = f"down: {type(exc).__name__}"
    ok = node.ready and all(v == "ok" for v in checks.values())
    return JSONResponse({"ready": ok, "checks": checks}, status_code=200 if ok else 503)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    node = node_of(request)
    return Response(generate_latest(node.metrics.registry), media_type=CONTENT_TYPE_LATEST)


@lru_cache(maxsize=1)
def _simplechat_asyncapi() -> dict[str, Any]:
    return build_simplechat_asyncapi()


@router.get("/docs/asyncapi.json", include_in_schema=False)
async def asyncapi() -> JSONResponse:
    return JSONResponse(_asyncapi())


@router.get("/docs/asyncapi-simplechat.json", include_in_schema=False)
async def simplechat_asyncapi() -> JSONResponse:
    """Served whether or not the room is on: it documents the protocol, not this node."""
    return JSONResponse(_simplechat_asyncapi())


@router.get("/docs/llms.txt", include_in_schema=False)
async def llms() -> PlainTextResponse:
    return PlainTextResponse(LLMS_TXT)
