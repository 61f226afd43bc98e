"""Who may download a blob, and the short-lived signed URLs browsers need.

A blob tied to conversations (a voice note's audio, where it was sent and
forwarded: `blob_refs`) may be downloaded by their members and nobody else; a stranger and an
unknown id get the same `not_found`. Members authenticate with
`Authorization: Bearer`, or, where a browser cannot send a header
(`<audio src>`), with a signed URL minted for them:

    /v1/blobs/{blob_id}?u={user_id}&exp={unix seconds}&sig={hex}
    sig = HMAC-SHA256(key, "{blob_id}.{user_id}.{exp}")

The URL is bound to the member it was minted for: it stops working when it
expires, and also as soon as that member leaves the conversation. A
tampered or expired signature is `forbidden`; only a valid one goes on to
the membership and existence checks (so a forged URL learns nothing about
which ids exist). A blob shown by a live status (`core/status_updates.py`)
may also be read by those the status is for, while it lives (`readers`).
The key is the `blob_urls` row of `server_secrets`, created by the first
node that needs it, so every node of a cluster signs and verifies with the
same key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from hubbub.clock import Clock
from hubbub.core.blobs import Blobs, check_blob_id
from hubbub.core.context import Caller
from hubbub.core.conversations import Conversations
from hubbub.core.ports.blobs import BlobMeta, BlobRefStore
from hubbub.errors import Forbidden, NotFound

__all__ = ["BlobAccess", "SignedUrl"]

SECRET_NAME = "blob_urls"


@dataclass(frozen=True, slots=True)
class SignedUrl:
    url: str
    expires_at_ms: int


class BlobAccess:
    def __init__(
        self,
        blobs: Blobs,
        refs: BlobRefStore,
        conversations: Conversations,
        clock: Clock,
        url_ttl_ms: int,
    ) -> None:
        self.blobs = blobs
        self.refs = refs
        self.conversations = conversations
        self.clock = clock
        if url_ttl_ms < 1000:
            raise ValueError("--blob-url-ttl-s must be at least 1")
        self.url_ttl_ms = url_ttl_ms
        self._key: bytes | None = None
        # Other uses that let a user read a blob, `(user_id, blob_id) -> bool`
        # (a live status showing it: `StatusUpdates.may_read_blob`).
        self.readers: list[Callable[[str, str], Awaitable[bool]]] = []

    async def _signing_key(self) -> bytes:
        if self._key is None:
            value = await self.refs.secret(SECRET_NAME, secrets.token_hex(32), self.clock.now_ms())
            self._key = bytes.fromhex(value)
        return self._key

    @staticmethod
    def _mac(key: bytes, blob_id: str, user_id: str, exp: int) -> str:
        msg = f"{blob_id}.{user_id}.{exp}".encode()
        return hmac.new(key, msg, hashlib.sha256).hexdigest()

    async def _require_reader(self, user_id: str, blob_id: str) -> None:
        found = await self.refs.ref_conversations(blob_id) if check_blob_id(blob_id) else []
        for conversation_id in found:
            if user_id in await self.conversations.members(conversation_id):
                return
        if check_blob_id(blob_id):
            for reader in self.readers:
                if await reader(user_id, blob_id):
                    return
        raise NotFound("file not found")

    async def open_for(self, caller: Caller, blob_id: str) -> BlobMeta:
        """The blob, if the caller is a member of its conversation (its bytes:
        `Blobs.stream`)."""
        await self._require_reader(caller.user_id, blob_id)
        return await self.blobs.open(blob_id)

    async def mint(self, caller: Caller, blob_id: str) -> SignedUrl:
        """A signed URL for the caller, valid for `--blob-url-ttl-s`."""
        await self._require_reader(caller.user_id, blob_id)
        key = await self._signing_key()
        exp_ms = self.clock.now_ms() + self.url_ttl_ms
        exp = -(-exp_ms // 1000)  # whole seconds, rounded up
        sig = self._mac(key, blob_id, caller.user_id, exp)
        return SignedUrl(f"/v1/blobs/{blob_id}?u={caller.user_id}&exp={exp}&sig={sig}", exp * 1000)

    async def open_signed(self, blob_id: str, user_id: str, exp: str, sig: str) -> BlobMeta:
        """The blob behind a signed URL: `forbidden` unless the signature is
        ours and unexpired, then the same checks as with a bearer token."""
        if not exp.isdigit() or len(exp) > 12 or len(sig) != 64 or len(user_id) > 64:
            raise Forbidden("invalid signature")
        key = await self._signing_key()
        if not hmac.compare_digest(self._mac(key, blob_id, user_id, int(exp)), sig.lower()):
            raise Forbidden("invalid signature")
        if int(exp) * 1000 < self.clock.now_ms():
            raise Forbidden("this link has expired")
        await self._require_reader(user_id, blob_id)
        return await self.blobs.open(blob_id)
