"""The AsyncAPI 3.0 description of `/ws`, built from the Structs that validate it.

Documentation written by hand drifts from the code; this document is derived
from the same declarations the adapter decodes with (`schema.CHANNELS`, the
envelope and the hubbub-added events in `declarations`, the hubbub-added
request fields in `additions`), and a snapshot test
pins it, so a change to the protocol shows up as a diff of the document.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from typing import Any, Final, Literal
from urllib.parse import urlsplit

import msgspec

import hubbub
from hubbub.protocols.channels.additions import client_type
from hubbub.protocols.channels.declarations import (
    CLIENT_ENVELOPE_TYPES,
    ERROR_CODES,
    EXTRA_FIELDS,
    EXTRA_SERVER_EVENTS,
    HUBBUB_CHANNELS,
    REQUIRES_SUBSCRIPTION,
    SERVER_ENVELOPE_TYPES,
    ChannelDecl,
    ClientFrame,
    ErrorData,
    ServerFrame,
)
from hubbub.protocols.channels.schema import CHANNELS, SPEC_SOURCE

__all__ = ["TITLE", "build_asyncapi"]

TITLE: Final = "hubbub realtime API (spec 000)"

_Direction = Literal["client", "server"]
_CONNECTION: Final = "connection"
_SCHEMA_REF: Final = "#/components/schemas/{name}"


def _ref(path: str) -> dict[str, str]:
    return {"$ref": path}


def _channel_id(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name.replace("{", "").replace("}", "")).strip("_")


def _clean_descriptions(node: Any) -> Any:
    # Docstrings keep their indentation before Python 3.13; normalise so the
    # document is the same on every interpreter.
    if isinstance(node, dict):
        return {
            k: inspect.cleandoc(v) if k == "description" and isinstance(v, str) else v
            for k, v in ((k, _clean_descriptions(v)) for k, v in node.items())
        }
    if isinstance(node, list):
        return [_clean_descriptions(v) for v in node]
    return node


def _key(struct: type[msgspec.Struct]) -> str:
    """Key in components.messages: the class name, except `Error` for ErrorData."""
    return "Error" if struct is ErrorData else struct.__name__


@dataclass(frozen=True, slots=True)
class _Message:
    """One entry of components.messages: a wire name in one direction."""

    wire_name: str
    struct: type[msgspec.Struct]
    direction: _Direction

    def to_asyncapi(self) -> dict[str, Any]:
        frame = "ClientFrame" if self.direction == "client" else "ServerFrame"
        body: dict[str, Any] = {
            "type": "object",
            "properties": {
                "type": {"const": self.wire_name},
                "data": _ref(_SCHEMA_REF.format(name=self.struct.__name__)),
            },
        }
        if any(f.required for f in msgspec.structs.fields(self.struct)):
            body["required"] = ["data"]
        doc = inspect.cleandoc(self.struct.__doc__ or "")
        arrow = "client -> server" if self.direction == "client" else "server -> client"
        return {
            "name": self.wire_name,
            "title": self.wire_name,
            "summary": f"{doc.splitlines()[0] if doc else self.wire_name} ({arrow})",
            "contentType": "application/json",
            "payload": {"allOf": [_ref(_SCHEMA_REF.format(name=frame)), body]},
        }


def _messages() -> dict[str, _Message]:
    found: dict[str, _Message] = {}

    def add(wire_name: str, struct: type[msgspec.Struct], direction: _Direction) -> None:
        known = found.setdefault(_key(struct), _Message(wire_name, struct, direction))
        if known.struct is not struct:
            raise RuntimeError(f"two message types are both named {_key(struct)!r}")

    for name, client_struct in CLIENT_ENVELOPE_TYPES.items():
        add(name, client_struct, "client")
    for name, server_struct in SERVER_ENVELOPE_TYPES.items():
        add(name, server_struct, "server")
    for decl in [*CHANNELS.values(), *HUBBUB_CHANNELS.values()]:
        decoded_as = client_type(decl)  # with the fields hubbub adds (`additions.py`)
        if decl.client_message and decoded_as:
            add(decl.client_message, decoded_as, "client")
        if decl.server_message and decl.server_type:
            add(decl.server_message, decl.server_type, "server")
    for (_, name), event in EXTRA_SERVER_EVENTS.items():
        add(name, event, "server")
    return found


def _reply(channel_id: str) -> dict[str, Any]:
    return {
        "channel": _ref(f"#/channels/{channel_id}"),
        "messages": [_ref(f"#/channels/{channel_id}/messages/{k}") for k in ("Ack", "Error")],
    }


def _channel_and_operations(
    decl: ChannelDecl,
) -> tuple[str, dict[str, Any], dict[str, dict[str, Any]]]:
    cid = _channel_id(decl.name)
    channel_ref = _ref(f"#/channels/{cid}")
    subscribable = decl.name in REQUIRES_SUBSCRIPTION
    received: list[str] = [_key(decl.client_type)] if decl.client_type else []
    sent: list[str] = [_key(decl.server_type)] if decl.server_type else []
    sent += [_key(t) for (ch, _), t in EXTRA_SERVER_EVENTS.items() if ch == decl.name]
    envelope: list[str] = ["Subscribe", "Unsubscribe"] if subscribable else []
    replies = ["Ack", "Error"] if received or subscribable else []

    channel: dict[str, Any] = {
        "address": decl.name,
        "title": decl.name,
        "description": decl.description,
        "messages": {
            k: _ref(f"#/components/messages/{k}") for k in [*received, *sent, *envelope, *replies]
        },
    }
    if decl.parameters:
        channel["parameters"] = {
            p: {"description": f"The real `{p}` in the address: non-empty, without `/`."}
            for p in decl.parameters
        }
    if subscribable:
        channel["x-requires-subscription"] = True

    def on_channel(keys: list[str]) -> list[dict[str, str]]:
        return [_ref(f"#/channels/{cid}/messages/{k}") for k in keys]

    operations: dict[str, dict[str, Any]] = {}
    if received:
        operations[f"receive_{cid}"] = {
            "action": "receive",
            "channel": channel_ref,
            "summary": f"Client sends `{decl.client_message}` on `{decl.name}`.",
            "description": (
                "A frame with an `id` gets one reply carrying `ref`: the spec's own "
                "acknowledgment where it has one, else `Ack`, else `Error`."
            ),
            "messages": on_channel(received),
            "reply": _reply(cid),
        }
    if sent:
        names = ", ".join(f"`{k}`" for k in sent)
        operations[f"send_{cid}"] = {
            "action": "send",
            "channel": channel_ref,
            "summary": f"Server pushes {names} on `{decl.name}`.",
            "messages": on_channel(sent),
        }
    if subscribable:
        operations[f"subscribe_{cid}"] = {
            "action": "receive",
            "channel": channel_ref,
            "summary": f"Client subscribes to or unsubscribes from `{decl.name}`.",
            "messages": on_channel(envelope),
            "reply": _reply(cid),
        }
    return cid, channel, operations


def _connection_channel() -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    channel = {
        "address": None,
        "title": "connection",
        "description": (
            "Frames about the connection itself rather than a channel: the browser's "
            "`Authenticate` frame (no `channel` needed) and the replies to it."
        ),
        "messages": {
            k: _ref(f"#/components/messages/{k}") for k in ("Authenticate", "Ack", "Error")
        },
    }
    operation = {
        "action": "receive",
        "channel": _ref(f"#/channels/{_CONNECTION}"),
        "summary": "Client authenticates with a token (first frame, within 10 s).",
        "messages": [_ref(f"#/channels/{_CONNECTION}/messages/Authenticate")],
        "reply": _reply(_CONNECTION),
    }
    return channel, {"receive_authenticate": operation}


def _server(server_url: str) -> dict[str, Any]:
    parts = urlsplit(server_url)
    server: dict[str, Any]
    if parts.scheme and parts.netloc:
        protocol = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
        server = {"host": parts.netloc, "protocol": protocol, "pathname": parts.path or "/"}
    else:
        server = {
            "host": "{host}",
            "protocol": "ws",
            "pathname": parts.path or "/ws",
            "variables": {
                "host": {
                    "default": "127.0.0.1:8080",
                    "description": "host:port of the hubbub server (`wss` behind TLS).",
                }
            },
        }
    server["description"] = "hubbub's realtime WebSocket endpoint."
    server["security"] = [_ref("#/components/securitySchemes/bearer")]
    return server


def _description() -> str:
    extras = "\n".join(
        f"- `{name}` on `{channel}`: {(t.__doc__ or '').strip().splitlines()[0]}"
        for (channel, name), t in EXTRA_SERVER_EVENTS.items()
    )
    errors = "\n".join(f"| `{code}` | {meaning} |" for code, meaning in ERROR_CODES.items())
    return f"""\
