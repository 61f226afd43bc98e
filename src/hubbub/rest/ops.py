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
from hubbub.protocols.symbia.asyncapi import build_symbia_asyncapi
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
- /docs/asyncapi-symbia.json: Symbia real time at /socket.io/ and /api/ws (spec 002),
  every client event with its ack and every server event, AsyncAPI 3.0

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

## Symbia messaging API (spec 002), base URL /api
For users, AI agents and services. Requests camelCase, responses snake_case
rows; errors {"error": "...", "code", "path"?} (400 bad input, 401
{"error":"Authentication required"}, 403 not a participant / not allowed,
404 unknown id or another tenant's, 409 the run's state refuses it).
Credentials, first present wins: Authorization: Bearer <token>; X-API-Key
(POST /v1/api-keys); cookie token or symbia_session (set by login).
Scope headers (optional, validated, logged for audit): X-Org-Id,
X-Service-Id, X-Env|X-Environment (dev|stage|prod), X-Data-Class
(none|pii|phi|secret: phi/secret content is never logged, relayed or previewed),
X-Policy-Ref.
- POST /api/auth/login {email,password} -> {user,token} + cookie; POST
  /api/auth/logout; GET /api/auth/session -> {authenticated, user?}
- GET /api/health; GET /api/bootstrap (service, version, websocketEvents)
- GET|POST /api/conversations (?orgId; body {type: private|group, name,
  description, orgId, metadata, participants:[{userId}]}) -> 201 with participants
- GET|PATCH|DELETE /api/conversations/{id}; POST .../join (201) | .../leave (204);
  POST .../participants {userId}; DELETE .../participants/{userId}
- GET /api/conversations/{id}/messages?limit=50&before=&after= (ISO times,
  ascending by sequence); POST .../messages {content, contentType
  (text/plain|text/markdown|application/json), id (idempotency key), replyTo,
  metadata, runId, traceId, priority, interruptible, preemptedBy} -> 201 row
- PATCH|DELETE .../messages/{messageId} (sender only);
  GET .../messages/{messageId}/history: every version with its times
- Agent runs: a runId's messages form a run. POST .../control {event:
  stream.pause|resume|preempt|route|handoff|cancel|priority, runId (required),
  target:{principalId}, reason, preemptedBy, priority} (owner/admin, or
  capability messaging.interrupt; messaging.route for route/handoff) -> 201.
  A paused run's messages get 409 run_paused until resume; preempted or
  cancelled runs are final (409 run_preempted|run_cancelled); after a
  route/handoff only the target writes (403 not_run_owner); a run with
  interruptible false cannot be preempted. GET .../runs, .../runs/{runId}: state.
- Admin (server admins; org admins for their orgs): GET /api/admin/conversations
  (?orgId&type&limit&offset -> {items,total,limit,offset}), GET|DELETE
  /api/admin/conversations/{id}, POST|DELETE .../participants[/{userId}] (with
  role), GET /api/admin/users/{userId}/conversations, GET /api/admin/stats;
  organisations POST|GET /api/admin/orgs, POST|GET|DELETE
  /api/admin/orgs/{orgId}/members; capabilities POST /api/admin/capabilities
  {userId, capability}, DELETE /api/admin/capabilities/{userId}/{capability}.
- Real time: Socket.IO at /socket.io/ and a plain WebSocket at /api/ws
  ({"event","data"} frames): message:new|updated|deleted, typing:*,
  presence:changed, stream.* events.
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


@lru_cache(maxsize=1)
def _symbia_asyncapi() -> dict[str, Any]:
    return build_symbia_asyncapi()


@router.get("/docs/asyncapi-symbia.json", include_in_schema=False)
async def symbia_asyncapi() -> JSONResponse:
    """Symbia's Socket.IO and `/api/ws` events (spec 002)."""
    return JSONResponse(_symbia_asyncapi())


@router.get("/docs/llms.txt", include_in_schema=False)
async def llms() -> PlainTextResponse:
    return PlainTextResponse(LLMS_TXT)
