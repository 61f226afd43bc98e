"""Spec 002's writing socket events on the Symbia core, over real sockets:
python-socketio's AsyncClient and a plain `/api/ws` client, a person and an
agent. What a socket sends is what REST sends (the same core calls): the
rows match the REST list's, retries are idempotent, edits keep their history
and their Symbia fields, and every control event has its enforced effect."""

from __future__ import annotations

import uuid
from typing import Any

from tests.integration.symbia import Person, group, person
from tests.integration.symbia_rt import ApiWs, Sio
from tests.support import ServerProcess


def _run() -> str:
    return str(uuid.uuid4())


async def _rest_row(p: Person, cid: str, mid: str) -> Any:
    listed = await p.ok("GET", f"/conversations/{cid}/messages", params={"limit": 200})
    found = [m for m in listed if m["id"] == mid]
    assert len(found) == 1, found
    return found[0]


def _no_stream_events(*clients: Sio | ApiWs) -> bool:
    return not [n for c in clients for n, _ in c.received if n.startswith("stream.")]


async def test_socket_messages_are_rest_messages(server: ServerProcess) -> None:
    owner, outsider = await person(server), await person(server)
    agent = await person(server, agent=True)
    cid = (await group(owner, agent))["id"]
    s_owner = await Sio.open(server, auth={"token": owner.token})
    w_owner = await ApiWs.open(server, f"token={owner.token}")
    s_agent = await Sio.open(server, auth={"token": agent.token})
    w_agent = await ApiWs.open(server, headers={"Authorization": f"Bearer {agent.token}"})
    s_out = await Sio.open(server, auth={"token": outsider.token})
    assert (await s_agent.call("join:conversation", cid)) == {"success": True}
    assert (await s_out.call("join:conversation", cid))["error"] == "Not a participant"
    assert (await s_out.call("join:conversation", str(uuid.uuid4())))["code"] == "not_found"

    run, client_id = _run(), str(uuid.uuid4())
    body = {
        "conversationId": cid,
        "id": client_id,
        "content": "**v1**",
        "contentType": "text/markdown",
        "runId": run,
        "traceId": "trace-1",
        "priority": "high",
        "interruptible": True,
        "metadata": {"k": [1, 2]},
    }
    ack = await s_agent.call("message:send", body)
    assert ack["success"] is True, ack
    row = ack["message"]
    assert row["id"] == client_id and row["sender_type"] == "agent"
    assert row["content_type"] == "text/markdown" and row["run_id"] == run
    assert row["trace_id"] == "trace-1" and row["priority"] == "high"
    assert row["metadata"] == {"k": [1, 2]}
    # The ack, the REST list and every participant's event carry one row.
    assert await _rest_row(owner, cid, client_id) == row
    assert (await s_owner.event("message:new", id=client_id)) == row
    assert (await w_owner.event("message:new", id=client_id)) == row
    # A retry (over the other transport) answers the first message, writes nothing.
    again = await w_agent.call("message:send", body)
    assert again == {"success": True, "message": row}
    await _rest_row(owner, cid, client_id)
    # A REST message reaches the sockets as the row REST answers.
    posted = await owner.ok(
        "POST",
        f"/conversations/{cid}/messages",
        201,
        json={"content": "plain", "replyTo": row["id"]},
    )
    assert (await s_agent.event("message:new", id=posted["id"])) == posted
    assert (await w_agent.event("message:new", id=posted["id"])) == posted
    # Validation names the frame's field; sender_type is never the client's.
    bad = await s_agent.call("message:send", {**body, "id": None, "contentType": "text/html"})
    assert bad["success"] is False and bad["path"] == "$.data.contentType"
    bad = await s_agent.call("message:send", {"conversationId": cid, "content": 5})
    assert bad["success"] is False and bad["path"] == "$.data.content"
    odd = await s_agent.call(
        "message:send", {"conversationId": cid, "content": "x", "senderType": "bot"}
    )
    assert odd["success"] is True and odd["message"]["sender_type"] == "agent"
    assert (await s_out.call("message:send", {"conversationId": cid, "content": "x"}))[
        "error"
    ] == "Not a participant"

    # Edit: the row keeps its Symbia fields, the history route shows the versions.
    edited = await s_agent.call("message:edit", {"messageId": client_id, "content": "**v2**"})
    assert edited["success"] is True, edited
    upd = await s_owner.event("message:updated", id=client_id)
    assert upd == edited["message"] == await _rest_row(owner, cid, client_id)
    assert (await w_owner.event("message:updated", id=client_id)) == upd
    assert upd["content"] == "**v2**" and upd["updated_at"] is not None
    assert upd["run_id"] == run and upd["content_type"] == "text/markdown"
    assert upd["metadata"] == {"k": [1, 2]} and upd["sequence"] == row["sequence"]
    history = await owner.ok("GET", f"/conversations/{cid}/messages/{client_id}/history")
    assert [v["content"] for v in history["versions"]] == ["**v1**", "**v2**"]
    not_sender = await w_owner.call("message:edit", {"messageId": client_id, "content": "no"})
    assert not_sender["success"] is False
    hidden = await s_out.call("message:edit", {"messageId": client_id, "content": "no"})
    assert hidden["error"] == "Message not found"
    assert (await s_out.call("message:delete", client_id))["error"] == "Message not found"

    # Delete: REST no longer lists it.
    assert (await w_agent.call("message:delete", odd["message"]["id"])) == {"success": True}
    gone = await s_owner.event("message:deleted", id=odd["message"]["id"])
    assert gone == {"id": odd["message"]["id"], "conversationId": cid}
    listed = await owner.ok("GET", f"/conversations/{cid}/messages", params={"limit": 200})
    assert odd["message"]["id"] not in [m["id"] for m in listed]
    assert (await w_agent.call("message:delete", odd["message"]["id"]))["success"] is False
    assert not s_out.seen("message:new") and not s_out.seen("message:updated")
    for c in (s_owner, w_owner, s_agent, w_agent, s_out):
        await c.close()
    for p in (owner, agent, outsider):
        await p.aclose()


