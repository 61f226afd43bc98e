"""Users report messages and users (`moderation/reports`); server admins review them.

A report names something the reporter can see, and nothing else:

    message  a message of a conversation the reporter is a member of (not
             deleted, not expired), sent by someone else
    user     an existing user other than the reporter who has not blocked them

Anything else is `not_found`, the same answer for "not yours" and "does not
exist", so reporting cannot probe for messages or accounts. The reporter may
have blocked the user they report (block and report is the usual pair).

A message report keeps a snapshot: conversation, sender, kind and, for a
plaintext message, its content at report time, so an edit or a deletion
afterwards does not erase the evidence. An end-to-end encrypted message has
no content the server can read: only the reference is stored (docs/protocol.md).

`client_request_id` (hubbub's addition) is the idempotency key: a retry
answers the first report and creates nothing; `SubmitReportAckRequest`
answers the same `ReportSubmitted` later. A reporter has at most
`MAX_PENDING` reports open or under review.

Admins move a report `open -> reviewing -> resolved | dismissed` (or straight
from `open` to a verdict) over REST (`rest/moderation_reports.py`); every
change is audited and is a user-scoped `ReportStatusUpdate` for the reporter:
every device live and in the change feed, nobody else. The reported user is
never told of a report, so never learns who made it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hubbub.clock import Clock, iso
from hubbub.core.admin import Admin
from hubbub.core.audit import Audit
from hubbub.core.context import Caller
from hubbub.core.conversations import Conversations
from hubbub.core.frames import event
from hubbub.core.ports import BlockStore, MessageStore, Report, ReportStore, UserDirectory
from hubbub.core.publisher import Publisher
from hubbub.errors import NotFound, RateLimited, ValidationFailed
from hubbub.ids import new_id, plausible_id

__all__ = [
    "MAX_DETAILS",
    "MAX_NOTE",
    "MAX_PAGE",
    "MAX_PENDING",
    "REASONS",
    "REPORT_TYPES",
    "STATUSES",
    "ModerationReports",
]

REPORT_TYPES = ("message", "user")
REASONS = (
    "spam",
    "abuse",
    "harassment",
    "hate",
    "violence",
    "sexual",
    "self_harm",
    "impersonation",
    "illegal",
    "other",
)
STATUSES = ("open", "reviewing", "resolved", "dismissed")
# Which statuses each status may be reached from: a verdict is final.
_FROM: dict[str, frozenset[str]] = {
    "reviewing": frozenset({"open"}),
    "resolved": frozenset({"open", "reviewing"}),
    "dismissed": frozenset({"open", "reviewing"}),
}
MAX_DETAILS = 2000
MAX_NOTE = 2000
MAX_CLIENT_FIELD = 64  # client_request_id and the client's timestamp
MAX_PENDING = 20
MAX_PAGE = 200

CHANNEL = "moderation/reports"
TYPE = "ReportStatusUpdate"


def submitted(r: Report) -> dict[str, Any]:
    """`ReportSubmitted`'s data."""
    return {"report_id": r.id, "received_at": iso(r.received_at)}


def _bounded(value: str | None, limit: int, field: str) -> str | None:
    if value is not None and len(value) > limit:
        raise ValidationFailed(f"at most {limit} characters", path=f"$.data.{field}")
    return value


