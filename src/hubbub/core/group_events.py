"""Group events: a group's calendar, with RSVPs and per-member reminders.

- `UpsertGroupEvent` without `event_id` creates an event (any member; the
  caller organises it, version 1). With one it updates it: the organizer or
  an owner or admin of the group, with the `expected_version` the client
  last saw; a stale one gets `GroupEventAck{status: "conflict",
  current_version}` and changes nothing. Members get `GroupEventUpdated`.
- `DeleteGroupEvent`: the same people; `expected_version` optional (then the
  version read just before). Members get `GroupEventDeleted` (hubbub-added);
  the event's reminders are cancelled.
- `request_id` of a create, update or delete is an idempotency key (per
  user): the retry gets the first `GroupEventAck` back and writes nothing,
  even when the event has changed or gone since. A conflict is not
  remembered: the client retries it with a fresh version.
- `SetGroupEventRsvp` (`going`, `maybe`, `not_going`): members see
  `GroupEventRsvpUpdated`; the same answer again changes nothing.
- `SetGroupEventReminder`: the caller's own reminder (one per event, a new
  one replaces it) fires `GroupEventReminder` to them at `reminder_time` from
  a durable timer: once across the cluster, after a restart too, and not
  for an event deleted meanwhile or a member who has left.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hubbub.clock import Clock, iso, parse_iso
from hubbub.core.context import Caller
from hubbub.core.conversations import Conversations
from hubbub.core.frames import event
from hubbub.core.model import NewEvent
from hubbub.core.ports import GroupEventRecord, GroupEventStore
from hubbub.core.publisher import Publisher
from hubbub.errors import Forbidden, NotFound, ValidationFailed
from hubbub.ids import new_id

__all__ = ["REMINDER_TIMER", "RSVP_STATUSES", "GroupEvents"]

REMINDER_TIMER = "event_reminder"
RSVP_STATUSES = ("going", "maybe", "not_going")
MAX_AHEAD_MS = 5 * 366 * 24 * 3600 * 1000


def _time(value: str | None, path: str, *, required: bool = False) -> int | None:
    if value is None or value == "":
        if required:
            raise ValidationFailed("required", path=path)
        return None
    try:
        return parse_iso(value)
    except ValueError:
        raise ValidationFailed("not an RFC 3339 time", path=path) from None


def _text(value: str | None, limit: int, path: str, *, required: bool = False) -> str | None:
    if value is not None:
        value = value.strip()
    if required and not value:
        raise ValidationFailed(f"must be 1-{limit} characters", path=path)
    if value is not None and len(value) > limit:
        raise ValidationFailed(f"at most {limit} characters", path=path)
    return value or None


class GroupEvents:
    def __init__(
        self,
        store: GroupEventStore,
        conversations: Conversations,
        publisher: Publisher,
        clock: Clock,
    ) -> None:
        self.store = store
        self.conversations = conversations
        self.publisher = publisher
        self.clock = clock
        self.on_timer_scheduled: list[Any] = []

    async def _group_role(self, caller: Caller, group_id: str) -> str:
        conv = await self.conversations.get_for(caller, group_id) if len(group_id) <= 64 else None
        if conv is None or conv.kind != "group":
            raise NotFound("group not found")
        members = await self.conversations.require_member(caller, group_id)
        return members[caller.user_id]

    async def _editable(self, caller: Caller, event_id: str, group_id: str) -> GroupEventRecord:
        role = await self._group_role(caller, group_id)
        found = await self.store.get_event(event_id) if len(event_id) <= 64 else None
        if found is None or found.group_id != group_id or found.deleted_at is not None:
            raise NotFound("event not found")
        if caller.user_id != found.organizer_id and role not in ("owner", "admin"):
            raise Forbidden("only the organizer or a group admin can change this event")
        return found

    @staticmethod
    def _check_request_id(request_id: str | None) -> str | None:
        if request_id is not None and len(request_id) > 128:
            raise ValidationFailed("at most 128 characters", path="$.data.request_id")
        return f"group_event:{request_id}" if request_id is not None else None

    async def upsert(
        self,
        caller: Caller,
        event_id: str | None,
        group_id: str,
        title: str,
        description: str | None,
        start_time: str,
        end_time: str | None,
        location: str | None,
        expected_version: int | None,
        request_id: str | None,
    ) -> dict[str, Any]:
        key = self._check_request_id(request_id)
        if key is not None and (done := await self.store.request_result(caller.user_id, key)):
            return done
        clean_title = _text(title, 256, "$.data.title", required=True)
        assert clean_title is not None
        start = _time(start_time, "$.data.start_time", required=True)
        assert start is not None
        end = _time(end_time, "$.data.end_time")
        if end is not None and end < start:
            raise ValidationFailed("must not be before start_time", path="$.data.end_time")
        desc = _text(description, 4000, "$.data.description")
        where = _text(location, 512, "$.data.location")
        now = self.clock.now_ms()
        if event_id:
            current = await self._editable(caller, event_id, group_id)
            if expected_version is None:
                raise ValidationFailed(
                    "required to update an event", path="$.data.expected_version"
                )
            record = replace(
                current, title=clean_title, description=desc, start_time=start, end_time=end,
                location=where, updated_at=now,
            )  # fmt: skip
            status = "updated"
        else:
            await self._group_role(caller, group_id)
            record = GroupEventRecord(
                id=new_id(), group_id=group_id, organizer_id=caller.user_id, title=clean_title,
                description=desc, start_time=start, end_time=end, location=where, version=1,
                created_at=now, updated_at=now,
            )  # fmt: skip
            expected_version, status = None, "created"

        def make(rec: GroupEventRecord) -> tuple[dict[str, Any], NewEvent]:
            data = {
                "event_id": rec.id,
                "group_id": rec.group_id,
                "title": rec.title,
                "description": rec.description,
                "start_time": iso(rec.start_time),
                "end_time": iso(rec.end_time) if rec.end_time is not None else None,
                "location": rec.location,
                "organizer_id": rec.organizer_id,
                "updated_at": iso(rec.updated_at),
                "version": rec.version,
            }
            return (
                self._ack(request_id, status, rec.id, rec.version),
                event("c", rec.group_id, "group/events", "GroupEventUpdated", data),
            )

        return await self._write(caller, key, record, expected_version, False, make)

    async def delete(
        self,
        caller: Caller,
        event_id: str,
        group_id: str,
        expected_version: int | None,
        request_id: str | None,
    ) -> dict[str, Any]:
        key = self._check_request_id(request_id)
        if key is not None and (done := await self.store.request_result(caller.user_id, key)):
            return done
        current = await self._editable(caller, event_id, group_id)
        now = self.clock.now_ms()
        version = expected_version if expected_version is not None else current.version

        def make(rec: GroupEventRecord) -> tuple[dict[str, Any], NewEvent]:
            data = {
                "event_id": rec.id,
                "group_id": rec.group_id,
                "deleted_by": caller.user_id,
                "deleted_at": iso(now),
                "version": rec.version,
            }
            return (
                self._ack(request_id, "deleted", rec.id, rec.version),
                event("c", rec.group_id, "group/events", "GroupEventDeleted", data),
            )

        record = replace(current, updated_at=now)
        return await self._write(caller, key, record, version, True, make)

    async def _write(
        self,
        caller: Caller,
        key: str | None,
        record: GroupEventRecord,
        expected_version: int | None,
        delete_it: bool,
        make: Any,
    ) -> dict[str, Any]:
        result = await self.store.write_event(
            caller.user_id, key, record, expected_version, delete_it, make
        )
        if result.stored is not None:
            members = await self.conversations.audience(record.group_id)
            await self.publisher.event(result.stored, members, skip_conn=caller.conn_id)
        return result.reply

    @staticmethod
    def _ack(request_id: str | None, status: str, event_id: str, version: int) -> dict[str, Any]:
        return {
            "request_id": request_id,
            "status": status,
            "event_id": event_id,
            "reason": None,
            "current_version": version,
        }

    async def rsvp(
        self, caller: Caller, event_id: str, group_id: str, status: str
    ) -> dict[str, Any]:
        if status not in RSVP_STATUSES:
            raise ValidationFailed(
                f"status must be one of {', '.join(RSVP_STATUSES)}", path="$.data.status"
            )
        await self._group_role(caller, group_id)
        found = await self.store.get_event(event_id) if len(event_id) <= 64 else None
        if found is None or found.group_id != group_id or found.deleted_at is not None:
            raise NotFound("event not found")
        now = self.clock.now_ms()
        data = {
            "event_id": event_id,
            "group_id": group_id,
            "user_id": caller.user_id,
            "status": status,
            "updated_at": iso(now),
        }
        ev = event("c", group_id, "group/events/rsvp", "GroupEventRsvpUpdated", data)
        stored = await self.store.set_rsvp(event_id, caller.user_id, status, now, ev)
        if stored is not None:
            members = await self.conversations.audience(group_id)
            await self.publisher.event(stored, members, skip_conn=caller.conn_id)
        return {"status": status, "changed": stored is not None}

    async def set_reminder(
        self, caller: Caller, event_id: str, group_id: str, reminder_time: str
    ) -> int:
        at = _time(reminder_time, "$.data.reminder_time", required=True)
        assert at is not None
        now = self.clock.now_ms()
        if not now < at <= now + MAX_AHEAD_MS:
            raise ValidationFailed(
                "must be in the future (and within 5 years)", path="$.data.reminder_time"
            )
        await self._group_role(caller, group_id)
        found = await self.store.get_event(event_id) if len(event_id) <= 64 else None
        if found is None or found.group_id != group_id or found.deleted_at is not None:
            raise NotFound("event not found")
        if not await self.store.set_reminder(event_id, caller.user_id, at, now):
            raise NotFound("event not found")
        for cb in self.on_timer_scheduled:
            cb(at)
        return at

    async def fire_due(self, reminder_id: str) -> bool:
        """The timer's handler: the reminder's event, to its member only."""

        def make(user_id: str, ge: GroupEventRecord, remind_at: int) -> NewEvent:
            data = {
                "event_id": ge.id,
                "group_id": ge.group_id,
                "title": ge.title,
                "start_time": iso(ge.start_time),
                "reminder_time": iso(remind_at),
            }
            return event("u", user_id, "group/events/reminders", "GroupEventReminder", data)

        due = await self.store.fire_reminder(reminder_id, self.clock.now_ms(), make)
        if due is None:
            return False
        await self.publisher.event(due.stored, [due.user_id])
        return True