async def test_every_control_event_over_sockets(server: ServerProcess) -> None:
    owner, member, outsider = await person(server), await person(server), await person(server)
    agent = await person(server, agent=True)
    root = await person(server, admin=True)
    cid = (await group(owner, member, agent))["id"]
    s_owner = await Sio.open(server, auth={"token": owner.token})
    w_owner = await ApiWs.open(server, f"token={owner.token}")
    s_agent = await Sio.open(server, auth={"token": agent.token})
    w_agent = await ApiWs.open(server, f"token={agent.token}")
    s_member = await Sio.open(server, auth={"token": member.token})
    s_out = await Sio.open(server, auth={"token": outsider.token})
    w_out = await ApiWs.open(server, f"token={outsider.token}")

    async def send(run: str, **kw: Any) -> Any:
        return await s_agent.call(
            "message:send", {"conversationId": cid, "content": "tok", "runId": run, **kw}
        )

    async def control(client: Sio | ApiWs, event: str, run: str, **kw: Any) -> Any:
        return await client.call(
            "control:send", {"conversationId": cid, "event": event, "runId": run, **kw}
        )

    async def heard(event: str, run: str) -> Any:
        """The stream event, by the other participant's Socket.IO and /api/ws clients."""
        got = await s_agent.event(event, runId=run)
        assert (await w_agent.event(event, runId=run)) == got
        assert got["conversationId"] == cid and got["event"] == event
        return got

    run = _run()
    assert (await send(run, priority="normal"))["success"] is True
    # pause: the run's messages are refused with REST's typed error, until resume
    ack = await control(s_owner, "stream.pause", run, reason="wait")
    assert ack["success"] is True, ack
    ctl = ack["control"]
    assert ctl["content_type"] == "event" and ctl["content"] == "stream.pause"
    assert ctl["metadata"]["control"]["reason"] == "wait"
    assert (await heard("stream.pause", run))["reason"] == "wait"
    refused = await send(run)
    assert refused["success"] is False and refused["code"] == "run_paused"
    r = await agent.call(
        "POST", f"/conversations/{cid}/messages", json={"content": "x", "runId": run}
    )
    assert r.status_code == 409 and r.json()["code"] == refused["code"]
    assert (await control(w_owner, "stream.pause", run))["code"] == "run_not_active"
    assert (await control(w_owner, "stream.resume", run))["success"] is True
    await heard("stream.resume", run)
    assert (await send(run))["success"] is True
    # priority
    assert (await control(s_owner, "stream.priority", run))["path"] == "$.data.metadata.priority"
    ack = await control(s_owner, "stream.priority", run, metadata={"priority": "critical"})
    assert ack["success"] is True
    await heard("stream.priority", run)
    state = await owner.ok("GET", f"/conversations/{cid}/runs/{run}")
    assert state["priority"] == "critical" and state["state"] == "active"
    # capability: a plain member may not, until granted messaging.interrupt
    no = await control(s_member, "stream.pause", run)
    assert no == {
        "success": False,
        "error": "Not authorized to send control events",
        "code": "forbidden",
    }
    await root.ok(
        "POST",
        "/admin/capabilities",
        204,
        json={"userId": member.user_id, "capability": "messaging.interrupt"},
    )
    assert (await control(s_member, "stream.pause", run))["success"] is True
    await heard("stream.pause", run)
    assert (await control(s_member, "stream.resume", run))["success"] is True
    # route / handoff: messaging.route needed, and the target must be a participant
    route = {"target": {"principalId": owner.user_id}}
    assert (await control(s_member, "stream.route", run, **route))["code"] == "forbidden"
    away = {"target": {"principalId": outsider.user_id}}
    bad = await control(s_owner, "stream.handoff", run, **away)
    assert bad["success"] is False and bad["path"] == "$.data.target.principalId"
    assert (await control(s_owner, "stream.route", run))["path"] == "$.data.target.principalId"
    ho = await control(
        s_owner,
        "stream.handoff",
        run,
        target={"principalId": member.user_id, "principalType": "user"},
    )
    assert ho["success"] is True
    assert (await heard("stream.handoff", run))["target"]["principalId"] == member.user_id
    assert (await send(run))["code"] == "not_run_owner"
    # cancel is final
    assert (await control(w_owner, "stream.cancel", run))["success"] is True
    await heard("stream.cancel", run)
    cancelled = await s_member.call(
        "message:send", {"conversationId": cid, "content": "x", "runId": run}
    )
    assert cancelled["code"] == "run_cancelled"
    assert (await control(s_owner, "stream.resume", run))["code"] == "run_cancelled"
    # preempt: refused for a non-interruptible run, final otherwise
    solid, soft, winner = _run(), _run(), _run()
    assert (await send(solid, interruptible=False))["success"] is True
    no_pre = await control(s_owner, "stream.preempt", solid, preemptedBy=winner)
    assert no_pre["success"] is False and no_pre["code"] == "run_not_interruptible"
    assert (await send(soft))["success"] is True
    pre = await control(s_owner, "stream.preempt", soft, preemptedBy=winner)
    assert pre["success"] is True and pre["control"]["preempted_by"] == winner
    assert (await heard("stream.preempt", soft))["preemptedBy"] == winner
    assert (await send(soft))["code"] == "run_preempted"
    assert (await control(s_owner, "stream.pause", _run()))["code"] == "not_found"
    assert (await control(s_owner, "stream.nap", run))["path"] == "$.data.event"
    # an outsider can neither control nor hear the runs
    assert (await control(s_out, "stream.cancel", solid))["error"] == "Not a participant"
    runs = {r["run_id"]: r for r in await member.ok("GET", f"/conversations/{cid}/runs")}
    assert runs[run]["state"] == "cancelled" and runs[soft]["state"] == "preempted"
    assert runs[solid]["state"] == "active"
    # The control messages are REST's rows too, in the conversation's sequence.
    assert await _rest_row(owner, cid, pre["control"]["id"]) == pre["control"]
    assert _no_stream_events(s_out, w_out)
    for c in (s_owner, w_owner, s_agent, w_agent, s_member, s_out, w_out):
        await c.close()
    for p in (owner, member, outsider, agent, root):
        await p.aclose()
