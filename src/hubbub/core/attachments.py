"""Message attachments: announced, uploaded once, bound to one message.

    presign (a member, name/type/size checked) -> record, upload allowed once
    upload  (exactly the announced size)       -> bytes in the blob store
    send    (the uploader, same conversation)  -> bound to the message, then it is sent
    download                                   -> members of the conversation only

Who may upload and download is decided here; the adapters hand out signed,
expiring URLs for the two transfers (spec 003's presigned URLs), so the host
application's page can use them without the caller's token. An attachment
of a conversation one is not in answers `not_found`, like an unknown id.

The bytes are a blob of the shared store (`core/blobs.py`, purpose
`mtchat`): in the database on PostgreSQL, so any node serves a file another
node took in. An attachment announced but never sent (or bound to a
message whose commit never came, or one deleted since) is an orphan after `ORPHAN_AFTER_MS` (its
upload URL lived 5 minutes) and is collected with its blob, like a voice
note's (`collect_orphans`, run by every node: the row is claimed by
deleting it only while it is still unsent).
"""

from __future__ import annotations

from hubbub.clock import Clock
from hubbub.core.blobs import Blobs
from hubbub.core.conversations import Conversations
from hubbub.core.ports import AttachmentStore
from hubbub.core.ports.attachments import AttachmentRecord
from hubbub.core.ports.blobs import BlobMeta
from hubbub.errors import NotFound, TooLarge, ValidationFailed
from hubbub.ids import new_id

__all__ = [
    "ALLOWED_TYPES",
    "ATTACHMENT_PURPOSE",
    "MAX_ATTACHMENT_BYTES",
    "MAX_PER_MESSAGE",
    "ORPHAN_AFTER_MS",
    "Attachments",
]

ATTACHMENT_PURPOSE = "mtchat"
ORPHAN_AFTER_MS = 3600 * 1000

MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
MAX_PER_MESSAGE = 10
# MTChat's list: images, office documents, text, archives.
ALLOWED_TYPES = frozenset(
    {
        "image/jpeg", "image/png", "image/gif", "image/webp", "image/svg+xml", "image/bmp",
        "image/tiff", "application/pdf", "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/rtf", "text/plain", "text/csv", "text/markdown", "text/html", "text/xml",
        "application/json", "application/zip", "application/x-rar-compressed",
        "application/x-7z-compressed", "application/gzip", "application/x-tar",
    }
)  # fmt: skip


def _type_ok(content_type: str) -> bool:
    return content_type in ALLOWED_TYPES or content_type.startswith(
        "application/vnd.oasis.opendocument."
    )


