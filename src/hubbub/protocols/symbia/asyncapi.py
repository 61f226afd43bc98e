"""The AsyncAPI 3.0 description of Symbia's real time (spec 002), built from its models.

Like the public room's (`protocols/simplechat/asyncapi.py`), the document is
derived from the definitions the adapter uses: the client events' list
(`sockets.CLIENT_EVENTS`), their bodies (the REST routes' own models, see
`event_payloads.py`), the acks and the server events, so it cannot drift
from the code; a snapshot test (`tests/protocols/snapshots/asyncapi-symbia.json`)
shows every change as a diff. Served at `GET /docs/asyncapi-symbia.json`.

One channel per transport: Socket.IO carries an event's payload as its
argument and the ack through the callback; `/api/ws` wraps each as
`{"event", "data"}` (client: `id` or `ref` is echoed) and answers an `ack`
frame. The payload schemas are the same on both.
"""

from __future__ import annotations

import inspect
from typing import Any, Final

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

import hubbub
from hubbub.protocols.symbia.event_payloads import (
    CLIENT_PAYLOADS,
    SERVER_PAYLOADS,
    AckError,
    AckOk,
)
from hubbub.protocols.symbia.sockets import CLIENT_EVENTS

__all__ = ["TITLE", "build_symbia_asyncapi", "event_schema"]

TITLE: Final = "hubbub Symbia real time (spec 002)"
_REF: Final = "#/components/schemas/{model}"
_CHANNELS: Final = {"socketio": "/socket.io/", "apiws": "/api/ws"}


def _ref(path: str) -> dict[str, str]:
    return {"$ref": path}


def _schema_ref(model: type[BaseModel]) -> dict[str, str]:
    return _ref(_REF.format(model=model.__name__))


def _clean(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: inspect.cleandoc(v) if k == "description" and isinstance(v, str) else _clean(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_clean(v) for v in node]
    return node


def _schemas() -> dict[str, Any]:
    models = {m for m, _ in CLIENT_PAYLOADS.values()} | set(SERVER_PAYLOADS.values())
    models |= {AckOk, AckError}
    ordered = sorted(models, key=lambda m: m.__name__)
    modes = [
        (m, "validation" if m in {c for c, _ in CLIENT_PAYLOADS.values()} else "serialization")
        for m in ordered
    ]
    _, top = models_json_schema(modes, ref_template=_REF)  # type: ignore[arg-type]
    defs: dict[str, Any] = top.get("$defs", {})
    defs["Ack"] = {"oneOf": [_schema_ref(AckOk), _schema_ref(AckError)]}
    cleaned: dict[str, Any] = _clean({k: defs[k] for k in sorted(defs)})
    return cleaned


def _client_payload(event: str) -> dict[str, Any]:
    model, bare = CLIENT_PAYLOADS[event]
    if bare:
        return {"oneOf": [{"type": "string", "maxLength": 64}, _schema_ref(model)]}
    return _schema_ref(model)


def event_schema(event: str) -> dict[str, Any]:
    """The payload schema of a server event (or `ack`), with `$ref`s into
    `components.schemas`: what a test validates a real frame's data against."""
    if event == "ack":
        return _ref("#/components/schemas/Ack")
    return _schema_ref(SERVER_PAYLOADS[event])


def _message(name: str, payload: dict[str, Any], summary: str) -> dict[str, Any]:
    return {
        "name": name,
        "title": name,
        "summary": summary,
        "contentType": "application/json",
        "payload": payload,
    }


def _messages() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for event in CLIENT_EVENTS:
        model, _ = CLIENT_PAYLOADS[event]
        doc = inspect.cleandoc(model.__doc__ or event).splitlines()[0]
        out[_key(event)] = _message(event, _client_payload(event), f"{doc} (client -> server)")
    out["ack"] = _message(
        "ack", event_schema("ack"), "The answer to one client event (server -> client)"
    )
    for event, model in SERVER_PAYLOADS.items():
        doc = inspect.cleandoc(model.__doc__ or event).splitlines()[0]
        out[_key(event)] = _message(event, event_schema(event), f"{doc} (server -> client)")
    return out


def _key(event: str) -> str:
    """A component key AsyncAPI accepts (`^[a-zA-Z0-9._-]+$`)."""
    return event.replace(":", "_")


def _operations() -> dict[str, Any]:
    ops: dict[str, Any] = {}
    for chan in _CHANNELS:
        channel = _ref(f"#/channels/{chan}")

        def on(*events: str, chan: str = chan) -> list[dict[str, str]]:
            return [_ref(f"#/channels/{chan}/messages/{_key(e)}") for e in events]

        for event in CLIENT_EVENTS:
            ops[f"{chan}_receive_{_key(event)}"] = {
                "action": "receive",
                "channel": channel,
                "summary": f"Client sends `{event}`; exactly one ack answers it.",
                "messages": on(event),
                "reply": {"channel": channel, "messages": on("ack")},
            }
        for event in SERVER_PAYLOADS:
            ops[f"{chan}_send_{_key(event)}"] = {
                "action": "send",
                "channel": channel,
                "summary": f"Server sends `{event}`.",
                "messages": on(event),
            }
    return ops


_DESCRIPTION: Final = """\
Spec 002 (Symbia) real time as served by hubbub, with the same event names and
payloads on two transports (docs/symbia-realtime.md):

- **Socket.IO** at `/socket.io/`: an event's payload is its argument and the ack
  comes through the ack callback.
- **`/api/ws`**, a plain WebSocket: the client sends
  `{"event": name, "data": payload, "id"?: ref}` and gets
  `{"event": "ack", "ref": id, "for": name, "data": <ack>}`; server events are
  `{"event": name, "data": payload}`.

Operations are described from the server's point of view: `receive` is what the
client sends, `send` what the server sends. Every client event gets exactly one
ack: `{success: true, ...}` or `{success: false, error, code, path?, retryAfterMs?}`.
Credentials (token, API key, cookie) go on the handshake; an unknown event is
refused with `code: bad_frame`, a frame over `--max-frame-bytes` with `too_large`.
"""


def build_symbia_asyncapi() -> dict[str, Any]:
    """The AsyncAPI 3.0.0 document of Symbia's real time, as plain JSON-ready data."""
    messages = _messages()
    servers = {
        chan: {
            "host": "{host}",
            "protocol": "ws",
            "pathname": path,
            "description": f"`{path}` (`wss` behind TLS).",
            "variables": {
                "host": {"default": "127.0.0.1:8080", "description": "host:port of the server."}
            },
        }
        for chan, path in _CHANNELS.items()
    }
    channels = {
        chan: {
            "address": None,
            "title": path,
            "servers": [_ref(f"#/servers/{chan}")],
            "description": f"A connection at `{path}`: every event travels on it.",
            "messages": {k: _ref(f"#/components/messages/{k}") for k in messages},
        }
        for chan, path in _CHANNELS.items()
    }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": TITLE, "version": hubbub.__version__, "description": _DESCRIPTION},
        "defaultContentType": "application/json",
        "servers": servers,
        "channels": channels,
        "operations": _operations(),
        "components": {"messages": messages, "schemas": _schemas()},
    }
