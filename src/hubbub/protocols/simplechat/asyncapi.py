"""The AsyncAPI 3.0 description of the public room (spec 001), built from its frames.

As for `/ws` (`protocols/channels/asyncapi.py`), the document is derived
from the Structs the room decodes and encodes with (`frames.CLIENT_FRAMES`,
`frames.SERVER_FRAMES`), so it cannot drift from the code; a snapshot test
(`tests/protocols/snapshots/asyncapi-simplechat.json`) shows every change
as a diff. Served at `GET /docs/asyncapi-simplechat.json`.

Two fields are typed loosely in the Structs because the server fills them
with data it has already encoded (`userData.users`, `history.messages`);
the document gives their real item schemas (`UserOut`, `MessageOut`).
"""

from __future__ import annotations

import inspect
from typing import Any, Final

import msgspec

import hubbub
from hubbub.protocols.simplechat.frames import (
    CLIENT_FRAMES,
    ERROR_CODES,
    SERVER_FRAMES,
    MessageOut,
    UserOut,
)

__all__ = ["PATHS", "TITLE", "build_simplechat_asyncapi"]

TITLE: Final = "hubbub public room (spec 001)"
PATHS: Final = ("/", "/chat")
SEED: Final = "001_8cb9b752a03ff22c.txt"
_SCHEMA_REF: Final = "#/components/schemas/{name}"
_CHANNEL: Final = "room"
# What the server answers to each client frame (besides `error`).
_REPLIES: Final = {"init": ("userData", "history"), "text": ("message",), "file": ("message",)}


def _ref(path: str) -> dict[str, str]:
    return {"$ref": path}


def _clean(node: Any) -> Any:
    """Docstrings as `inspect.cleandoc` has them, the same on every Python."""
    if isinstance(node, dict):
        return {
            k: inspect.cleandoc(v) if k == "description" and isinstance(v, str) else _clean(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_clean(v) for v in node]
    return node


def _summary(struct: type[msgspec.Struct], arrow: str) -> str:
    doc = inspect.cleandoc(struct.__doc__ or "")
    return f"{doc.splitlines()[0] if doc else struct.__name__} ({arrow})"


def _message(wire: str, struct: type[msgspec.Struct], arrow: str) -> dict[str, Any]:
    return {
        "name": wire,
        "title": wire,
        "summary": _summary(struct, arrow),
        "contentType": "application/json",
        "payload": _ref(_SCHEMA_REF.format(name=struct.__name__)),
    }


def _schemas() -> dict[str, Any]:
    structs = [*CLIENT_FRAMES.values(), *SERVER_FRAMES.values(), UserOut]
    _, schemas = msgspec.json.schema_components(structs, ref_template=_SCHEMA_REF)
    users = schemas["UserDataOut"]["properties"]["users"]
    users["items"] = _ref(_SCHEMA_REF.format(name=UserOut.__name__))
    history = schemas["HistoryOut"]["properties"]["messages"]
    history["items"] = _ref(_SCHEMA_REF.format(name=MessageOut.__name__))
    codes = schemas["ErrorOut"]["properties"]["code"]
    codes["description"] = "One of: " + ", ".join(f"`{c}`" for c in ERROR_CODES) + "."
    cleaned: dict[str, Any] = _clean({k: schemas[k] for k in sorted(schemas)})
    return cleaned


def _operations() -> dict[str, Any]:
    channel = _ref(f"#/channels/{_CHANNEL}")

    def on_channel(*keys: str) -> list[dict[str, str]]:
        return [_ref(f"#/channels/{_CHANNEL}/messages/{k}") for k in keys]

    ops: dict[str, Any] = {}
    for wire in CLIENT_FRAMES:
        ops[f"receive_{wire}"] = {
            "action": "receive",
            "channel": channel,
            "summary": f"Client sends `{wire}`.",
            "messages": on_channel(wire),
            "reply": {"channel": channel, "messages": on_channel(*_REPLIES[wire], "error")},
        }
    for wire in SERVER_FRAMES:
        ops[f"send_{wire}"] = {
            "action": "send",
            "channel": channel,
            "summary": f"Server sends `{wire}`.",
            "messages": on_channel(wire),
        }
    return ops


def _description() -> str:
    errors = "\n".join(f"| `{code}` | {meaning} |" for code, meaning in ERROR_CODES.items())
    return f"""\
Spec 001 (the public chat room, seed `{SEED}`) as served by hubbub: a WebSocket
upgrade at `/` or at `/chat` (the same room; `--simplechat false` turns it off).
Operations are described from the server's point of view: `receive` is a frame
the client sends, `send` a frame the server sends. Every frame is one JSON text
frame, an object tagged by `type`; unknown fields are ignored.

## Joining

Send `init` first (`{{"type": "init", "username": "ada", "id": "ada-laptop"}}`).
The server answers `userData` (everyone who has been in the room) and `history`
(the most recent messages, oldest first); the others get `userStatus` with
`online: true`, and `online: false` when the last connection of that `id` closes.
Anything but `init` before it is refused with `not_initialized`. An optional
hubbub `token` on `init` (or `Authorization: Bearer` on the upgrade) binds the `id`
to an account. `traceparent` (W3C trace context) on any frame is carried into the
chat events of spec 004.

## Talking

`text` and `file` are stored, then sent as `message` to everyone in the room, the
sender included. A file's `message` carries `file.url`, from which a room member
downloads it.

## Errors

A refused frame gets one `error` frame and the connection stays usable.

| code | sent when |
|---|---|
{errors}
"""


def build_simplechat_asyncapi() -> dict[str, Any]:
    """The AsyncAPI 3.0.0 document of the room, as plain JSON-ready data."""
    messages: dict[str, Any] = {}
    for wire, struct in CLIENT_FRAMES.items():
        messages[wire] = _message(wire, struct, "client -> server")
    for wire, struct in SERVER_FRAMES.items():
        messages[wire] = _message(wire, struct, "server -> client")
    servers = {
        name: {
            "host": "{host}",
            "protocol": "ws",
            "pathname": path,
            "description": f"The room at `{path}` (`wss` behind TLS).",
            "variables": {
                "host": {
                    "default": "127.0.0.1:8080",
                    "description": "host:port of the hubbub server.",
                }
            },
        }
        for name, path in zip(("root", "chat"), PATHS, strict=True)
    }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": TITLE, "version": hubbub.__version__, "description": _description()},
        "defaultContentType": "application/json",
        "servers": servers,
        "channels": {
            _CHANNEL: {
                "address": None,
                "title": "room",
                "description": "The connection: every frame of the room travels on it.",
                "messages": {k: _ref(f"#/components/messages/{k}") for k in messages},
            }
        },
        "operations": _operations(),
        "components": {"messages": messages, "schemas": _schemas()},
    }
