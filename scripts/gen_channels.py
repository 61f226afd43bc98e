"""Generate `hubbub.protocols.channels.schema` from spec 000's channel index.

The index (`000-channels.json`) is the machine-readable form of the spec's
channel tables, so the Structs are generated from it instead of hand-copied:
a regenerated module cannot miss a field. What the index does not say is which
client fields a request may leave out; that policy lives at the top of this
file (OPTIONAL_NAMES, OPTIONAL_HINT, OVERRIDES) where it is easy to review.

Usage: python scripts/gen_channels.py [path/to/000-channels.json]

Writes src/hubbub/protocols/channels/schema.py (formatted with ruff) and a copy
of the index next to it, which the package ships so tests can check coverage
without the spec directory.
"""

from __future__ import annotations

import hashlib
import json
import keyword
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "DEFAULT_SPEC",
    "OPTIONAL_HINT",
    "OPTIONAL_NAMES",
    "OUTPUT",
    "OVERRIDES",
    "SHIPPED_SPEC",
    "format_source",
    "is_optional",
    "main",
    "render",
]

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPEC = Path("/work/shared/spec/000-channels.json")
PACKAGE_DIR = ROOT / "src" / "hubbub" / "protocols" / "channels"
OUTPUT = PACKAGE_DIR / "schema.py"
SHIPPED_SPEC = PACKAGE_DIR / "spec-000-channels.json"

# --- which client -> server fields may be omitted -------------------------------
#
# A client field is required unless one of these says otherwise. Whatever the
# server needs to act (conversation_id, message_id, content, ciphertext, ...)
# stays required; correlation ids, timestamps the server sets itself, filters
# and annotations are optional.

# A field with one of these names is optional in every client message.
OPTIONAL_NAMES: frozenset[str] = frozenset(
    {
        "signature",
        "note",
        "reason",
        "details",
        "timestamp",
        "received_at",
        "ack_timestamp",
        "self_destruct",
        "ttl_seconds",
        "client_request_id",
        "request_id",
        "client_message_id",
        "client_msg_id",
        "device_id",
        "user_id",
        "language_hint",
        "filters",
        "highlight",
        "page",
        "page_size",
        "full_sync",
        "since_sequence",
        "expected_version",
        "description",
        "location",
        "end_time",
        "target",
        "failure_reason",
        "multi_select",
        "expires_at",
        "include_media",
        "include_attachments",
        "scope",
        "preferred_region",
        "last_active_at",
        "allowed_user_ids",
        "blocked_user_ids",
        "since",
        "limit",
        "since_timestamp",
        "auth_payload",
        "sdp",
        "candidate",
        "share_id",
        "participants",
    }
)

# A field whose spec description matches this is optional ("Optional ...",
# "omit for create", "if applicable", "when ...").
OPTIONAL_HINT: re.Pattern[str] = re.compile(r"\b(?:optional|omit|if|when)\b", re.IGNORECASE)

# Per-message exceptions to the two rules above.
OVERRIDES: dict[str, dict[Literal["optional", "required"], frozenset[str]]] = {
    # Plain chat: the content type defaults to text.
    "SendChatMessageWithClientId": {"optional": frozenset({"type"})},
    # The server stores ciphertext opaquely; the content type is a hint only.
    "SendEncryptedMessage": {"optional": frozenset({"type"})},
    # Acknowledgments: the status of a receipt defaults to "received".
    "SendEncryptedAck": {"optional": frozenset({"status"})},
    "AcknowledgeBroadcastMessage": {"optional": frozenset({"status"})},
    "PushNotificationAck": {"optional": frozenset({"status"})},
    "AcknowledgeMessage": {"optional": frozenset({"status"})},
    "AcknowledgeContactMatches": {"optional": frozenset({"received_count"})},
    # WebRTC signalling: some signal types (hangup, ringing) carry no payload.
    "SendCallSignal": {"optional": frozenset({"payload"})},
    "SendCameraSignal": {"optional": frozenset({"payload"})},
    # The call id identifies the session; a target matters only when starting one.
    "CallSessionCommand": {"optional": frozenset({"to_user_id"})},
    # Camera preferences; the server does not touch media.
    "RequestCameraSession": {"optional": frozenset({"resolution", "fps"})},
    # Settings updates are partial: only the given settings change.
    "UpdateNotificationPreviewConfig": {
        "optional": frozenset({"show_sender", "show_body", "max_body_length", "allowed_categories"})
    },
    "UpdateCallNotificationSettings": {
        "optional": frozenset(
            {
                "call_notifications_enabled",
                "ringtone_enabled",
                "vibration_enabled",
                "do_not_disturb",
            }
        )
    },
    # The server picks a default export format.
    "ExportChatRequest": {"optional": frozenset({"format"})},
    # Disabling the away message needs no text.
    "SetAwayMessage": {"optional": frozenset({"message"})},
    # The server already stores the voice message it is asked to transcribe.
    "StartTranscription": {"optional": frozenset({"audio_url"})},
    # A SyncResponse (sync/request) has no sync_id; the sequence is what counts.
    "SyncAck": {"optional": frozenset({"sync_id"})},
    # Client-generated message id = idempotency key, like client_message_id.
    "SendAIChatMessage": {"optional": frozenset({"message_id"})},
    # Messages that exist only to carry or correlate this id.
    "AcknowledgeGroupCreate": {"required": frozenset({"client_request_id"})},
    "RequestAck": {"required": frozenset({"client_request_id"})},
    "SubmitReportAckRequest": {"required": frozenset({"client_request_id"})},
    "SetStatusVisibilityAckRequest": {"required": frozenset({"request_id"})},
    "SearchAckRequest": {"required": frozenset({"request_id"})},
    "ClientRequestWithId": {"required": frozenset({"request_id"})},
    "BusinessStatsRequestWithId": {"required": frozenset({"request_id"})},
    "SetChatBackgroundWithAck": {"required": frozenset({"request_id"})},
}

