"""Symbia messages: content types, sender types, runs, priorities, metadata.

A Symbia message is a core plaintext message (so `/ws` members get it as
`ChatMessageReceived`, the chat-event relay sees it, edits and deletes are
the core's) whose Symbia fields go in a `message_details` row of the same
writer unit, and whose event data carries them as extra keys, present only
when set (s_shared.md #3). Its `sequence` is its stream position.

The client's `id` is an idempotency key: a retry by the same sender returns
the first message and writes nothing; the id becomes the message's own id
when it is a UUID nobody used (else a new id is made). `sender_type` comes
from the account (`agent` for agent accounts, else `user`).

A message with a `runId` is checked and applied against its run's state in
the same unit (`core/streams.py`); control events are messages too.

A send is the hot path of agents and services (issue 12), so it reads as
little as its rules allow: nothing before the commit once the conversation
is known (`_known_scoping`), else one query (`send_context`); the client
id's owner and the run's state are read inside the writer unit; the answer
is built from what was written.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from hubbub.clock import Clock, iso
from hubbub.core.capabilities import INTERRUPT, ROUTE, Capabilities
from hubbub.core.context import Caller
from hubbub.core.conversation_details import ConversationDetails, check_metadata, stricter
from hubbub.core.frames import event
from hubbub.core.messages import MAX_CONTENT, Messages, _origin
from hubbub.core.model import MessageRecord, StoredEvent, account_kind
from hubbub.core.ports import AccountStore
from hubbub.core.ports.conversation_details import Scoping
from hubbub.core.ports.message_details import DetailRow, MessageDetailStore, MessageView, RunState
from hubbub.core.streams import EVENTS, PRIORITIES, ROUTING, control_transition, message_transition
from hubbub.errors import Forbidden, NotFound, ValidationFailed
from hubbub.ids import new_id

__all__ = ["CONTENT_TYPES", "MessageDetails", "core_type"]

CONTENT_TYPES = ("text/plain", "text/markdown", "application/json")
CONTROL_TYPE = "event"
MAX_PAGE = 200
MAX_SCOPES = 100_000


def core_type(content_type: str) -> str:
    """The core `type` of a Symbia content type (text/plain is hubbub's `text`)."""
    return "text" if content_type == "text/plain" else content_type


def _uuid(value: str | None, path: str) -> str | None:
    if value is None:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValidationFailed("must be a UUID", path=path) from None


def _uuid_or_none(value: str | None) -> str | None:
    """A client's UUID in canonical form, None for anything else (checked later)."""
    if value is None:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def _bounded(value: str | None, limit: int, path: str) -> None:
    if value is not None and len(value) > limit:
        raise ValidationFailed(f"at most {limit} characters", path=path)


class MessageDetails:
    def __init__(
        self,
        store: MessageDetailStore,
        messages: Messages,
        details: ConversationDetails,
        capabilities: Capabilities,
        accounts: AccountStore,
        clock: Clock,
    ) -> None:
        self.store = store
        self.messages = messages
        self.details = details
        self.capabilities = capabilities
        self.accounts = accounts
        self.clock = clock
        # Conversation -> its scope, which never changes once it is created.
        self._scopes: dict[str, Scoping] = {}

    async def sender_type(self, user_id: str) -> str:
        """The account's kind (user | agent | service | bot), never the request's."""
        user = await self.accounts.get_user(user_id)
        return user.kind if user is not None else "user"

    async def send(
        self,
        caller: Caller,
        conversation_id: str,
        *,
        content: str,
        content_type: str | None = None,
        client_id: str | None = None,
        reply_to: str | None = None,
        metadata: dict[str, Any] | None = None,
        run_id: str | None = None,
        trace_id: str | None = None,
        priority: str | None = None,
        interruptible: bool | None = None,
        preempted_by: str | None = None,
        scope: Scoping | None = None,
        sender_type: str | None = None,
    ) -> MessageView:
        """`sender_type`: the caller's account kind when the adapter knows it
        already (else it is read). In the common case nothing is read before
        the commit (`_known_scoping`); otherwise one read answers every check:
        the conversation and its tenant, the message replied to
        (`MessageDetailStore.send_context`). Who owns a client id is checked
        in the writer unit."""
        reply_key = _uuid_or_none(reply_to)
        conv_scope = None
        if reply_key is None:
            conv_scope = await self._known_scoping(caller, conversation_id)
        reply_ok = False
        if conv_scope is None:
            ctx = await self.store.send_context(conversation_id, caller.user_id, reply_key)
            if ctx is None:
                raise NotFound("Conversation not found")
            await self.details.role_given(caller, conversation_id, ctx.scoping.org_id, ctx.in_org)
            conv_scope, reply_ok = ctx.scoping, ctx.reply_ok
            if len(self._scopes) >= MAX_SCOPES:
                self._scopes.clear()
            self._scopes[conversation_id] = conv_scope
        # The core's write rule too: a direct conversation frozen by a block.
        await self.details.conversations.require_member(caller, conversation_id)
        if not content:
            raise ValidationFailed("Message content is required", path="$.content")
        if len(content) > MAX_CONTENT:
            raise ValidationFailed(f"at most {MAX_CONTENT} characters", path="$.content")
        ctype = content_type or "text/plain"
        if ctype == CONTROL_TYPE:
            raise ValidationFailed("Use /control for stream events", path="$.contentType")
        if ctype not in CONTENT_TYPES:
            raise ValidationFailed(
                f"must be one of {', '.join(CONTENT_TYPES)}", path="$.contentType"
            )
        if priority is not None and priority not in PRIORITIES:
            raise ValidationFailed(f"must be one of {', '.join(PRIORITIES)}", path="$.priority")
        _bounded(client_id, 128, "$.id")
        _bounded(trace_id, 128, "$.traceId")
        run = _uuid(run_id, "$.runId")
        preempted = _uuid(preempted_by, "$.preemptedBy")
        reply = _uuid(reply_to, "$.replyTo")
        if reply is not None and not reply_ok:
            raise NotFound("message replied to not found", path="$.replyTo")
        meta = check_metadata(metadata, "$.metadata") or "{}"
        now = self.clock.now_ms()
        transition = (
            message_transition(conversation_id, run, caller.user_id, priority, interruptible, now)
            if run is not None
            else None
        )
        return await self._commit(
            caller,
            conv_scope,
            scope,
            conversation_id,
            content,
            ctype,
            client_id,
            reply,
            meta,
            run,
            trace_id,
            priority or "normal",
            True if interruptible is None else interruptible,
            preempted,
            "ChatMessageReceived",
            transition,
            now,
            sender_type=sender_type,
        )

    async def _known_scoping(self, caller: Caller, conversation_id: str) -> Scoping | None:
        """The conversation's scope without a read, when that is safe: it was
        read before (a conversation's scope never changes), it has no tenant
        (whose membership is read on every send), and the caller is in its
        cached member list (dropped on every node by any membership change or
        deletion, see `core/conversations.py`). None: read and check it all."""
        known = self._scopes.get(conversation_id)
        if known is None or known.org_id is not None:
            return None
        if caller.user_id not in await self.details.conversations.members(conversation_id):
            return None  # the full check answers why (not found, not a participant)
        return known

    async def control(
        self,
        caller: Caller,
        conversation_id: str,
        *,
        event_name: str,
        target: dict[str, Any] | None = None,
        reason: str | None = None,
        preempted_by: str | None = None,
        run_id: str | None = None,
        trace_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        priority: str | None = None,
        scope: Scoping | None = None,
        sender_type: str | None = None,
    ) -> MessageView:
        """Commit a control event as a message of the conversation and apply it to its run."""
        if event_name not in EVENTS:
            raise ValidationFailed(f"must be one of {', '.join(EVENTS)}", path="$.event")
        conv, role = await self.details.role_of(caller, conversation_id)
        await self.details.conversations.require_member(caller, conversation_id)
        if role not in ("owner", "admin"):
            needed = ROUTE if event_name in ROUTING else INTERRUPT
            if not await self.capabilities.has(caller.user_id, needed):
                raise Forbidden("Not authorized to send control events")
        run = _uuid(run_id, "$.runId")
        if run is None:
            raise ValidationFailed("runId is required: control events act on a run", path="$.runId")
        preempted = _uuid(preempted_by, "$.preemptedBy")
        _bounded(reason, 1024, "$.reason")
        _bounded(trace_id, 128, "$.traceId")
        target_id: str | None = None
        if target is not None:
            pid = target.get("principalId")
            if pid is not None and (not isinstance(pid, str) or len(pid) > 64):
                raise ValidationFailed("must be a user id", path="$.target.principalId")
            target_id = pid
        if event_name in ROUTING:
            members = await self.details.conversations.members(conversation_id)
            if target_id is None:
                raise ValidationFailed("a target is required", path="$.target.principalId")
            if target_id not in members:
                raise ValidationFailed(
                    "the target must be a participant", path="$.target.principalId"
                )
        if event_name == "stream.priority":
            priority = priority or (metadata or {}).get("priority")
            if priority not in PRIORITIES:
                raise ValidationFailed(
                    f"must be one of {', '.join(PRIORITIES)}", path="$.metadata.priority"
                )
        now = self.clock.now_ms()
        payload = {
            "event": event_name,
            "conversationId": conversation_id,
            "target": target,
            "reason": reason,
            "preemptedBy": preempted,
            "runId": run,
            "traceId": trace_id,
            "effectiveAt": iso(now),
        }
        meta = check_metadata({**(metadata or {}), "control": payload}, "$.metadata") or "{}"
        transition = control_transition(event_name, target_id, preempted, priority, now)
        return await self._commit(
            caller,
            conv.scoping,
            scope,
            conversation_id,
            event_name,
            CONTROL_TYPE,
            None,
            None,
            meta,
            run,
            trace_id,
            "high",
            False,
            preempted,
            "StreamControl",
            transition,
            now,
            control={"event": event_name, "target": target, "reason": reason},
            sender_type=sender_type,
        )

    async def _commit(
        self,
        caller: Caller,
        conv_scope: Scoping,
        scope: Scoping | None,
        conversation_id: str,
        content: str,
        ctype: str,
        client_id: str | None,
        reply: str | None,
        meta: str,
        run: str | None,
        trace_id: str | None,
        priority: str,
        interruptible: bool,
        preempted: str | None,
        event_type: str,
        transition: Any,
        now: int,
        control: dict[str, Any] | None = None,
        *,
        sender_type: str | None = None,
    ) -> MessageView:
        """Write the message (and its run's new state) in one writer unit and
        answer it as written: no read-back of the row just committed."""
        scope = scope or Scoping()
        if sender_type is None:
            sender_type = await self.sender_type(caller.user_id)
        # A client id that is a UUID becomes the message's id, unless a message
        # has it: the sender's own (a retry; the append answers it) -> a new
        # id, anyone else's -> conflict. The writer unit decides.
        candidate = _uuid_or_none(client_id)
        mid = candidate or new_id()
        org_id = conv_scope.org_id or scope.org_id
        details = DetailRow(
            ctype,
            sender_type,
            run,
            trace_id,
            priority,
            interruptible,
            preempted,
            meta,
            org_id,
            stricter(conv_scope.data_class, scope.data_class),
            scope.service_id,
            scope.policy_ref,
        )
        if control is not None:
            data: dict[str, Any] = {
                "conversation_id": conversation_id,
                "message_id": mid,
                **control,
                "preempted_by": preempted,
                "run_id": run,
                "trace_id": trace_id,
                "effective_at": iso(now),
            }
        else:
            data = {
                "message_id": mid,
                "conversation_id": conversation_id,
                "sender_id": caller.user_id,
                "content": content,
                "type": core_type(ctype),
                "timestamp": iso(now),
                "self_destruct": False,
                "expires_at": None,
                "content_type": ctype,
                "sender_type": sender_type,
                "priority": priority,
                "interruptible": interruptible,
            }
            optional = {
                "run_id": run,
                "trace_id": trace_id,
                "preempted_by": preempted,
                "org_id": org_id,
                "reply_to_id": reply,
            }
            data.update({k: v for k, v in optional.items() if v is not None})
            if meta != "{}":
                data["metadata"] = json.loads(meta)

        def record_of(mid: str) -> MessageRecord:
            sender = caller.user_id
            return MessageRecord(
                mid, conversation_id, sender, "text", now, None, None, client_id, False, None
            )

        record = record_of(mid)
        fields: dict[str, object] = {
            "content_type": core_type(ctype),
            "content": content,
            **_origin(caller),
            "reply_to_id": reply,
        }
        ev = event("c", conversation_id, "chat/messages", event_type, data, mid)
        instead = None
        if candidate is not None:
            other = new_id()
            moved = {**data, "message_id": other}
            instead = (
                record_of(other),
                event("c", conversation_id, "chat/messages", event_type, moved, other),
            )

        written: list[StoredEvent] = []

        async def append() -> tuple[MessageRecord, StoredEvent | None]:
            out = await self.store.append_detailed(
                record, fields, ev, details, run, transition, instead=instead
            )
            if isinstance(out, Exception):
                raise out
            if out[1] is not None:
                written.append(out[1])
            return out

        rec = await self.messages.commit_keyed(caller, record, fields, ev, append=append)
        if written and (rec is record or (instead is not None and rec is instead[0])):
            return MessageView(
                rec.id,
                conversation_id,
                caller.user_id,
                content,
                core_type(ctype),
                reply,
                now,
                None,
                None,
                written[0].pos,
                account_kind(sender_type),
                details,
            )
        # A retry (the first message answers it) or a commit this call was unsure of.
        view = await self.store.view(rec.id)
        if view is None:  # deleted at once by someone racing
            raise NotFound("message not found")
        return view

    async def page(
        self,
        caller: Caller,
        conversation_id: str,
        limit: int,
        before: int | None,
        after: int | None,
    ) -> list[MessageView]:
        await self.details.role_of(caller, conversation_id)
        if not 1 <= limit <= MAX_PAGE:
            raise ValidationFailed(f"must be 1-{MAX_PAGE}", path="$.query.limit")
        return await self.store.page(conversation_id, limit, before, after)

    async def recent(self, conversation_id: str, limit: int) -> list[MessageView]:
        return await self.store.page(conversation_id, limit, None, None)

    async def runs(self, caller: Caller, conversation_id: str) -> list[RunState]:
        await self.details.role_of(caller, conversation_id)
        return await self.store.runs(conversation_id)

    async def run(self, caller: Caller, conversation_id: str, run_id: str) -> RunState:
        await self.details.role_of(caller, conversation_id)
        rid = _uuid(run_id, "$.runId")
        found = await self.store.run(conversation_id, rid or "")
        if found is None:
            raise NotFound("run not found")
        return found
