"""Authorization matrix: every REST route and `/ws` channel served today that
takes an id, for every role a caller can have towards that id.

Roles: `stranger` (never a member), `removed` (was a member, left the group),
`member`, `owner` (the group's creator; for user-scoped ids, the user the id
names). The matrix is data (`SURFACES` x roles); each cell is a parametrised
case that sends the real request and, unless it must succeed, the same
request with the target ids replaced by fresh random ones, and checks:

- `ok`: the call succeeds;
- `hidden`: the answer is `not_found` and exactly the answer for a random id
  (REST: status and body; /ws: the whole `Error` data), so an id one may not
  see reveals nothing, not even that it exists;
- `forbidden`: acting for another user: `forbidden`, the same for a random id;
- `not_admin`: a member of the group managing its members: 403 `forbidden`;
- `listed`/`unlisted`: the conversation list shows the group or not.

And for every cell: an error reply holds only `code`, `message` (and `path`),
no reply carries a secret of the world (group name, message content, another
user's email or phone, an id the request did not contain), and a refused
/ws action pushes nothing to the caller (no event with a `seq` arrives, the
caller's change feed does not grow). The last test fills in any cell not yet
run, checks nothing refused reached the group, and records the figure.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import json
import re
import secrets
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.audio import wav_chirp
from tests.integration.mtchat import ADMIN as MTCHAT_ADMIN
from tests.reliability.conftest import Figure
from tests.roomclient import RoomClient
from tests.support import Api, Client, ServerProcess

ROLES = ("stranger", "removed", "member", "owner")
OK, HIDDEN, FORBIDDEN, LISTED, UNLISTED = "ok", "hidden", "forbidden", "listed", "unlisted"
ADMIN_ONLY = "admin_only"  # a user's token is refused (401) whatever the id
ALREADY = "already"  # allowed, and refused as MTChat does: 400 BAD_REQUEST (a second join)
NOT_ADMIN = "not_admin"  # a member who may see the group but not manage it: 403 forbidden

GROUP = {"stranger": HIDDEN, "removed": HIDDEN, "member": OK, "owner": OK}
DIRECT = {"stranger": HIDDEN, "removed": HIDDEN, "member": OK}
PUBLIC = dict.fromkeys(ROLES, OK)
SELF = {"stranger": FORBIDDEN, "removed": FORBIDDEN, "member": FORBIDDEN, "owner": OK}
CREATOR = {"stranger": HIDDEN, "removed": HIDDEN, "member": HIDDEN, "owner": OK}
ALL_HIDDEN = dict.fromkeys(ROLES, HIDDEN)
OUTSIDERS = {"stranger": HIDDEN, "removed": HIDDEN}  # members' cells would change the world
MANAGEMENT = dict.fromkeys(ROLES, ADMIN_ONLY)
MEMBERSHIP = {"stranger": UNLISTED, "removed": UNLISTED, "member": LISTED, "owner": LISTED}
MANAGE = {"stranger": HIDDEN, "removed": HIDDEN, "member": NOT_ADMIN, "owner": OK}

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Surface:
    """One request that names ids, as a template: "{G}" stands for a world id.

    `targets` are the placeholders that a random id replaces for the
    comparison; `fresh` builds a new `{F}` for the case, a group or a token
    of O (leaving and revoking are destructive).
    """

    name: str
    kind: str  # "rest" or "ws"
    route: tuple[str, str]  # (method, path) or (channel, type)
    body: dict[str, Any] | None
    targets: tuple[str, ...]
    expect: dict[str, str]
    fresh: str = ""  # "", "group", "token" or "apikey"


def enc(cid: str) -> dict[str, Any]:
    return {
        "conversation_id": cid,
        "ciphertext": "{CIPHER}",
        "nonce": "bm9uY2U=",
        "algorithm": "AES-GCM",
        "key_id": "k1",
    }


def text(cid: str) -> dict[str, Any]:
    return {"client_message_id": "{CMID}", "conversation_id": cid, "content": "{TEXT}"}


def signal(to: str) -> dict[str, Any]:
    return {"call_id": "{CMID}", "to_user_id": to, "type": "offer", "payload": {"sdp": "v=0"}}


def key(user: str) -> dict[str, Any]:
    return {"user_id": user, "key_id": "{CMID}", "public_key": "cHVi", "algorithm": "X25519"}


def rest(
    method: str,
    path: str,
    targets: str,
    expect: dict[str, str],
    body: Any = None,
    fresh: str = "",
) -> Surface:
    name = f"{method} {path}"
    return Surface(name, "rest", (method, path), body, tuple(targets.split()), expect, fresh)


def ws(
    route: str, body: Any, targets: str, expect: dict[str, str], note: str, fresh: str = ""
) -> Surface:
    channel, type_ = route.split()
    name = f"{channel} {type_} ({note})"
    return Surface(name, "ws", (channel, type_), body, tuple(targets.split()), expect, fresh)


SEND_E2E = "chat/messages SendEncryptedMessage"
SEND_TEXT = "chat/messages/ack SendChatMessageWithClientId"
RECEIPT = "chat/acks SendEncryptedAck"
ACK_G = {"message_id": "{msgG}", "conversation_id": "{G}", "status": "read"}
ACK_D = {"message_id": "{msgD}", "conversation_id": "{D}", "status": "read"}
ACK_X = {"message_id": "{msgX}", "conversation_id": "{G}", "status": "read"}
LEAVE = {"request_id": "{CMID}", "group_id": "{F}"}
CONFIRM = {"client_request_id": "{reqG}"}
INFO = {"user_id": "{O}", "info_text": "{TEXT}"}
HIDE_FROM_T = {"visibility": "everyone", "blocked_user_ids": ["{T}"]}
NEW_GROUP = {"name": "{TEXT}", "member_ids": ["{T}"], "client_request_id": "{CMID}"}
REACT = "chat/reactions AddReaction"
STICKER = "chat/stickers SendStickerMessage"
POLL_G = {"conversation_id": "{G}", "question": "{TEXT}", "options": ["a", "b"]}
POLL_D = {"conversation_id": "{D}", "question": "{TEXT}", "options": ["a", "b"]}
VOTE_G = {"poll_id": "{pollG}", "conversation_id": "{G}", "selected_option_ids": ["o1"]}
CLOSE_G = {"poll_id": "{pollG}", "conversation_id": "{G}"}
MENTION = {"notification_id": "{mentionO}"}
NOT_MEMBERS = {"stranger": HIDDEN, "removed": HIDDEN}
FORWARD = "chat/forward ForwardMessage"
SOON = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 30 * 86400))
NEW_EVENT = {"group_id": "{G}", "title": "{TEXT}", "start_time": SOON}
EVENT_G = {"event_id": "{evG}", "group_id": "{G}"}
EDIT_EVENT = {**EVENT_G, "title": "{TEXT}", "start_time": SOON, "expected_version": 1}
RSVP_G = {**EVENT_G, "status": "going"}
REMIND_G = {**EVENT_G, "reminder_time": SOON}
FWD_G = {
    "original_message_id": "{msgG}",
    "from_conversation_id": "{G}",
    "to_conversation_id": "{D}",
}
FWD_X = {
    "original_message_id": "{msgX}",
    "from_conversation_id": "{X}",
    "to_conversation_id": "{D}",
}


VOICE = "chat/voice SendVoiceMessage"
ARCHIVE = "chat/archive SetChatArchiveStatus"
PIN = "chat/pins SetChatPinned"
SEARCH = "message/search SearchMessages"
SEARCH_BODY = {"search_id": "{CMID}", "query": "nomatchanywhere", "highlight": True}
VOICE_WAV = base64.b64encode(wav_chirp(50)).decode()
DELIVERED_G = {"message_id": "{voiceG}", "conversation_id": "{G}"}
DELIVERED_X = {"message_id": "{voiceX}", "conversation_id": "{X}"}


def voice(cid: str) -> dict[str, Any]:
    return {
        "conversation_id": cid,
        "audio_payload": VOICE_WAV,
        "duration_ms": 50,
        "mime_type": "audio/wav",
        "client_message_id": "{CMID}",
    }


def sticker(cid: str) -> dict[str, Any]:
    return {
        "conversation_id": cid,
        "sticker_id": "s1",
        "sticker_pack_id": "p1",
        "client_message_id": "{CMID}",
    }


BACKGROUND = "chat/background SetChatBackground"
BACKGROUND_ACK = "chat/background/ack SetChatBackgroundWithAck"
INFO_VIS = {"user_id": "{O}", "visibility": {"rule": "everyone", "blocked_user_ids": ["{T}"]}}


def background(cid: str) -> dict[str, Any]:
    return {
        "conversation_id": cid,
        "background_id": "bg",
        "background_type": "color",
        "value": "#112233",
    }


PREVIEWS = "user/notifications/preview"
PREVIEW_CONFIG = "user/notifications/preview/config UpdateNotificationPreviewConfig"
PREVIEW_ACK = f"{PREVIEWS} AcknowledgeNotificationPreview"
REPORT = "moderation/reports SubmitReport"
GREETING_ACK = "chat/greetings AcknowledgeGreetingReceived"
REPORT_ON = {"report_type": "message", "reason": "spam", "details": "{TEXT}"}
STATUS = "status/updates CreateStatus"
STATUS_TEXT = {"content_type": "text", "text": "{TEXT}", "client_request_id": "{CMID}"}
STATUS_OF_X = {"content_type": "image", "content_url": "/v1/blobs/{blobX}"}
STATUS_MUTE = "contacts/status-mute SetContactStatusMute"
PRESIGN = {"dialog_id": "{DG}", "filename": "a.txt", "content_type": "text/plain", "size": 3}

SURFACES: tuple[Surface, ...] = (
    rest("GET", "/v1/conversations/{G}", "G", GROUP),
    rest("GET", "/v1/conversations/{D}", "D", DIRECT),
    rest("GET", "/v1/conversations", "", MEMBERSHIP),
    rest("GET", "/v1/users/{T}", "T", PUBLIC),
    rest("GET", "/v1/users/{T}/keys", "T", PUBLIC),
    rest("POST", "/v1/conversations/direct", "T", PUBLIC, {"user_id": "{T}"}),
    # a group's members: its owner (and admins) add and remove them, on a fresh group
    rest("POST", "/v1/conversations/{F}/members", "F", MANAGE, {"user_id": "{T}"}, "group"),
    rest("DELETE", "/v1/conversations/{F}/members/{M2}", "F", MANAGE, fresh="group"),
    rest("PATCH", "/v1/conversations/{F}/members/{M2}", "F", MANAGE, {"role": "admin"}, "group"),
    # a direct chat gains no members (its members' 422 is in test_group_members)
    rest("POST", "/v1/conversations/{D}/members", "D", OUTSIDERS, {"user_id": "{T}"}),
    rest("PATCH", "/v1/conversations/{D}/members/{M}", "D", OUTSIDERS, {"role": "admin"}),
    # a token id: only its owner may revoke it; anyone else gets a random id's 404
    rest("DELETE", "/v1/auth/tokens/{F}", "F", CREATOR, fresh="token"),
    # an API key id: the same
    rest("DELETE", "/v1/api-keys/{F}", "F", CREATOR, fresh="apikey"),
    # anyone may block or unblock any user (K is blocked by no one else)
    rest("PUT", "/v1/users/{K}/block", "K", PUBLIC),
    rest("DELETE", "/v1/users/{K}/block", "K", PUBLIC),
    # a file of the public room (spec 001): its URL is the capability, for anyone
    rest("GET", "/chat/files/{B}", "B", PUBLIC),
    # conversation ids
    ws(SEND_E2E, enc("{G}"), "G", GROUP, "group"),
    ws(SEND_E2E, enc("{D}"), "D", DIRECT, "direct"),
    ws(SEND_TEXT, text("{G}"), "G", GROUP, "group"),
    ws(SEND_TEXT, text("{D}"), "D", DIRECT, "direct"),
    # receipts: only members, only for messages of that conversation
    ws(RECEIPT, ACK_G, "msgG G", GROUP, "group"),
    ws(RECEIPT, ACK_D, "msgD D", DIRECT, "direct"),
    ws(RECEIPT, ACK_X, "msgX", ALL_HIDDEN, "message of another conversation"),
    # group ids
    ws("group/membership LeaveGroup", LEAVE, "F", GROUP, "fresh group", fresh="group"),
    ws("chat/groups/ack AcknowledgeGroupCreate", CONFIRM, "reqG", CREATOR, "owner's request"),
    # user ids
    ws("call/signaling SendCallSignal", signal("{M2}"), "M2", GROUP, "callee in the group"),
    ws("call/signal SendCallSignal", signal("{M2}"), "M2", GROUP, "callee in the group"),
    ws("crypto/keys PublishPublicKey", key("{O}"), "O", SELF, "as the owner"),
    ws("profile/info-text UpdateProfileInfoText", INFO, "O", SELF, "as the owner"),
    # any id may be listed, known or not: a list is no oracle of who exists
    ws("user/presence-settings UpdatePresenceVisibility", HIDE_FROM_T, "T", PUBLIC, "list T"),
    ws("user/presence-ack PresenceVisibilityUpdateRequest", HIDE_FROM_T, "T", PUBLIC, "list T"),
    ws("chat/groups CreateGroup", NEW_GROUP, "T", PUBLIC, "with any user"),
    # rich content: message ids, conversation ids, poll ids, notification ids
    ws(REACT, {"message_id": "{msgG}", "reaction": "👍"}, "msgG", GROUP, "group message"),
    ws(REACT, {"message_id": "{msgD}", "reaction": "👍"}, "msgD", DIRECT, "direct message"),
    ws(REACT, {"message_id": "{msgX}", "reaction": "👍"}, "msgX", ALL_HIDDEN, "others' chat"),
    ws(STICKER, sticker("{G}"), "G", GROUP, "group"),
    ws(STICKER, sticker("{D}"), "D", DIRECT, "direct"),
    ws("chat/typing SetTyping", {"conversation_id": "{G}", "typing": True}, "G", GROUP, "group"),
    ws("chat/typing SetTyping", {"conversation_id": "{D}", "typing": False}, "D", DIRECT, "direct"),
    # per-user flags: only members, and a foreign chat answers like a missing one
    ws(ARCHIVE, {"conversation_id": "{G}", "archived": True}, "G", GROUP, "group"),
    ws(ARCHIVE, {"conversation_id": "{D}", "archived": False}, "D", DIRECT, "direct"),
    ws(
        PIN, {"conversation_id": "{G}", "pinned": True, "request_id": "{CMID}"}, "G", GROUP, "group"
    ),
    ws(PIN, {"conversation_id": "{D}", "pinned": False}, "D", DIRECT, "direct"),
    # a chat's shared background: only members, a foreign chat answers like a missing one
    ws(BACKGROUND, background("{G}"), "G", GROUP, "group"),
    ws(BACKGROUND, background("{D}"), "D", DIRECT, "direct"),
    ws(BACKGROUND_ACK, {**background("{G}"), "request_id": "{CMID}"}, "G", GROUP, "group"),
    # info-text visibility: only one's own (any id may be listed, like presence's)
    ws("user/info-visibility SetInfoVisibility", INFO_VIS, "O", SELF, "as the owner"),
    # search: only members, a foreign chat answers like a missing one (no word matches,
    # so a member's results hold no content either)
    ws(SEARCH, {**SEARCH_BODY, "conversation_id": "{G}"}, "G", GROUP, "group"),
    ws(SEARCH, {**SEARCH_BODY, "conversation_id": "{D}"}, "D", DIRECT, "direct"),
    ws("chat/polls CreatePoll", POLL_D, "D", DIRECT, "direct"),
    ws("chat/polls CreatePoll", POLL_G, "G", GROUP, "group"),
    ws("chat/polls/votes VotePoll", VOTE_G, "pollG G", GROUP, "group poll"),
    # closing is destructive: the refusals here, who may close in test_rich_content
    ws("chat/polls/status ClosePoll", CLOSE_G, "pollG G", NOT_MEMBERS, "group poll"),
    ws("chat/mentions AcknowledgeMention", MENTION, "mentionO", CREATOR, "the mentioned"),
    ws(FORWARD, FWD_G, "msgG G", GROUP, "group message into a direct chat"),
    ws(FORWARD, FWD_X, "msgX X", ALL_HIDDEN, "others' chat"),
    ws("group/events UpsertGroupEvent", NEW_EVENT, "G", GROUP, "create in the group"),
    ws("group/events UpsertGroupEvent", EDIT_EVENT, "evG G", NOT_MEMBERS, "update"),
    ws("group/events/ack DeleteGroupEvent", EVENT_G, "evG G", NOT_MEMBERS, "delete"),
    ws("group/events/rsvp SetGroupEventRsvp", RSVP_G, "evG G", GROUP, "group event"),
    ws("group/events/reminders SetGroupEventReminder", REMIND_G, "evG G", GROUP, "group event"),
    # spec 003 (MTChat) with a hubbub token: DG is a dialog O, M and M2 joined by
    # scope and R left; these calls send no scope, so only taking part counts.
    rest("GET", "/api/v1/dialogs/{DG}", "DG", GROUP),
    rest("GET", "/api/v1/dialogs/by-object/{OTYPE}/{OBJ}", "OBJ", GROUP),
    rest("GET", "/api/v1/dialogs/by-object/{OTYPE}/{OBJ}/list", "OBJ", PUBLIC),
    rest(
        "POST",
        "/api/v1/dialogs/{DG}/join",
        "DG",
        {**GROUP, "member": ALREADY, "owner": ALREADY},
        {"display_name": "{TEXT}"},
    ),
    rest("POST", "/api/v1/dialogs/{DG}/leave", "DG", OUTSIDERS),
    rest("POST", "/api/v1/dialogs/{DG}/archive", "DG", GROUP),
    rest("POST", "/api/v1/dialogs/{DG}/unarchive", "DG", GROUP),
    rest("POST", "/api/v1/dialogs/{DG}/pin", "DG", GROUP),
    rest("POST", "/api/v1/dialogs/{DG}/unpin", "DG", GROUP),
    rest("POST", "/api/v1/dialogs/{DG}/notifications", "DG", GROUP, {"enabled": True}),
    rest(
        "POST", "/api/v1/dialogs/{DG}/read", "DG msgDG", GROUP, {"last_read_message_id": "{msgDG}"}
    ),
    rest("GET", "/api/v1/dialogs/{DG}/participants", "DG", GROUP),
    rest("GET", "/api/v1/dialogs/{DG}/messages", "DG", GROUP),
    rest("POST", "/api/v1/dialogs/{DG}/messages", "DG", GROUP, {"content": "{TEXT}"}),
    rest("GET", "/api/v1/dialogs/{DG}/messages/{msgDG}", "DG msgDG", GROUP),
    rest("PUT", "/api/v1/dialogs/{DG}/messages/{msgDG}", "DG msgDG", OUTSIDERS, {"content": "x"}),
    rest("DELETE", "/api/v1/dialogs/{DG}/messages/{msgDG}", "DG msgDG", OUTSIDERS),
    rest("POST", "/api/v1/upload/presign", "DG", GROUP, PRESIGN),
    rest("GET", "/api/v1/attachments/{attDG}/url", "attDG", GROUP),
    # signed transfer URLs: a user's token is no signature
    rest("PUT", "/api/v1/attachments/{attDG}/upload", "attDG", ALL_HIDDEN),
    rest("GET", "/api/v1/attachments/{attDG}/content", "attDG", ALL_HIDDEN),
    rest("GET", "/api/v1/management/dialogs/{DG}", "DG", MANAGEMENT),
    rest("DELETE", "/api/v1/management/dialogs/{DG}", "DG", MANAGEMENT),
    rest(
        "POST", "/api/v1/management/dialogs", "", MANAGEMENT, {"object_id": "o", "object_type": "t"}
    ),
    rest(
        "POST",
        "/api/v1/management/dialogs/{DG}/participants",
        "DG",
        MANAGEMENT,
        {"user_id": "{CMID}", "display_name": "{TEXT}"},
    ),
    rest("DELETE", "/api/v1/management/dialogs/{DG}/participants/{CMID}", "DG", MANAGEMENT),
    rest(
        "PUT",
        "/api/v1/management/dialogs/{DG}/access-scopes",
        "DG",
        MANAGEMENT,
        {"access_scopes": []},
    ),
    rest(
        "POST",
        "/api/v1/management/dialogs/search",
        "",
        MANAGEMENT,
        {"object_id": "{OBJ}", "object_type": "order"},
    ),
    # voice notes: conversation ids, their message ids, and their audio's blob ids
    ws(VOICE, voice("{G}"), "G", GROUP, "group"),
    ws(VOICE, voice("{D}"), "D", DIRECT, "direct"),
    ws("chat/voice/ack VoiceMessageDelivered", DELIVERED_G, "voiceG G", GROUP, "group note"),
    ws("chat/voice/ack VoiceMessageDelivered", DELIVERED_X, "voiceX X", ALL_HIDDEN, "others'"),
    rest("GET", "/v1/blobs/{blobG}", "blobG", GROUP),
    rest("GET", "/v1/blobs/{blobX}", "blobX", ALL_HIDDEN),
    rest("POST", "/v1/blobs/{blobG}/url", "blobG", GROUP),
    rest("POST", "/v1/blobs/{blobX}/url", "blobX", ALL_HIDDEN),
    # broadcasts: only a subscriber (O, from before the message) acknowledges a
    # channel's message (before the Unsubscribe below); any user subscribes to
    # an existing channel
    ws(
        "broadcast/messages AcknowledgeBroadcastMessage",
        {"message_id": "{bcO}", "status": "read"},
        "bcO",
        CREATOR,
        "a channel message O subscribed to",
    ),
    ws("broadcast/{C} Subscribe", {}, "C", PUBLIC, "an existing channel"),
    ws("broadcast/{C} Unsubscribe", {}, "C", PUBLIC, "an existing channel"),
    # notification previews: one's own config and subscription (no id); a preview
    # id is its message's, acknowledged only by a member the message was sent to
    ws(PREVIEW_CONFIG, {"show_body": True}, "", PUBLIC, "one's own config"),
    ws(f"{PREVIEWS} Subscribe", {}, "", PUBLIC, "one's own previews"),
    ws(f"{PREVIEWS} Unsubscribe", {}, "", PUBLIC, "one's own previews"),
    ws(PREVIEW_ACK, {"preview_id": "{msgG}"}, "msgG", GROUP, "a group message"),
    ws(PREVIEW_ACK, {"preview_id": "{msgX}"}, "msgX", ALL_HIDDEN, "others' chat"),
    # moderation reports: a message one can read, any user; the ack is the reporter's key
    ws(REPORT, {**REPORT_ON, "target_id": "{msgG}"}, "msgG", GROUP, "group message"),
    ws(REPORT, {**REPORT_ON, "target_id": "{msgX}"}, "msgX", ALL_HIDDEN, "others' chat"),
    ws(REPORT, {**REPORT_ON, "report_type": "user", "target_id": "{T}"}, "T", PUBLIC, "a user"),
    ws(
        "moderation/reports/ack SubmitReportAckRequest",
        {"client_request_id": "{repO}"},
        "repO",
        CREATOR,
        "the reporter's key",
    ),
    # away messages: one's own setting (no id); a greeting is acknowledged only by
    # the user it was sent to (here nobody's: not_found for every role, as a random id)
    ws("user/away SetAwayMessage", {"enabled": False}, "", PUBLIC, "one's own setting"),
    ws(GREETING_ACK, {"greeting_id": "{CMID}", "conversation_id": "{D}"}, "D", ALL_HIDDEN, "none"),
    # contact sync: one's own address book; the ack names the syncer's own sync_id
    ws(
        "contacts/sync StartContactSync",
        {"sync_id": "{CMID}", "contacts": [{"phone": "+49 30 1234567"}]},
        "",
        PUBLIC,
        "one's own address book",
    ),
    ws(
        "contacts/matches AcknowledgeContactMatches",
        {"sync_id": "{syncO}", "received_count": 0},
        "syncO",
        CREATOR,
        "the syncer's id",
    ),
    # status updates: one's own status and settings (no id); a status's file is one the
    # author uploaded; a mute names any user; the acks name the caller's own request/event
    ws(STATUS, STATUS_TEXT, "", PUBLIC, "one's own status"),
    ws(STATUS, STATUS_OF_X, "blobX", ALL_HIDDEN, "another's file"),
    ws(
        "user/status/visibility SetStatusVisibility",
        {"visibility": "custom", "allowed_user_ids": ["{T}"], "request_id": "{CMID}"},
        "",
        PUBLIC,
        "one's own setting",
    ),
    ws(
        "user/status/visibility/ack SetStatusVisibilityAckRequest",
        {"request_id": "{svO}"},
        "svO",
        CREATOR,
        "the requester's key",
    ),
    ws(STATUS_MUTE, {"contact_id": "{T}", "muted": True}, "T", PUBLIC, "any user"),
    ws(
        "contacts/status-mute/ack AckContactStatusMute",
        {"event_id": "{muteO}"},
        "muteO",
        CREATOR,
        "the muter's event",
    ),
    rest("GET", "/v1/users/{T}/statuses", "T", PUBLIC),
)

CASES = [(s, role) for s in SURFACES for role in ROLES if role in s.expect]
ACTOR = {"stranger": "S", "removed": "R", "member": "M", "owner": "O"}


def case_id(surface: Surface, role: str) -> str:
    return f"{surface.name}-{role}"


# -- the world ------------------------------------------------------------------


@dataclass
class World:
    users: dict[str, tuple[str, str, str]]  # O, M, M2, R, S, T, X, Y, K -> (id, token, name)
    ids: dict[str, str]  # placeholder -> value
    secrets: set[str]  # values no refusal may carry unless the request did
    private: set[str]  # values no reply at all may carry (T's email and phone, X's chat)
    leave_seq: int  # R's leave event in G
    results: dict[str, str] = field(default_factory=dict)  # case id -> "" or mismatch


def fill(template: Any, values: dict[str, str]) -> Any:
    if isinstance(template, str) and template.startswith("{") and template.endswith("}"):
        return values[template[1:-1]]
    if isinstance(template, str):
        return template.format(**values) if "{" in template else template
    if isinstance(template, dict):
        return {k: fill(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [fill(v, values) for v in template]
    return template


async def build_world(server: ServerProcess) -> World:
    api = Api(server)
    try:
        users = {k: await api.register() for k in ("O", "M", "M2", "R", "S", "X", "Y", "K")}
        bc_admin = await api.register()
        users["T"] = await api.register(
            email=f"t{secrets.token_hex(4)}@example.com", phone=_phone()
        )
        name = "authz-group-" + secrets.token_hex(4)
        o, m2, r, t = [await api.client(users[k]) for k in ("O", "M2", "R", "T")]
        req = "req-" + secrets.token_hex(4)
        g = await o.ok(
            "chat/groups",
            "CreateGroup",
            {
                "name": name,
                "member_ids": [users[k][0] for k in ("M", "M2", "R")],
                "client_request_id": req,
            },
        )
        gid = g["data"]["group_id"]
        marker_g = "secret-g-" + secrets.token_hex(6)
        msg_g = await m2.ok(
            "chat/messages/ack",
            "SendChatMessageWithClientId",
            {"client_message_id": "w1", "conversation_id": gid, "content": marker_g},
        )
        poll_g = await m2.ok(
            "chat/polls",
            "CreatePoll",
            {"conversation_id": gid, "question": marker_g, "options": ["a", "b"]},
        )
        await m2.ok(
            "chat/messages/ack",
            "SendChatMessageWithClientId",
            {"client_message_id": "w4", "conversation_id": gid, "content": f"@{users['O'][2]}"},
        )
        mention_o = await o.wait_for(lambda f: f["type"] == "MentionNotification")
        voice_g = await m2.ok("chat/voice", "SendVoiceMessage", fill(voice(gid), {"CMID": "w5"}))
        blob_g = await o.wait_for(lambda f: f["type"] == "VoiceMessageReceived")
        ev_g = await m2.ok(
            "group/events",
            "UpsertGroupEvent",
            {"group_id": gid, "title": marker_g, "start_time": SOON},
        )
        dg, obj, msg_dg, att_dg = await build_dialog(api, users)
        left = await r.ok("group/membership", "LeaveGroup", {"group_id": gid})
        leave_ev = await r.wait_for(
            lambda f: f["type"] == "LeaveGroupAck" and f.get("seq") and "ref" not in f
        )
        assert left["data"]["status"] == "left" and leave_ev.get("seq")
        await t.ok(
            "crypto/keys",
            "PublishPublicKey",
            {"key_id": "t1", "public_key": "dA==", "algorithm": "X25519"},
        )

        did = await api.direct(users["O"][1], users["M"][0])
        marker_d = "secret-d-" + secrets.token_hex(6)
        msg_d = await o.ok(
            "chat/messages/ack",
            "SendChatMessageWithClientId",
            {"client_message_id": "w2", "conversation_id": did, "content": marker_d},
        )
        room = await RoomClient(server).connect()
        await room.init()
        content = json.dumps({"room_file": secrets.token_hex(4)}).encode()
        await room.send(
            {
                "type": "file",
                "file": {
                    "name": "f.json",
                    "type": "text/plain",
                    "size": len(content),
                    "data": base64.b64encode(content).decode(),
                },
            }
        )
        posted = await room.wait_for(lambda f: f.get("type") == "message" and "file" in f)
        await room.close()
        xid = await api.direct(users["X"][1], users["Y"][0])
        x = await api.client(users["X"])
        marker_x = "secret-x-" + secrets.token_hex(6)
        msg_x = await x.ok(
            "chat/messages/ack",
            "SendChatMessageWithClientId",
            {"client_message_id": "w3", "conversation_id": xid, "content": marker_x},
        )
        y = await api.client(users["Y"])
        voice_x = await x.ok("chat/voice", "SendVoiceMessage", fill(voice(xid), {"CMID": "w6"}))
        blob_x = await y.wait_for(lambda f: f["type"] == "VoiceMessageReceived")
        await y.close()
        # a broadcast channel (made by an admin) that O subscribes to, and one message on it
        from tests.support import hubbub_cli

        await hubbub_cli(server, "admin", "grant", bc_admin[2])
        chan = "authz-" + secrets.token_hex(4)
        adm = {"Authorization": f"Bearer {bc_admin[1]}"}
        made = await api.http.put(
            f"/v1/broadcast-channels/{chan}", json={"title": "t"}, headers=adm
        )
        assert made.status_code == 201, made.text
        await o.ok(f"broadcast/{chan}", "Subscribe", {})
        bc = await api.http.post(
            f"/v1/broadcast-channels/{chan}/messages", json={"title": marker_g}, headers=adm
        )
        assert bc.status_code == 201, bc.text
        await o.wait_for(lambda f: f.get("type") == "BroadcastMessage")
        rep_o = "rep-" + secrets.token_hex(4)
        await o.ok(
            "moderation/reports",
            "SubmitReport",
            {**REPORT_ON, "target_id": msg_g["data"]["message_id"], "client_request_id": rep_o},
        )
        sync_o = "sync-" + secrets.token_hex(4)
        await o.ok("contacts/sync", "StartContactSync", {"sync_id": sync_o, "contacts": []})
        sv_o = "sv-" + secrets.token_hex(4)
        await o.ok(
            "user/status/visibility",
            "SetStatusVisibility",
            {"visibility": "contacts", "request_id": sv_o},
        )
        o2 = await api.client(users["O"])
        await o.ok(
            STATUS_MUTE.split()[0],
            STATUS_MUTE.split()[1],
            {"contact_id": users["X"][0], "muted": True},
        )
        mute_o = await o2.wait_for(lambda f: f.get("type") == "ContactStatusMuteChanged")
        await o2.close()
        for c in (o, m2, r, t, x):
            await c.close()
        me = await api.http.get(
            f"/v1/users/{users['T'][0]}", headers={"Authorization": f"Bearer {users['T'][1]}"}
        )
        ids = {k: v[0] for k, v in users.items()}
        ids.update(
            G=gid,
            D=did,
            X=xid,
            msgG=msg_g["data"]["message_id"],
            msgD=msg_d["data"]["message_id"],
            msgX=msg_x["data"]["message_id"],
            reqG=req,
            pollG=poll_g["data"]["ids"]["poll_id"],
            mentionO=mention_o["data"]["notification_id"],
            evG=ev_g["data"]["event_id"],
            name=name,
            B=posted["file"]["url"].rsplit("/", 1)[-1],
            DG=dg,
            OBJ=obj,
            msgDG=msg_dg,
            attDG=att_dg,
            OTYPE="order",
            voiceG=voice_g["data"]["message_id"],
            voiceX=voice_x["data"]["message_id"],
            blobG=blob_g["data"]["audio_url"].rsplit("/", 1)[-1],
            blobX=blob_x["data"]["audio_url"].rsplit("/", 1)[-1],
            C=chan,
            bcO=bc.json()["message_id"],
            repO=rep_o,
            syncO=sync_o,
            svO=sv_o,
            muteO=str(mute_o["seq"]),
        )
        hidden = {name, marker_g, marker_d, marker_x, me.json()["email"], me.json()["phone"]}
        hidden |= {v for k, v in ids.items() if k not in ("name", "OTYPE", "muteO")}
        private = {me.json()["email"], me.json()["phone"], marker_x}
        return World(users, ids, hidden, private, int(leave_ev["seq"]))
    finally:
        await api.aclose()


async def build_dialog(
    api: Api, users: dict[str, tuple[str, str, str]]
) -> tuple[str, str, str, str]:
    """A spec 003 dialog: O, M, M2 and R join it by scope, M2 writes and sends a file,
    R leaves."""
    obj, level = "obj-" + secrets.token_hex(4), "authz-" + secrets.token_hex(4)
    r = await api.http.post(
        "/api/v1/management/dialogs",
        json={
            "object_id": obj,
            "object_type": "order",
            "access_scopes": [{"scope_level0": [level]}],
        },
        headers={"Authorization": f"Bearer {MTCHAT_ADMIN}"},
    )
    assert r.status_code == 200, r.text
    dg = r.json()["data"]["id"]
    scope = base64.b64encode(json.dumps({"scope_level0": [level]}).encode()).decode()
    msg = ""
    for k in ("O", "M", "M2", "R"):
        h = {"Authorization": f"Bearer {users[k][1]}", "X-Scope-Config": scope}
        r = await api.http.post(f"/api/v1/dialogs/{dg}/join", json={"display_name": k}, headers=h)
        assert r.status_code == 200, r.text
        if k == "M2":
            r = await api.http.post(
                f"/api/v1/dialogs/{dg}/messages", json={"content": "secret-dg"}, headers=h
            )
            msg = r.json()["data"]["id"]
            pre = await api.http.post(
                "/api/v1/upload/presign", json={**PRESIGN, "dialog_id": dg}, headers=h
            )
            att = pre.json()["data"]["s3_key"]
            assert (await api.http.put(pre.json()["data"]["upload_url"], content=b"abc")).is_success
            files = [{"s3_key": att, "filename": "a.txt", "content_type": "text/plain", "size": 3}]
            r = await api.http.post(
                f"/api/v1/dialogs/{dg}/messages", json={"attachments": files}, headers=h
            )
            assert r.status_code == 200, r.text
    r = await api.http.post(
        f"/api/v1/dialogs/{dg}/leave", headers={"Authorization": f"Bearer {users['R'][1]}"}
    )
    assert r.status_code == 200, r.text
    return dg, obj, msg, att


def _phone() -> str:
    return f"+1650{200 + secrets.randbelow(800)}{secrets.randbelow(10_000):04d}"


def _run(coro: Any) -> Any:
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


@pytest.fixture(scope="module")
def world(server: ServerProcess) -> Iterator[World]:
    yield _run(build_world(server))


# -- one cell ---------------------------------------------------------------------


async def fresh_group(api: Api, w: World) -> str:
    """A new group: O owns it, M and M2 are members, R joined and left."""
    o, r = await api.client(w.users["O"]), await api.client(w.users["R"])
    try:
        g = await o.ok(
            "chat/groups",
            "CreateGroup",
            {"name": w.ids["name"], "member_ids": [w.ids[k] for k in ("M", "M2", "R")]},
        )
        gid = str(g["data"]["group_id"])
        await r.ok("group/membership", "LeaveGroup", {"group_id": gid})
        return gid
    finally:
        await o.close()
        await r.close()


async def fresh_token(api: Api, w: World) -> str:
    """The id of a new token of O (a device signed in for the case)."""
    r = await api.http.post(
        "/v1/auth/login",
        json={"username": w.users["O"][2], "password": PASSWORD, "device_id": "authz-fresh"},
    )
    assert r.status_code == 200, r.text
    token = r.json()["token"]
    listed = await api.http.get("/v1/auth/tokens", headers={"Authorization": f"Bearer {token}"})
    [current] = [t for t in listed.json() if t["current"]]
    return str(current["token_id"])


async def fresh_api_key(api: Api, w: World) -> str:
    """The id of a new API key of O."""
    r = await api.http.post(
        "/v1/api-keys",
        json={"name": "authz"},
        headers={"Authorization": f"Bearer {w.users['O'][1]}"},
    )
    assert r.status_code == 201, r.text
    return str(r.json()["key_id"])


def random_ids(surface: Surface, values: dict[str, str]) -> dict[str, str]:
    return {**values, **{t: str(uuid.uuid4()) for t in surface.targets}}


async def rest_call(api: Api, token: str, s: Surface, values: dict[str, str]) -> tuple[int, Any]:
    method, path = s.route
    r = await api.http.request(
        method,
        fill(path, values),
        json=fill(s.body, values) if s.body is not None else None,
        headers={"Authorization": f"Bearer {token}"},
    )
    if not r.content:
        return r.status_code, None
    try:
        return r.status_code, r.json()
    except ValueError:  # a blob's bytes (a voice note's audio)
        return r.status_code, r.text


async def feed(c: Client) -> list[dict[str, Any]]:
    reply = await c.ok("sync/request", "SyncRequest", {"full_sync": True, "request_id": "feed"})
    assert not reply["data"]["has_more"]
    return list(reply["data"]["changes"])


def leaks(reply: Any, request: Any, w: World, actor: str, refused: bool) -> list[str]:
    """World values in `reply` that the request did not carry and the actor may not know.

    A refusal may carry nothing of the world; a success only what the caller
    may see, never another user's email or phone or a chat they are not in.
    """
    sent, got = json.dumps(request), json.dumps(reply)
    pool = (w.secrets if refused else w.private) - {w.ids[actor]}
    return sorted(v for v in pool if v in got and v not in sent)


async def run_case(api: Api, w: World, s: Surface, role: str) -> str:
    """Run one cell; '' when it matches its expectation, else what went wrong."""
    actor = ACTOR[role]
    token = w.users[actor][1]
    values = {
        **w.ids,
        "CMID": "c-" + secrets.token_hex(6),
        "TEXT": "hello " + secrets.token_hex(4),
        "CIPHER": "Y2lwaGVy",
    }
    if s.fresh == "group":
        values["F"] = await fresh_group(api, w)
    elif s.fresh == "token":
        values["F"] = await fresh_token(api, w)
    elif s.fresh == "apikey":
        values["F"] = await fresh_api_key(api, w)
    expect = s.expect[role]
    problems: list[str] = []

    if s.kind == "rest":
        status, body = await rest_call(api, token, s, values)
        if expect in (LISTED, UNLISTED):
            listed = w.ids["G"] in {c["conversation_id"] for c in body}
            if status != 200 or listed != (expect == LISTED):
                problems.append(f"list: {status}, group listed={listed}")
        elif expect == OK:
            if not 200 <= status < 300:
                problems.append(f"expected success, got {status} {body}")
        elif expect == ALREADY:
            if status != 400 or body.get("error", {}).get("code") != "BAD_REQUEST":
                problems.append(f"expected 400 BAD_REQUEST, got {status} {body}")
        elif expect == NOT_ADMIN:
            code = (body or {}).get("error", {}).get("code") if isinstance(body, dict) else None
            if status != 403 or code != "forbidden":
                problems.append(f"expected 403 forbidden, got {status} {body}")
        elif expect == ADMIN_ONLY:
            rstatus, rbody = await rest_call(api, token, s, random_ids(s, values))
            if (status, body) != (rstatus, rbody) or status != 401:
                problems.append(f"user token: {status} {body}; random id: {rstatus} {rbody}")
        else:
            rstatus, rbody = await rest_call(api, token, s, random_ids(s, values))
            if (status, body) != (rstatus, rbody) or status != 404:
                problems.append(f"real id {status} {body} != random id {rstatus} {rbody}")
            elif set(body) != {"error"} or not set(body["error"]) <= {"code", "message", "path"}:
                problems.append(f"error body carries more than code/message: {body}")
        sent = [fill(s.route[1], values), fill(s.body, values)]
        found = leaks(body, sent, w, actor, refused=expect in (HIDDEN, FORBIDDEN, NOT_ADMIN))
        if found:
            problems.append(f"reply leaks {found}")
        return "; ".join(problems)

    client = await api.client(w.users[actor])
    try:
        before = await feed(client)
        start = len(client.frames)
        channel, type_ = fill(s.route[0], values), s.route[1]
        request = fill(s.body, values)
        reply = await client.request(channel, type_, request)
        if expect == OK:
            if reply["type"] == "Error":
                problems.append(f"expected success, got {reply['data']}")
        else:
            randoms = random_ids(s, values)
            other = await client.request(fill(s.route[0], randoms), type_, fill(s.body, randoms))
            code = "not_found" if expect == HIDDEN else "forbidden"
            if reply["type"] != "Error" or reply["data"] != other["data"]:
                problems.append(f"real id {reply} != random id {other}")
            elif reply["data"]["code"] != code:
                problems.append(f"expected {code}, got {reply['data']}")
            elif not set(reply["data"]) <= {"code", "message", "path"}:
                problems.append(f"error carries more than code/message: {reply['data']}")
            # A refused action pushes nothing and adds nothing to the caller's feed.
            after = await feed(client)
            pushed = [f for f in client.frames[start:] if f.get("seq") is not None]
            if pushed or after != before:
                problems.append(f"refused action produced events: {pushed or after[len(before) :]}")
        found = leaks(reply, request, w, actor, refused=expect != OK)
        if found:
            problems.append(f"reply leaks {found}")
        if actor == "R":
            late = [
                c
                for c in await feed(client)
                if w.ids["G"] in json.dumps(c) and c["seq"] > w.leave_seq
            ]
            if late:
                problems.append(f"removed member's feed has later group events: {late}")
    finally:
        await client.close()
    return "; ".join(problems)


# -- the matrix --------------------------------------------------------------------


@pytest.mark.parametrize(("surface", "role"), CASES, ids=[case_id(s, r) for s, r in CASES])
async def test_authz_cell(api: Api, world: World, surface: Surface, role: str) -> None:
    problem = await run_case(api, world, surface, role)
    world.results[case_id(surface, role)] = problem
    assert problem == ""


async def test_authz_matrix_summary(api: Api, world: World, figure: Figure) -> None:
    """Runs any cell not run yet, checks refused writes reached no one, records the figure."""
    for surface, role in CASES:
        cid = case_id(surface, role)
        if cid not in world.results:
            world.results[cid] = await run_case(api, world, surface, role)

    # Nothing the stranger or the removed member tried landed in the group:
    # the owner's feed holds no message or receipt from them after R left.
    owner = await api.client(world.users["O"])
    try:
        outsiders = {world.ids["S"], world.ids["R"]}
        landed = [
            c
            for c in await feed(owner)
            if c["seq"] > world.leave_seq
            and (c["data"].get("sender_id") in outsiders or c["data"].get("user_id") in outsiders)
            and c["type"] != "LeaveGroupAck"
        ]
    finally:
        await owner.close()
    mismatches = {k: v for k, v in world.results.items() if v}
    uncovered = uncovered_surfaces()
    if uncovered:
        mismatches["served but not in the matrix"] = ", ".join(uncovered)
    if landed:
        mismatches["refused writes landed"] = json.dumps(landed)[:500]
    n = len(world.results)
    figure(
        "authz_matrix",
        f"{len(SURFACES)} id-taking surfaces (REST routes and /ws channels) x roles "
        "(stranger, removed member, member, owner): refused calls answer exactly like a "
        "random id, members succeed, replies leak nothing, refused actions push nothing",
        f"{n} cases, {len(mismatches)} mismatches",
        cases=n,
        surfaces=len(SURFACES),
        mismatches=len(mismatches),
    )
    assert n == len(CASES)
    assert mismatches == {}, json.dumps(mismatches, indent=1)[:4000]


def uncovered_surfaces() -> list[str]:
    """Served channels and REST routes that take an id but have no row in `SURFACES`."""
    from fastapi.routing import APIRoute

    from hubbub.protocols.channels.handlers import HANDLERS
    from hubbub.protocols.mtchat import dialogs, management, messages, uploads
    from hubbub.protocols.simplechat import files
    from hubbub.rest import (
        accounts,
        admin,
        apikeys,
        blobs,
        blocks,
        broadcasts,
        conversations,
        group_members,
        moderation_reports,
        status_updates,
        totp,
    )

    def shape(path: str) -> str:
        return re.sub(r"\{[^}]*\}", "{}", path)

    id_free = {"status/response", "sync/request", "sync/changes"}
    id_free |= {"search/chats", "search/ack"}  # the caller's own chats, the caller's own ids
    served = {channel for channel, _type in HANDLERS} - id_free
    covered = {shape(s.route[0]) for s in SURFACES if s.kind == "ws"}
    missing = sorted(c for c in served if shape(c) not in covered)

    rest = {(s.route[0], shape(s.route[1])) for s in SURFACES if s.kind == "rest"}
    rest |= {(m, shape(p)) for m, p, _b in ADMIN_ROUTES}
    routers = (accounts.router, admin.router, apikeys.router, blocks.router)
    routers += (conversations.router, totp.router, files.router, blobs.router)
    routers += (broadcasts.router, group_members.router)
    routers += (moderation_reports.router, status_updates.router)
    routers += (dialogs.router, management.router, messages.router, uploads.router)
    for router in routers:
        for route in router.routes:
            assert isinstance(route, APIRoute)
            takes_id = "{" in route.path or route.path in (
                "/v1/conversations/direct",
                "/api/v1/management/dialogs",
                "/api/v1/upload/presign",
                "/api/v1/management/dialogs/search",
            )
            for method in route.methods:
                if takes_id and (method, shape(route.path)) not in rest:
                    missing.append(f"{method} {route.path}")
    return missing


# -- server-admin routes -------------------------------------------------------------
#
# Every `/v1/admin/` route, for callers who are not (or no longer) admins: a
# plain user gets 403 `forbidden`; an admin deactivated since, and an admin
# whose token was revoked, hold no live credential any more (deactivation
# revokes them all) and get 401. Each must leave the target untouched; the
# active admin's call succeeds.

ADMIN_ROUTES: tuple[tuple[str, str, Any], ...] = (
    ("GET", "/v1/admin/users", None),
    ("POST", "/v1/admin/users", {"username": "adm-made-" + secrets.token_hex(4), "agent": True}),
    ("GET", "/v1/admin/users/{T}", None),
    ("POST", "/v1/admin/users/{T}/deactivate", None),
    ("POST", "/v1/admin/users/{T}/reactivate", None),
    ("POST", "/v1/admin/users/{T}/password", {"new_password": "taken over now"}),
    ("PUT", "/v1/admin/users/{T}/admin", None),
    ("DELETE", "/v1/admin/users/{T}/admin", None),
    ("POST", "/v1/admin/registration-tokens", {"uses_allowed": 1}),
    ("GET", "/v1/admin/registration-tokens", None),
    ("DELETE", "/v1/admin/registration-tokens/{I}", None),
    ("GET", "/v1/admin/audit", None),
    # broadcasts: admins announce, make channels and segments, grant publishers; a plain
    # user who is not the channel's publisher may not publish on it (admins'
    # segment only, so that the shared server's other users get nothing)
    ("POST", "/v1/broadcasts", {"title": "t", "content": "c", "segment": "admins"}),
    ("PUT", "/v1/broadcast-channels/{C}", {"title": "renamed"}),
    ("PUT", "/v1/broadcast-channels/{C}/publishers/{T}", None),
    ("DELETE", "/v1/broadcast-channels/{C}/publishers/{T}", None),
    ("POST", "/v1/broadcast-channels/{C}/messages", {"title": "t"}),
    ("PUT", "/v1/broadcast-segments/{C}/members/{T}", None),
    ("GET", "/v1/broadcast-segments/{C}", None),
    ("DELETE", "/v1/broadcast-segments/{C}/members/{T}", None),
    # moderation: admins read and move on users' reports
    ("GET", "/v1/admin/reports", None),
    ("GET", "/v1/admin/reports/{RP}", None),
    ("POST", "/v1/admin/reports/{RP}", {"status": "reviewing"}),
)
ADMIN_ROLES = {"user": 403, "deactivated_admin": 401, "revoked_token": 401}


@dataclass
class AdminWorld:
    tokens: dict[str, str]  # role (and "admin") -> bearer token
    ids: dict[str, str]
    target_name: str


async def build_admin_world(server: ServerProcess) -> AdminWorld:
    from tests.support import hubbub_cli

    api = Api(server)
    try:
        names = {
            k: "adm" + secrets.token_hex(5) for k in ("admin", "user", "deact", "revoked", "T")
        }
        users = {k: await api.register(n) for k, n in names.items()}
        for k in ("admin", "deact", "revoked"):
            await hubbub_cli(server, "admin", "grant", names[k])
        h = {"Authorization": f"Bearer {users['admin'][1]}"}
        r = await api.http.post(f"/v1/admin/users/{users['deact'][0]}/deactivate", headers=h)
        assert r.status_code == 200, r.text
        r = await api.http.post(
            "/v1/auth/logout", headers={"Authorization": f"Bearer {users['revoked'][1]}"}
        )
        assert r.status_code == 204
        inv = await api.http.post("/v1/admin/registration-tokens", json={}, headers=h)
        assert inv.status_code == 201, inv.text
        chan = "adm-" + secrets.token_hex(4)
        made = await api.http.put(f"/v1/broadcast-channels/{chan}", json={"title": "t"}, headers=h)
        assert made.status_code == 201, made.text
        reporter = await api.client(users["user"])
        rp = await reporter.ok(
            "moderation/reports",
            "SubmitReport",
            {"report_type": "user", "target_id": users["T"][0], "reason": "spam"},
        )
        await reporter.close()
        tokens = {
            "admin": users["admin"][1],
            "user": users["user"][1],
            "deactivated_admin": users["deact"][1],
            "revoked_token": users["revoked"][1],
        }
        ids = {"T": users["T"][0], "I": inv.json()["token_id"], "C": chan}
        ids["RP"] = rp["data"]["report_id"]
        return AdminWorld(tokens, ids, names["T"])
    finally:
        await api.aclose()


@pytest.fixture(scope="module")
def admin_world(server: ServerProcess) -> Iterator[AdminWorld]:
    yield _run(build_admin_world(server))


ADMIN_CASES = [(r, role) for r in ADMIN_ROUTES for role in ADMIN_ROLES]


@pytest.mark.parametrize(
    ("route", "role"), ADMIN_CASES, ids=[f"{m} {p}-{role}" for (m, p, _b), role in ADMIN_CASES]
)
async def test_admin_route_refuses_non_admins(
    api: Api, admin_world: AdminWorld, route: tuple[str, str, Any], role: str
) -> None:
    method, path, body = route
    r = await api.http.request(
        method,
        path.format(**admin_world.ids),
        json=body,
        headers={"Authorization": f"Bearer {admin_world.tokens[role]}"},
    )
    assert r.status_code == ADMIN_ROLES[role], r.text
    assert r.json()["error"]["code"] == ("forbidden" if r.status_code == 403 else "unauthorized")
    assert set(r.json()["error"]) <= {"code", "message", "path"}
    assert admin_world.target_name not in r.text


async def test_admin_routes_refusals_changed_nothing_and_admins_pass(
    api: Api, admin_world: AdminWorld
) -> None:
    h = {"Authorization": f"Bearer {admin_world.tokens['admin']}"}
    for (method, path, body), role in ADMIN_CASES:  # (re)run every refusal first
        r = await api.http.request(
            method,
            path.format(**admin_world.ids),
            json=body,
            headers={"Authorization": f"Bearer {admin_world.tokens[role]}"},
        )
        assert r.status_code == ADMIN_ROLES[role]
    target = (await api.http.get(f"/v1/admin/users/{admin_world.ids['T']}", headers=h)).json()
    assert target["deactivated_at"] is None and target["is_admin"] is False
    r = await api.http.post(
        "/v1/auth/login", json={"username": admin_world.target_name, "password": PASSWORD}
    )
    assert r.status_code == 200  # the password was not reset
    for method, path, body in ADMIN_ROUTES:
        r = await api.http.request(method, path.format(**admin_world.ids), json=body, headers=h)
        assert 200 <= r.status_code < 300, (method, path, r.text)


# -- Symbia (spec 002) routes ----------------------------------------------------------
#
# Symbia answers a participant-only route for someone who can see the
# conversation but is not (or no longer) in it with 403 (wire-notes), and an
# id of another tenant's conversation exactly like a random id (404). The
# world: org A holds O (owner), M, M2, R (left) and S (never joined) of
# conversation SG; B is an admin of org B only (another tenant). Each cell
# compares the real call with the same call for random ids; `fresh` cells
# (which change membership) get a new SG each.

SYM_ROLES = ("stranger", "removed", "member", "owner", "tenant")
SYM_ACTOR = {"stranger": "S", "removed": "R", "member": "M", "owner": "O", "tenant": "B"}
REFUSED, NOT_IN = "refused", "not_in"  # 403 for a real id; 404 (Not a participant)
SYM_READ = {"stranger": REFUSED, "removed": REFUSED, "member": OK, "owner": OK, "tenant": HIDDEN}
SYM_MANAGE = {**SYM_READ, "member": REFUSED}
SYM_SENDER_ONLY = {**SYM_READ, "member": REFUSED, "owner": REFUSED}
SYM_ADMIN = {"stranger": REFUSED, "removed": REFUSED, "member": REFUSED, "owner": REFUSED}
SYM_ADMIN_CONV = {**SYM_ADMIN, "tenant": HIDDEN}
SYM_SERVER_ADMIN = {**SYM_ADMIN, "tenant": REFUSED}


@dataclass(frozen=True)
class SymSurface:
    method: str
    path: str  # under /api
    targets: tuple[str, ...]
    expect: dict[str, str]
    body: Any = None
    fresh: bool = False

    @property
    def name(self) -> str:
        return f"{self.method} /api{self.path}"


def sym(
    method: str,
    path: str,
    targets: str,
    expect: dict[str, str],
    body: Any = None,
    fresh: bool = False,
) -> SymSurface:
    return SymSurface(method, path, tuple(targets.split()), expect, body, fresh)


CONTROL = {"event": "stream.priority", "runId": "{RUN}", "priority": "high"}
SYM_SURFACES: tuple[SymSurface, ...] = (
    sym("GET", "/conversations/{SG}", "SG", SYM_READ),
    sym("PATCH", "/conversations/{SG}", "SG", SYM_MANAGE, {"description": "{TEXT}"}),
    sym("DELETE", "/conversations/{SG}", "SG", {**SYM_MANAGE, "owner": OK}, fresh=True),
    sym(
        "POST",
        "/conversations/{SG}/join",
        "SG",
        {**SYM_READ, "stranger": OK, "removed": OK},
        fresh=True,
    ),
    sym(
        "POST",
        "/conversations/{SG}/leave",
        "SG",
        {"stranger": NOT_IN, "removed": NOT_IN, "member": OK, "tenant": HIDDEN},
        fresh=True,
    ),
    sym(
        "POST", "/conversations/{SG}/participants", "SG", SYM_MANAGE, {"userId": "{S}"}, fresh=True
    ),
    sym("DELETE", "/conversations/{SG}/participants/{M2}", "SG", SYM_MANAGE, fresh=True),
    sym("GET", "/conversations/{SG}/messages", "SG", SYM_READ),
    sym("POST", "/conversations/{SG}/messages", "SG", SYM_READ, {"content": "{TEXT}"}),
    sym("POST", "/conversations/{SG}/control", "SG", SYM_MANAGE, CONTROL),
    sym("GET", "/conversations/{SG}/runs", "SG", SYM_READ),
    sym("GET", "/conversations/{SG}/runs/{RUN}", "SG RUN", SYM_READ),
    sym(
        "PATCH",
        "/conversations/{SG}/messages/{msgSG}",
        "SG msgSG",
        SYM_SENDER_ONLY,
        {"content": "x"},
    ),
    sym("DELETE", "/conversations/{SG}/messages/{msgSG}", "SG msgSG", SYM_SENDER_ONLY),
    sym("GET", "/conversations/{SG}/messages/{msgSG}/history", "SG msgSG", SYM_READ),
    sym("GET", "/admin/conversations/{SG}", "SG", SYM_ADMIN_CONV),
    sym("DELETE", "/admin/conversations/{SG}", "SG", SYM_ADMIN_CONV),
    sym(
        "POST",
        "/admin/conversations/{SG}/participants",
        "SG",
        SYM_ADMIN_CONV,
        {"userId": "{S}", "role": "admin"},
    ),
    sym("DELETE", "/admin/conversations/{SG}/participants/{M2}", "SG", SYM_ADMIN_CONV),
    sym("GET", "/admin/users/{M}/conversations", "M", SYM_ADMIN),
    sym("GET", "/admin/orgs/{ORG}/members", "ORG", SYM_SERVER_ADMIN),
    sym("POST", "/admin/orgs/{ORG}/members", "ORG", SYM_SERVER_ADMIN, {"userId": "{S}"}),
    sym("DELETE", "/admin/orgs/{ORG}/members/{S}", "ORG S", SYM_SERVER_ADMIN),
    sym("GET", "/admin/users/{M}/capabilities", "M", SYM_SERVER_ADMIN),
    sym("DELETE", "/admin/capabilities/{M}/{CAP}", "M", SYM_SERVER_ADMIN),
)
SYM_CASES = [(s, r) for s in SYM_SURFACES for r in SYM_ROLES if r in s.expect]


@dataclass
class SymWorld:
    tokens: dict[str, str]  # actor -> bearer token
    ids: dict[str, str]
    secrets: set[str]


async def _sym_conv(http: Any, tokens: dict[str, str], ids: dict[str, str]) -> str:
    """A conversation of org A: O owns it, M and M2 are in it, R joined and left."""
    h = {"Authorization": f"Bearer {tokens['O']}", "X-Org-Id": ids["ORG"]}
    body = {
        "type": "group",
        "name": ids["symname"],
        "participants": [{"userId": ids[k]} for k in ("M", "M2", "R")],
    }
    r = await http.post("/api/conversations", json=body, headers=h)
    assert r.status_code == 201, r.text
    sg = str(r.json()["id"])
    r = await http.post(
        f"/api/conversations/{sg}/leave", headers={"Authorization": f"Bearer {tokens['R']}"}
    )
    assert r.status_code == 204, r.text
    return sg


async def build_sym_world(server: ServerProcess) -> SymWorld:
    from tests.support import hubbub_cli

    api = Api(server)
    try:
        users = {k: await api.register() for k in ("O", "M", "M2", "R", "S", "B", "root")}
        await hubbub_cli(server, "admin", "grant", users["root"][2])
        tokens = {k: v[1] for k, v in users.items()}
        ids = {k: v[0] for k, v in users.items()}
        root = {"Authorization": f"Bearer {tokens['root']}"}
        org_a = (await api.http.post("/api/admin/orgs", json={"name": "A"}, headers=root)).json()
        org_b = (await api.http.post("/api/admin/orgs", json={"name": "B"}, headers=root)).json()
        for k in ("O", "M", "M2", "R", "S"):
            r = await api.http.post(
                f"/api/admin/orgs/{org_a['id']}/members", json={"userId": ids[k]}, headers=root
            )
            assert r.status_code == 204, r.text
        r = await api.http.post(
            f"/api/admin/orgs/{org_b['id']}/members",
            json={"userId": ids["B"], "role": "admin"},
            headers=root,
        )
        assert r.status_code == 204, r.text
        ids.update(ORG=org_a["id"], symname="sym-" + secrets.token_hex(4), CAP="messaging.route")
        ids["SG"] = await _sym_conv(api.http, tokens, ids)
        marker = "secret-sg-" + secrets.token_hex(6)
        run = str(uuid.uuid4())
        m2 = {"Authorization": f"Bearer {tokens['M2']}"}
        r = await api.http.post(
            f"/api/conversations/{ids['SG']}/messages",
            json={"content": marker, "runId": run},
            headers=m2,
        )
        assert r.status_code == 201, r.text
        ids.update(msgSG=r.json()["id"], RUN=run)
        hidden = {marker, ids["symname"]} | {
            v for k, v in ids.items() if k not in ("symname", "CAP")
        }
        return SymWorld(tokens, ids, hidden)
    finally:
        await api.aclose()


@pytest.fixture(scope="module")
def sym_world(server: ServerProcess) -> Iterator[SymWorld]:
    yield _run(build_sym_world(server))


async def sym_call(api: Api, token: str, s: SymSurface, values: dict[str, str]) -> tuple[int, Any]:
    r = await api.http.request(
        s.method,
        "/api" + fill(s.path, values),
        json=fill(s.body, values) if s.body is not None else None,
        headers={"Authorization": f"Bearer {token}"},
    )
    return r.status_code, (r.json() if r.content else None)


async def run_sym_case(api: Api, w: SymWorld, s: SymSurface, role: str) -> str:
    actor = SYM_ACTOR[role]
    values = {**w.ids, "TEXT": "hello " + secrets.token_hex(4)}
    if s.fresh:
        values["SG"] = await _sym_conv(api.http, w.tokens, w.ids)
    expect = s.expect[role]
    status, body = await sym_call(api, w.tokens[actor], s, values)
    problems: list[str] = []
    if expect == OK:
        if not 200 <= status < 300:
            problems.append(f"expected success, got {status} {body}")
    else:
        rstatus, rbody = await sym_call(api, w.tokens[actor], s, random_ids(s, values))  # type: ignore[arg-type]
        want = {REFUSED: 403, NOT_IN: 404, HIDDEN: 404}[expect]
        if status != want:
            problems.append(f"expected {want}, got {status} {body}")
        elif expect == HIDDEN and (status, body) != (rstatus, rbody):
            problems.append(f"real id {status} {body} != random id {rstatus} {rbody}")
        elif expect != HIDDEN and rstatus not in (403, 404):
            problems.append(f"random id answered {rstatus} {rbody}")
        if not isinstance(body, dict) or not set(body) <= {"error", "code", "path"}:
            problems.append(f"error body carries more than error/code/path: {body}")
    sent = [fill(s.path, values), fill(s.body, values)]
    got, req = json.dumps(body), json.dumps(sent)
    pool = w.secrets - {w.ids[actor]} if expect != OK else set()
    found = sorted(v for v in pool if v in got and v not in req)
    if found:
        problems.append(f"reply leaks {found}")
    return "; ".join(problems)


@pytest.mark.parametrize(
    ("surface", "role"), SYM_CASES, ids=[f"{s.name}-{r}" for s, r in SYM_CASES]
)
async def test_symbia_authz_cell(
    api: Api, sym_world: SymWorld, surface: SymSurface, role: str
) -> None:
    assert await run_sym_case(api, sym_world, surface, role) == ""


def test_every_symbia_route_with_an_id_has_a_row() -> None:
    from fastapi.routing import APIRoute

    from hubbub.protocols.symbia import admin as sym_admin
    from hubbub.protocols.symbia import conversations as sym_conv
    from hubbub.protocols.symbia import messages as sym_msgs

    def shape(path: str) -> str:
        return re.sub(r"\{[^}]*\}", "{}", path)

    rows = {(s.method, shape("/api" + s.path)) for s in SYM_SURFACES}
    missing = []
    for router in (sym_admin.router, sym_conv.router, sym_msgs.router):
        for route in router.routes:
            assert isinstance(route, APIRoute)
            for method in route.methods:
                if "{" in route.path and (method, shape(route.path)) not in rows:
                    missing.append(f"{method} {route.path}")
    assert missing == []


async def test_symbia_refusals_landed_nothing(api: Api, sym_world: SymWorld) -> None:
    """After every Symbia cell (run again here): no message, participant or run
    change from a refused caller reached SG."""
    for surface, role in SYM_CASES:
        if not surface.fresh:
            await run_sym_case(api, sym_world, surface, role)
    h = {"Authorization": f"Bearer {sym_world.tokens['O']}"}
    sg = sym_world.ids["SG"]
    msgs = (await api.http.get(f"/api/conversations/{sg}/messages?limit=200", headers=h)).json()
    outsiders = {sym_world.ids[k] for k in ("S", "R", "B")}
    assert not [m for m in msgs if m["sender_id"] in outsiders]
    conv = (await api.http.get(f"/api/conversations/{sg}", headers=h)).json()
    assert {p["user_id"] for p in conv["participants"]} == {
        sym_world.ids[k] for k in ("O", "M", "M2")
    }
    assert (
        await api.http.get(
            f"/api/conversations/{sg}/messages/{sym_world.ids['msgSG']}/history", headers=h
        )
    ).status_code == 200