# --- generation ---------------------------------------------------------------

_Direction = Literal["client", "server"]
_DIRECTIONS: tuple[tuple[str, _Direction], ...] = (
    ("client_to_server", "client"),
    ("server_to_client", "server"),
)
_ARROW = {"client": "Client -> server", "server": "Server -> client"}
_BASE = {"client": "ClientMessage", "server": "ServerMessage"}
_SCALARS = {
    "string": "str",
    "integer": "int",
    "number": "float",
    "boolean": "bool",
    "object": "dict[str, Any]",
}
_RESERVED = frozenset(
    {
        "Annotated",
        "Any",
        "CHANNELS",
        "ChannelDecl",
        "ClientMessage",
        "Final",
        "Meta",
        "SPEC_SHA256",
        "SPEC_SOURCE",
        "ServerMessage",
    }
)


@dataclass
class _Message:
    name: str
    direction: _Direction
    fields: list[dict[str, str]]
    channels: list[tuple[str, str]] = field(default_factory=list)
    class_name: str = ""

    @property
    def signature(self) -> tuple[tuple[str, str], ...]:
        return tuple((f["name"], f["type"]) for f in self.fields)


def is_optional(message: str, field_name: str, description: str) -> bool:
    """Whether a client -> server field may be omitted (see the rules above)."""
    override = OVERRIDES.get(message, {})
    if field_name in override.get("required", frozenset()):
        return False
    if field_name in override.get("optional", frozenset()):
        return True
    return field_name in OPTIONAL_NAMES or OPTIONAL_HINT.search(description) is not None


def _py_type(f: dict[str, str]) -> str:
    if f["type"] == "array":
        return "list[str]" if f["name"].endswith("_ids") else "list[Any]"
    try:
        return _SCALARS[f["type"]]
    except KeyError:
        raise SystemExit(f"unknown field type {f['type']!r} of field {f['name']!r}") from None


def _camel(channel: str) -> str:
    words = re.split(r"[^A-Za-z0-9]+", channel)
    return "".join(w[:1].upper() + w[1:] for w in words if w)


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if text.endswith((".", "!", "?")) else text + "."


def _docstring(msg: _Message) -> list[str]:
    (first, first_desc), *others = msg.channels
    where = f"{_ARROW[msg.direction]} on `{first}`."
    for name, desc in others:
        where += f" Also on `{name}`: {_sentence(desc)}"
    paragraphs = [_sentence(first_desc), where]
    lines: list[str] = []
    for para in paragraphs:
        if lines:
            lines.append("")
        lines.extend(textwrap.wrap(para, width=92, break_on_hyphens=False))
    lines = [ln.replace("\\", "\\\\").replace('"""', '\\"\\"\\"') for ln in lines]
    if len(lines) == 1:
        return [f'    """{lines[0]}"""']
    body = [f"    {ln}" if ln else "" for ln in lines[1:]]
    return [f'    """{lines[0]}', *body, '    """']


def _lit(text: str, width: int = 70) -> str:
    """A string literal, split into implicitly joined parts when long."""
    text = " ".join(text.split())
    if len(text) <= width:
        return repr(text)
    parts: list[str] = []
    for word in re.findall(r"\S+\s*", text):
        if parts and len(parts[-1]) + len(word) <= width:
            parts[-1] += word
        else:
            parts.append(word)
    return "(" + " ".join(repr(p) for p in parts) + ")"


def _field_line(msg: _Message, f: dict[str, str]) -> str:
    name = f["name"]
    if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
        raise SystemExit(f"field {name!r} of {msg.name} is not usable as a Python attribute")
    optional = msg.direction == "server" or is_optional(msg.name, name, f["description"])
    annotation = _py_type(f) + (" | None" if optional else "")
    if f["description"].strip():
        annotation = f"Annotated[{annotation}, Meta(description={_lit(f['description'])})]"
    return f"    {name}: {annotation}" + (" = None" if optional else "")


