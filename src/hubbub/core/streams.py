"""Agent runs and stream control: a real, durable state machine.

A run (`run_id`) is a stream of messages from one agent in one conversation.
Its first message starts it (`active`, owned by the sender, with the
message's priority and interruptibility); control events then move it:

    event            from               to          also
    stream.pause     active             paused
    stream.resume    paused             active
    stream.preempt   active | paused    preempted   refused if the run is not
                                                    interruptible; preempted_by kept
    stream.cancel    active | paused    cancelled
    stream.route     active | paused    (same)      the target takes the run over
    stream.handoff   active | paused    (same)      the target takes the run over
    stream.priority  active | paused    (same)      new priority (low..critical)

`preempted` and `cancelled` are final: every later control event on the run
is refused (`run_preempted` / `run_cancelled`, 409). The server enforces
the state on send: a message of a cancelled or preempted run is refused
with that code, a paused run's messages with `run_paused` until it is
resumed (refused, not held: nothing is queued server side), and only the
run's owner (its first sender, or the target of its last route/handoff)
may write to it (`not_run_owner`, 403).

Each transition is decided here (`message_transition`, `control_transition`)
and applied by the store in the writer unit that appends the message or the
control event, against the run's row as of that unit: two racing events
cannot both win, on one node or many.

A control event is itself a message of the conversation (content type
`event`, so it has a `sequence`), announced on `chat/messages` as
`StreamControl` (s_shared.md #4). Who may send one: a participant who is
the conversation's owner or admin, or holds `messaging.interrupt`
(`messaging.route` for route and handoff).
"""

from __future__ import annotations

from dataclasses import replace

from hubbub.core.ports.message_details import RunState, Transition
from hubbub.errors import Conflict, Forbidden, NotFound

__all__ = [
    "EVENTS",
    "PRIORITIES",
    "ROUTING",
    "RunRefused",
    "control_transition",
    "message_transition",
]

EVENTS = (
    "stream.pause",
    "stream.resume",
    "stream.preempt",
    "stream.route",
    "stream.handoff",
    "stream.cancel",
    "stream.priority",
)
ROUTING = ("stream.route", "stream.handoff")
PRIORITIES = ("low", "normal", "high", "critical")
FINAL = ("preempted", "cancelled")


class RunRefused(Conflict):
    """A message or control event the run's state does not allow (409, typed code)."""


def _final(run: RunState) -> RunRefused:
    return RunRefused(f"run is {run.state}", code=f"run_{run.state}")


def message_transition(
    conversation_id: str,
    run_id: str,
    sender_id: str,
    priority: str | None,
    interruptible: bool | None,
    now: int,
) -> Transition:
    """What a message of run `run_id` does to it (or why it is refused)."""

    def decide(run: RunState | None) -> RunState | Exception | None:
        if run is None:
            return RunState(
                conversation_id,
                run_id,
                "active",
                sender_id,
                priority or "normal",
                True if interruptible is None else interruptible,
                None,
                None,
                None,
                None,
                now,
                now,
            )
        if run.state in FINAL:
            return _final(run)
        if run.state == "paused":
            return RunRefused("run is paused until stream.resume", code="run_paused")
        if sender_id != run.owner_id:
            return Forbidden("the run belongs to another participant", code="not_run_owner")
        return replace(
            run,
            priority=priority or run.priority,
            interruptible=run.interruptible if interruptible is None else interruptible,
            updated_at=now,
        )

    return decide


def control_transition(
    event: str,
    target_id: str | None,
    preempted_by: str | None,
    priority: str | None,
    now: int,
) -> Transition:
    """What control `event` does to a run (or why it is refused)."""

    def decide(run: RunState | None) -> RunState | Exception | None:
        if run is None:
            return NotFound("run not found", path="$.runId")
        if run.state in FINAL:
            return _final(run)
        new = replace(run, last_event=event, updated_at=now)
        if event == "stream.pause":
            if run.state != "active":
                return RunRefused("run is not active", code="run_not_active")
            new.state = "paused"
        elif event == "stream.resume":
            if run.state != "paused":
                return RunRefused("run is not paused", code="run_not_paused")
            new.state = "active"
        elif event == "stream.preempt":
            if not run.interruptible:
                return RunRefused("run is not interruptible", code="run_not_interruptible")
            new.state, new.preempted_by = "preempted", preempted_by
        elif event == "stream.cancel":
            new.state = "cancelled"
        elif event in ROUTING:
            assert target_id is not None
            new.owner_id, new.routed_to = target_id, target_id
        elif event == "stream.priority":
            assert priority is not None
            new.priority = priority
        return new

    return decide
