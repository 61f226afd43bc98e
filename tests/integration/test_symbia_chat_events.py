"""Spec 004 chat events for Symbia messages: they come from the core relay
like any message (no code of Symbia's), and a message of data class
`secret` or `phi` is relayed without its content."""

from __future__ import annotations

from hubbub.protocols.chatevents.inprocess import InProcessChatEvents
from tests.integration.symbia import group, person
from tests.integration.test_chat_events import InProc, inproc, next_event

__all__ = ["inproc"]


async def test_symbia_messages_are_chat_events(inproc: InProc) -> None:
    sink = inproc.node.chat_events_sink
    assert isinstance(sink, InProcessChatEvents)
    sub = sink.subscribe()
    owner = await person(inproc)  # type: ignore[arg-type]
    bob = await person(inproc)  # type: ignore[arg-type]
    cid = (await group(owner, bob))["id"]
    sent = await owner.ok("POST", f"/conversations/{cid}/messages", 201, json={"content": "hey"})
    ev = await next_event(sub, "personalChatSent", user_id=owner.user_id)
    p = ev.payload
    assert p["message_id"] == sent["id"] and p["target_id"] == cid
    hidden = await owner.ok(
        "POST",
        f"/conversations/{cid}/messages",
        201,
        json={"content": "patient record"},
        headers={"X-Data-Class": "phi"},
    )
    ev2 = await next_event(sub, "personalChatSent", user_id=owner.user_id)
    assert ev2.payload["message_id"] == hidden["id"] and not ev2.payload["payload"]
    await owner.aclose()
    await bob.aclose()