Spec 000 ("whatsapp-messaging-service Realtime API", `{SPEC_SOURCE}`) as served by
hubbub on one WebSocket. Operations are described from the server's point of view:
`receive` is a frame the client sends to the server, `send` is a frame the server
pushes to the client.

## Connecting

Send `Authorization: Bearer <token>` on the upgrade request or, from a browser,
`{{"type": "Authenticate", "data": {{"token": "..."}}}}` as the first frame within 10 s.
The device is identified by the `X-Device-Id` header or `device_id` in
`Authenticate`. Tokens come from the REST account API (`POST /v1/auth/login`).

## Envelope

Every frame is one JSON object:

| field | direction | meaning |
|---|---|---|
| `id` | client -> server | optional request id; the one reply to the frame carries it as `ref` |
| `ref` | server -> client | the `id` of the client frame this frame answers |
| `seq` | server -> client | position in the user's durable change feed; dedupe by it |
| `channel` | both | channel address; templated channels carry the real id (`broadcast/news`) |
| `type` | both | the message name exactly as written in the spec |
| `data` | both | the message's fields (extra fields are accepted and ignored) |

Every client frame with an `id` gets exactly one reply carrying `ref`: the spec's
own acknowledgment where it has one (e.g. `ChatMessageAccepted`, `CreateGroupAck`),
else `Ack` with the ids created, else `Error`. Client fields marked required in
the schemas must be present; server fields are null when the server has no value.