class ModerationReports:
    def __init__(
        self,
        store: ReportStore,
        messages: MessageStore,
        conversations: Conversations,
        users: UserDirectory,
        blocks: BlockStore,
        admin: Admin,
        audit: Audit,
        publisher: Publisher,
        clock: Clock,
    ) -> None:
        self.store = store
        self.messages = messages
        self.conversations = conversations
        self.users = users
        self.blocks = blocks
        self.admin = admin
        self.audit = audit
        self.publisher = publisher
        self.clock = clock

    # -- reporters ------------------------------------------------------------------

    async def submit(
        self,
        caller: Caller,
        report_type: str,
        target_id: str,
        reason: str | None,
        details: str | None,
        timestamp: str | None,
        client_request_id: str | None,
    ) -> Report:
        """Validate, check the target is the caller's to see, store (or find the retry)."""
        if report_type not in REPORT_TYPES:
            raise ValidationFailed(
                f"must be one of {', '.join(REPORT_TYPES)}", path="$.data.report_type"
            )
        if reason not in REASONS:
            raise ValidationFailed(f"must be one of {', '.join(REASONS)}", path="$.data.reason")
        _bounded(details, MAX_DETAILS, "details")
        _bounded(timestamp, MAX_CLIENT_FIELD, "timestamp")
        if client_request_id is not None and not 1 <= len(client_request_id) <= MAX_CLIENT_FIELD:
            raise ValidationFailed(
                f"1-{MAX_CLIENT_FIELD} characters", path="$.data.client_request_id"
            )
        me = caller.user_id
        if client_request_id is not None:
            first = await self.store.report_by_request(me, client_request_id)
            if first is not None:
                return first  # a retry: whatever it says now, the first report stands
        now = self.clock.now_ms()
        report = Report(
            new_id(), me, client_request_id, report_type, target_id, reason, details or None,
            timestamp, now, "open", now,
        )  # fmt: skip
        if report_type == "message":
            report = await self._message_snapshot(caller, report)
        else:
            await self._visible_user(caller, target_id)
            report = replace(report, target_user_id=target_id)
        stored = await self.store.add_report(report, MAX_PENDING)
        if stored is None:
            raise RateLimited(f"at most {MAX_PENDING} reports open at a time")
        return stored

    async def _message_snapshot(self, caller: Caller, report: Report) -> Report:
        mid = report.target_id
        msg = await self.messages.get_message(mid) if plausible_id(mid) else None
        now = self.clock.now_ms()
        gone = msg is None or msg.deleted_at is not None
        if gone or (msg is not None and msg.expires_at is not None and msg.expires_at <= now):
            raise NotFound("message not found")
        assert msg is not None
        # Membership is the right to read (history stays readable across a
        # block), not `require_member`, the right to write.
        if caller.user_id not in await self.conversations.members(msg.conversation_id):
            raise NotFound("message not found")
        if msg.sender_id == caller.user_id:
            raise ValidationFailed("you cannot report your own message", path="$.data.target_id")
        content_type, content = None, None
        if msg.kind != "e2e":  # ciphertext is the recipients' to read, not ours
            body = await self.messages.get_body(mid)
            if body is not None:
                content_type, content = body
        return replace(
            report,
            target_user_id=msg.sender_id,
            conversation_id=msg.conversation_id,
            message_kind=msg.kind,
            content_type=content_type,
            content=content,
        )

    async def _visible_user(self, caller: Caller, user_id: str) -> None:
        if user_id == caller.user_id:
            raise ValidationFailed("you cannot report yourself", path="$.data.target_id")
        if not plausible_id(user_id) or not await self.users.existing_users([user_id]):
            raise NotFound("user not found")
        _blocking, blocked_by = await self.blocks.block_relations(caller.user_id, [user_id])
        if blocked_by:
            raise NotFound("user not found")  # who blocked you looks unknown

    async def acknowledge(self, caller: Caller, client_request_id: str) -> Report:
        """The caller's report made with `client_request_id`, else `not_found`."""
        if not 1 <= len(client_request_id) <= MAX_CLIENT_FIELD:
            raise NotFound("report not found")
        report = await self.store.report_by_request(caller.user_id, client_request_id)
        if report is None:
            raise NotFound("report not found")
        return report

    # -- server admins ----------------------------------------------------------------

    async def list(
        self, actor: Caller, status: str | None, after: str | None, limit: int
    ) -> list[Report]:
        await self.admin.require(actor)
        if status is not None and status not in STATUSES:
            raise ValidationFailed(f"must be one of {', '.join(STATUSES)}", path="$.query.status")
        if not 1 <= limit <= MAX_PAGE:
            raise ValidationFailed(f"limit must be 1-{MAX_PAGE}", path="$.query.limit")
        if after is not None and not plausible_id(after):
            raise ValidationFailed("not a report id from next_after", path="$.query.after")
        return await self.store.list_reports(status, after, limit)

    async def get(self, actor: Caller, report_id: str) -> Report:
        await self.admin.require(actor)
        report = await self.store.get_report(report_id) if plausible_id(report_id) else None
        if report is None:
            raise NotFound("report not found")
        return report

    async def set_status(
        self,
        actor: Caller,
        report_id: str,
        status: str,
        note: str | None,
        address: str | None = None,
    ) -> Report:
        """Move a report on; the reporter's devices are told, audited. The same
        status again changes nothing and tells nobody; a verdict is final
        (`conflict`)."""
        await self.admin.require(actor)
        allowed = _FROM.get(status)
        if allowed is None:
            raise ValidationFailed(f"must be one of {', '.join(_FROM)}", path="$.status")
        if note is not None and len(note) > MAX_NOTE:
            raise ValidationFailed(f"at most {MAX_NOTE} characters", path="$.note")
        current = await self.store.get_report(report_id) if plausible_id(report_id) else None
        if current is None:
            raise NotFound("report not found")
        now = self.clock.now_ms()
        data = {"report_id": report_id, "status": status, "updated_at": iso(now)}
        ev = event("u", current.reporter_id, CHANNEL, TYPE, data)
        done = await self.store.set_status(report_id, status, allowed, note, actor.user_id, now, ev)
        if done is None:
            raise NotFound("report not found")
        report, stored = done
        if stored is not None:
            await self.publisher.event(stored, [report.reporter_id])
            await self.audit.record(
                "report.status",
                actor=actor.user_id,
                target=report_id,
                address=address,
                status=status,
                report_type=report.report_type,
            )
        return report