def _collect(spec: dict[str, Any]) -> tuple[list[_Message], dict[tuple[str, _Direction], str]]:
    """Group the spec's messages into classes; map (channel, direction) to a class."""
    variants: dict[str, list[_Message]] = {}
    ordered: list[_Message] = []
    where: dict[tuple[str, _Direction], _Message] = {}
    for channel in spec["channels"]:
        for key, direction in _DIRECTIONS:
            decl = channel.get(key)
            if decl is None:
                continue
            candidate = _Message(decl["message"], direction, decl["fields"])
            same = [
                m
                for m in variants.get(candidate.name, [])
                if m.direction == direction and m.signature == candidate.signature
            ]
            msg = same[0] if same else candidate
            if not same:
                variants.setdefault(msg.name, []).append(msg)
                ordered.append(msg)
            msg.channels.append((channel["channel"], channel["description"]))
            where[(channel["channel"], direction)] = msg
    for group in variants.values():
        for msg in group:
            msg.class_name = msg.name if len(group) == 1 else msg.name + _camel(msg.channels[0][0])
    names = [m.class_name for m in ordered]
    clashes = {n for n in names if names.count(n) > 1} | (set(names) & _RESERVED)
    bad = {n for n in names if not n.isidentifier() or keyword.iskeyword(n)}
    if clashes or bad:
        raise SystemExit(f"unusable class names: {sorted(clashes | bad)}")
    return ordered, {k: m.class_name for k, m in where.items()}


def _check_overrides(messages: list[_Message]) -> None:
    fields = {m.name: {f["name"] for f in m.fields} for m in messages if m.direction == "client"}
    for message, override in OVERRIDES.items():
        if message not in fields:
            raise SystemExit(f"OVERRIDES names unknown client message {message!r}")
        unknown = set().union(*override.values()) - fields[message]
        if unknown:
            raise SystemExit(f"OVERRIDES[{message!r}] names unknown fields {sorted(unknown)}")


_MODULE_DOC = '''\
"""Every message of spec 000 as a msgspec Struct, and the table of its channels.

Generated, not hand-written, because the spec's channel index is the authority:
104 channels and their fields are data, and hand copies drift. Client -> server
fields are required unless the generator's rules make them optional (see
scripts/gen_channels.py); server -> client fields are all nullable, because the
server sends what it has and encodes the rest as null.
"""'''


def render(spec: dict[str, Any], digest: str) -> str:
    """Source of schema.py for a parsed index whose bytes hash to `digest`."""
    messages, class_of = _collect(spec)
    _check_overrides(messages)
    classes = [m.class_name for m in messages]
    out = [
        "# Generated by scripts/gen_channels.py from spec 000's 000-channels.json. Do not edit.",
        "# Regenerate: .venv/bin/python scripts/gen_channels.py [path/to/000-channels.json]",
        _MODULE_DOC,
        "",
        "from typing import Annotated, Any, Final",
        "",
        "from msgspec import Meta",
        "",
        "from hubbub.protocols.channels.declarations import (",
        "    ChannelDecl,",
        "    ClientMessage,",
        "    ServerMessage,",
        ")",
        "",
        "__all__ = [",
        *(f"    {n!r}," for n in ["CHANNELS", "SPEC_SHA256", "SPEC_SOURCE", *sorted(classes)]),
        "]",
        "",
        f"SPEC_SOURCE: Final = {spec.get('source', '')!r}",
        f"SPEC_SHA256: Final = {digest!r}",
    ]
    for msg in messages:
        out += ["", ""]
        out.append(
            f"class {msg.class_name}({_BASE[msg.direction]}, kw_only=True, omit_defaults=False):"
        )
        out += _docstring(msg)
        if msg.fields:
            out.append("")
        out += [_field_line(msg, f) for f in msg.fields]
    out += ["", "", "CHANNELS: Final[dict[str, ChannelDecl]] = {"]
    for channel in spec["channels"]:
        name = channel["channel"]
        client = channel.get("client_to_server")
        server = channel.get("server_to_client")
        out += [
            f"    {name!r}: ChannelDecl(",
            f"        name={name!r},",
            f"        description={_lit(channel['description'])},",
            f"        client_message={client['message'] if client else None!r},",
            f"        client_type={class_of[(name, 'client')] if client else None},",
            f"        server_message={server['message'] if server else None!r},",
            f"        server_type={class_of[(name, 'server')] if server else None},",
            "    ),",
        ]
    out.append("}")
    return "\n".join(out) + "\n"


def format_source(source: str) -> str:
    """Format generated code with the project's ruff settings."""
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--stdin-filename", str(OUTPUT), "-"],
        input=source,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"ruff format failed:\n{result.stderr}")
    return result.stdout


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) > 1:
        print(__doc__, file=sys.stderr)
        return 2
    spec_path = Path(args[0]) if args else DEFAULT_SPEC
    raw = spec_path.read_bytes()
    spec = json.loads(raw)
    source = format_source(render(spec, hashlib.sha256(raw).hexdigest()))
    OUTPUT.write_text(source, encoding="utf-8")
    if spec_path.resolve() != SHIPPED_SPEC.resolve():
        SHIPPED_SPEC.write_bytes(raw)
    print(f"wrote {OUTPUT.relative_to(ROOT)} and {SHIPPED_SPEC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