## Subscriptions

Events that concern the user (their conversations, their calls, their contacts'
presence as privacy allows) are pushed without asking. Channels marked
`x-requires-subscription` (`broadcast/{{channel_id}}`, `ai/chat/{{conversation_id}}/...`)
need `{{"type": "Subscribe", "channel": "..."}}` first; `Unsubscribe` stops them.

## Resuming

Clients resume with `SyncRequest{{since_sequence}}` on `sync/request` and confirm
with `SyncAck` on `sync/changes`. Each entry of `changes` is a server frame
`{{channel, type, seq, data}}` exactly as it was (or would have been) pushed live.

## Events added by hubbub

Where spec 000 defines a request but no event for the other side, hubbub adds one:

{extras}

## Errors

An `Error` frame carries `data: {{code, message, path?, retry_after_ms?}}`. A bad
frame never closes a healthy connection; a flood is rate-limited.

| code | meaning |
|---|---|
{errors}
"""


def build_asyncapi(server_url: str = "/ws") -> dict[str, Any]:
    """The AsyncAPI 3.0.0 document of `/ws`, as plain JSON-ready data.

    `server_url` is either a path (the host becomes a server variable) or an
    absolute `ws://`, `wss://` or `http(s)://` URL.
    """
    messages = _messages()
    structs: list[type[msgspec.Struct]] = [ClientFrame, ServerFrame]
    structs += sorted({m.struct for m in messages.values()}, key=lambda t: t.__name__)
    _, schemas = msgspec.json.schema_components(structs, ref_template=_SCHEMA_REF)
    for message, extra in EXTRA_FIELDS.items():
        props = schemas[message].setdefault("properties", {})
        for field_name, (schema, description) in extra.items():
            props.setdefault(field_name, {**schema, "description": f"(hubbub) {description}"})

    connection, operations = _connection_channel()
    channels: dict[str, Any] = {_CONNECTION: connection}
    for decl in [*CHANNELS.values(), *HUBBUB_CHANNELS.values()]:
        cid, channel, ops = _channel_and_operations(decl)
        if cid in channels:
            raise RuntimeError(f"channel id {cid!r} is not unique")
        channels[cid] = channel
        operations.update(ops)

    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": TITLE,
            "version": hubbub.__version__,
            "description": _description(),
        },
        "defaultContentType": "application/json",
        "servers": {"hubbub": _server(server_url)},
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": {k: messages[k].to_asyncapi() for k in sorted(messages)},
            "schemas": _clean_descriptions({k: schemas[k] for k in sorted(schemas)}),
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": (
                        "Opaque token from the REST account API, on the upgrade request; "
                        "browsers send it in an `Authenticate` frame instead."
                    ),
                }
            },
        },
    }
