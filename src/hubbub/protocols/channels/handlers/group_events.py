"""`group/events`, `group/events/ack`, `group/events/rsvp`, `group/events/reminders`.

A group's calendar (`core/group_events.py`). Creates, updates and deletes
reply with the spec's `GroupEventAck` on `group/events/ack`; RSVPs and
reminders, which the spec gives no acknowledgement, with `Ack`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hubbub.clock import iso
from hubbub.protocols.channels import schema as s
from hubbub.protocols.channels.handlers.base import Handler, Reply

if TYPE_CHECKING:
    from hubbub.protocols.channels.session import Session

__all__ = ["HANDLERS", "PIPELINED"]


async def upsert_event(ss: Session, m: s.UpsertGroupEvent, _p: dict[str, str]) -> Reply:
    data = await ss.node.group_events.upsert(
        ss.caller,
        m.event_id,
        m.group_id,
        m.title,
        m.description,
        m.start_time,
        m.end_time,
        m.location,
        m.expected_version,
        m.request_id,
    )
    return Reply("group/events/ack", "GroupEventAck", data)


async def delete_event(ss: Session, m: s.DeleteGroupEvent, _p: dict[str, str]) -> Reply:
    data = await ss.node.group_events.delete(
        ss.caller, m.event_id, m.group_id, m.expected_version, m.request_id
    )
    return Reply("group/events/ack", "GroupEventAck", data)


async def set_rsvp(ss: Session, m: s.SetGroupEventRsvp, _p: dict[str, str]) -> Reply:
    data = await ss.node.group_events.rsvp(ss.caller, m.event_id, m.group_id, m.status)
    return Reply("group/events/rsvp", "Ack", {"ids": {"event_id": m.event_id}, **data})


async def set_reminder(ss: Session, m: s.SetGroupEventReminder, _p: dict[str, str]) -> Reply:
    at = await ss.node.group_events.set_reminder(ss.caller, m.event_id, m.group_id, m.reminder_time)
    return Reply(
        "group/events/reminders",
        "Ack",
        {"ids": {"event_id": m.event_id}, "reminder_time": iso(at)},
    )


HANDLERS: dict[tuple[str, str], Handler] = {
    ("group/events", "UpsertGroupEvent"): upsert_event,
    ("group/events/ack", "DeleteGroupEvent"): delete_event,
    ("group/events/rsvp", "SetGroupEventRsvp"): set_rsvp,
    ("group/events/reminders", "SetGroupEventReminder"): set_reminder,
}

PIPELINED: frozenset[tuple[str, str]] = frozenset()