class Attachments:
    def __init__(
        self,
        store: AttachmentStore,
        blobs: Blobs,
        conversations: Conversations,
        clock: Clock,
    ) -> None:
        self.store = store
        self.blobs = blobs
        self.conversations = conversations
        self.clock = clock

    async def announce(
        self, user_id: str, conversation_id: str, filename: str, content_type: str, size: int
    ) -> AttachmentRecord:
        if user_id not in await self.conversations.members(conversation_id):
            raise NotFound("dialog not found", path="$.dialog_id")
        name = filename.strip()
        if not name or len(name) > 255 or "/" in name or "\\" in name or not name.isprintable():
            raise ValidationFailed("1-255 printable characters, no slashes", path="$.filename")
        if len(content_type) > 128 or not _type_ok(content_type.lower()):
            raise ValidationFailed("file type not allowed", path="$.content_type")
        if size <= 0:
            raise ValidationFailed("an empty file cannot be attached", path="$.size")
        if size > MAX_ATTACHMENT_BYTES:
            raise TooLarge(f"at most {MAX_ATTACHMENT_BYTES} bytes", path="$.size")
        rec = AttachmentRecord(
            new_id(), conversation_id, user_id, name, content_type.lower(), size,
            self.clock.now_ms(),
        )  # fmt: skip
        await self.store.create_attachment(rec)
        return rec

    async def accept_upload(self, attachment_id: str, data: bytes) -> None:
        """The bytes of an announced file (the signed URL was checked by the adapter)."""
        rec = await self.store.get_attachment(attachment_id)
        if rec is None or rec.uploaded_at is not None:
            raise NotFound("upload not found")
        if len(data) != rec.size:
            raise ValidationFailed(f"expected exactly {rec.size} bytes", path="$.body")
        blob = await self.blobs.put_checked(
            rec.uploader_id, ATTACHMENT_PURPOSE, rec.filename, rec.content_type, data
        )
        if not await self.store.mark_uploaded(rec.id, self.clock.now_ms(), blob.id):
            await self.blobs.delete(blob.id)  # a concurrent second upload: the first stands
            raise NotFound("upload not found")

    async def reserve(
        self, user_id: str, conversation_id: str, attachment_ids: list[str], message_id: str
    ) -> list[AttachmentRecord]:
        """Before a send: each file is the sender's, uploaded, of this conversation,
        free; then all are bound to the message about to be sent, or none (two
        sends of one file: one gets it, the other `not_found` before it sends)."""
        if len(attachment_ids) > MAX_PER_MESSAGE:
            raise ValidationFailed(f"at most {MAX_PER_MESSAGE}", path="$.attachments")
        if len(set(attachment_ids)) != len(attachment_ids):
            raise ValidationFailed("an attachment is given twice", path="$.attachments")
        found = []
        for i, aid in enumerate(attachment_ids):
            rec = await self.store.get_attachment(aid)
            if (
                rec is None
                or rec.uploader_id != user_id
                or rec.conversation_id != conversation_id
                or rec.uploaded_at is None
                or rec.message_id is not None
            ):
                raise NotFound("attachment not found", path=f"$.attachments[{i}]")
            found.append(rec)
        if not await self.store.bind_attachments(attachment_ids, message_id):
            raise NotFound("attachment not found", path="$.attachments")
        return found

    async def release(self, attachment_ids: list[str], message_id: str) -> None:
        """The send failed: the files are free again (a crash here leaves them bound to
        a message that never was, which `collect_orphans` takes as unsent)."""
        await self.store.unbind_attachments(attachment_ids, message_id)

    async def of_messages(self, message_ids: list[str]) -> dict[str, list[AttachmentRecord]]:
        return await self.store.attachments_of(message_ids)

    async def for_download(self, user_id: str, attachment_id: str) -> AttachmentRecord:
        rec = await self.store.get_attachment(attachment_id)
        if rec is None or rec.uploaded_at is None:
            raise NotFound("attachment not found")
        if user_id not in await self.conversations.members(rec.conversation_id):
            raise NotFound("attachment not found")
        if rec.message_id is None:
            if rec.uploader_id != user_id:
                raise NotFound("attachment not found")  # not sent yet: only its uploader sees it
        elif not await self.store.sent_with_live_message(rec.id):
            raise NotFound("attachment not found")  # its message was deleted
        return rec

    async def content(self, attachment_id: str) -> tuple[AttachmentRecord, BlobMeta]:
        """The blob behind a signed download URL (checked by the adapter), to stream."""
        rec = await self.store.get_attachment(attachment_id)
        if rec is None or rec.blob_id is None:
            raise NotFound("attachment not found")
        if rec.message_id is not None and not await self.store.sent_with_live_message(rec.id):
            raise NotFound("attachment not found")  # its message was deleted: so is the URL
        return rec, await self.blobs.open(rec.blob_id)

    async def collect_orphans(self, limit: int = 200) -> int:
        """Forget attachments presigned but not sent within `ORPHAN_AFTER_MS`, and
        their bytes; how many went. Safe on every node at once."""
        before = self.clock.now_ms() - ORPHAN_AFTER_MS
        gone = 0
        for rec in await self.store.unsent_before(before, limit):
            if await self.store.delete_unsent(rec.id):
                gone += 1
                if rec.blob_id is not None:
                    await self.blobs.delete(rec.blob_id)
        return gone
