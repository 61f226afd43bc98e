"""Stream control over real HTTP: every control event with its enforced effect
on the run, who may send them (roles, capabilities), and durability (the
state survives a restart of the node)."""

from __future__ import annotations

import secrets
import uuid
from pathlib import Path
from typing import Any

from tests.integration.operators_support import own_server
from tests.integration.symbia import Person, client, group, person
from tests.support import Client, ServerProcess


def _run() -> str:
    return str(uuid.uuid4())


async def _send(p: Person, cid: str, run: str, status: int = 201, **kw: Any) -> Any:
    r = await p.call(
        "POST",
        f"/conversations/{cid}/messages",
        json={"content": "tok " + secrets.token_hex(2), "runId": run, **kw},
    )
    assert r.status_code == status, r.text
    return r.json()


async def _control(p: Person, cid: str, event: str, run: str, status: int = 201, **kw: Any) -> Any:
    r = await p.call(
        "POST", f"/conversations/{cid}/control", json={"event": event, "runId": run, **kw}
    )
    assert r.status_code == status, (event, r.text)
    return r.json()


async def test_every_control_event_is_enforced(server: ServerProcess) -> None:
    owner, member = await person(server), await person(server)
    agent, agent2 = await person(server, agent=True), await person(server, agent=True)
    root = await person(server, admin=True)
    cid = (await group(owner, member, agent, agent2))["id"]
    run = _run()
    first = await _send(agent, cid, run, priority="normal")
    # pause / resume
    await _control(owner, cid, "stream.pause", run, reason="wait")
    r = await _send(agent, cid, run, 409)
    assert r["code"] == "run_paused"
    await _control(owner, cid, "stream.pause", run, 409)  # already paused
    await _control(owner, cid, "stream.resume", run)
    await _control(owner, cid, "stream.resume", run, 409)
    await _send(agent, cid, run)
    # only the run's owner writes to it
    r = await _send(agent2, cid, run, 403)
    assert r["code"] == "not_run_owner"
    # priority
    await _control(owner, cid, "stream.priority", run, 400)  # no priority given
    await _control(owner, cid, "stream.priority", run, metadata={"priority": "critical"})
    state = await owner.ok("GET", f"/conversations/{cid}/runs/{run}")
    assert state["priority"] == "critical" and state["state"] == "active"
    # route / handoff: the target must be a participant, and takes the run over
    outsider = await person(server)
    await _control(owner, cid, "stream.handoff", run, 400, target={"principalId": outsider.user_id})
    await _control(owner, cid, "stream.route", run, 400)
    ho = await _control(
        owner,
        cid,
        "stream.handoff",
        run,
        target={"principalId": agent2.user_id, "principalType": "agent"},
    )
    assert ho["metadata"]["control"]["target"]["principalId"] == agent2.user_id
    await _send(agent, cid, run, 403)
    await _send(agent2, cid, run)
    # cancel is final
    await _control(owner, cid, "stream.cancel", run)
    r = await _send(agent2, cid, run, 409)
    assert r["code"] == "run_cancelled"
    r = await _control(owner, cid, "stream.resume", run, 409)
    assert r["code"] == "run_cancelled"

    # preempt: refused for a non-interruptible run, final otherwise
    solid, soft, winner = _run(), _run(), _run()
    await _send(agent, cid, solid, interruptible=False)
    r = await _control(owner, cid, "stream.preempt", solid, 409, preemptedBy=winner)
    assert r["code"] == "run_not_interruptible"
    await _send(agent, cid, soft)
    pre = await _control(owner, cid, "stream.preempt", soft, preemptedBy=winner)
    assert pre["preempted_by"] == winner and pre["content_type"] == "event"
    r = await _send(agent, cid, soft, 409)
    assert r["code"] == "run_preempted"
    await _control(owner, cid, "stream.pause", _run(), 404)  # unknown run
    await _control(owner, cid, "stream.pause", "not-a-uuid", 400)

    runs = {r["run_id"]: r for r in await member.ok("GET", f"/conversations/{cid}/runs")}
    assert runs[run]["state"] == "cancelled" and runs[run]["owner_id"] == agent2.user_id
    assert (
        runs[run]["routed_to"] == agent2.user_id and runs[run]["started_at"] == first["created_at"]
    )
    assert runs[soft]["state"] == "preempted" and runs[soft]["preempted_by"] == winner
    assert runs[solid]["state"] == "active" and runs[solid]["interruptible"] is False
    # control events are messages of the conversation, in its sequence
    listed = await member.ok("GET", f"/conversations/{cid}/messages", params={"limit": 200})
    events = [m["content"] for m in listed if m["content_type"] == "event"]
    assert events[:3] == ["stream.pause", "stream.resume", "stream.priority"]
    assert "stream.cancel" in events and "stream.preempt" in events
    seqs = [m["sequence"] for m in listed]
    assert seqs == sorted(seqs)
    await _send(agent, cid, solid)
    assert (await outsider.call("GET", f"/conversations/{cid}/runs")).status_code == 403
    for p in (owner, member, agent, agent2, root, outsider):
        await p.aclose()


async def test_who_may_send_control_events(server: ServerProcess) -> None:
    owner, member = await person(server), await person(server)
    agent = await person(server, agent=True)
    root = await person(server, admin=True)
    cid = (await group(owner, member, agent))["id"]
    run = _run()
    await _send(agent, cid, run)
    r = await _control(member, cid, "stream.pause", run, 403)
    assert r["error"] == "Not authorized to send control events"
    await root.ok(
        "POST",
        "/admin/capabilities",
        204,
        json={"userId": member.user_id, "capability": "messaging.interrupt"},
    )
    await _control(member, cid, "stream.pause", run)
    await _control(member, cid, "stream.resume", run)
    # interrupt does not give route / handoff
    await _control(member, cid, "stream.route", run, 403, target={"principalId": owner.user_id})
    await root.ok(
        "POST",
        "/admin/capabilities",
        204,
        json={"userId": member.user_id, "capability": "messaging.route"},
    )
    await _control(member, cid, "stream.route", run, target={"principalId": owner.user_id})
    assert (
        await root.call("DELETE", f"/admin/capabilities/{member.user_id}/messaging.interrupt")
    ).status_code == 204
    await _control(member, cid, "stream.cancel", run, 403)
    # the capability needs a participant: an outsider with it is still refused
    outsider = await person(server)
    await root.ok(
        "POST",
        "/admin/capabilities",
        204,
        json={"userId": outsider.user_id, "capability": "messaging.interrupt"},
    )
    await _control(outsider, cid, "stream.cancel", run, 403)
    # a conversation admin (by role) may, without any capability
    await root.ok(
        "POST",
        f"/admin/conversations/{cid}/participants",
        201,
        json={"userId": outsider.user_id, "role": "admin"},
    )
    await _control(outsider, cid, "stream.cancel", run)
    assert (
        await member.call(
            "POST",
            "/admin/capabilities",
            json={"userId": member.user_id, "capability": "messaging.route"},
        )
    ).status_code == 403
    for p in (owner, member, agent, root, outsider):
        await p.aclose()


async def test_run_state_survives_a_restart(tmp_path: Path) -> None:
    with own_server(tmp_path, {}) as [node]:
        owner = await person(node)
        agent = await person(node, agent=True)
        cid = (await group(owner, agent))["id"]
        run = _run()
        await _send(agent, cid, run)
        await _control(owner, cid, "stream.pause", run)
        await owner.aclose()
        await agent.aclose()
        node.stop()
        node.start()
        owner.http = client(node, Authorization=f"Bearer {owner.token}")
        agent.http = client(node, Authorization=f"Bearer {agent.token}")
        r = await _send(agent, cid, run, 409)
        assert r["code"] == "run_paused"
        assert (await owner.ok("GET", f"/conversations/{cid}/runs/{run}"))["state"] == "paused"
        await _control(owner, cid, "stream.resume", run)
        await _send(agent, cid, run)
        await owner.aclose()
        await agent.aclose()


async def test_two_nodes_share_runs_and_events(
    tmp_path: Path, pg_url: str, jetstream_url: str
) -> None:
    """A run paused through node 1 refuses the agent on node 0; a `/ws` member
    on node 1 gets the message sent and the control event made on node 0."""
    env = {"HUBBUB_NATS_PREFIX": "hubbub_t_" + secrets.token_hex(4)}
    nodes = [
        ServerProcess(
            tmp_path / f"n{i}",
            database_url=pg_url,
            nats_url=jetstream_url,
            extra_env={**env, "HUBBUB_NODE_ID": f"n{i}"},
        ).start()
        for i in range(2)
    ]
    try:
        n0, n1 = nodes
        owner = await person(n0)
        agent = await person(n0, agent=True)
        cid = (await group(owner, agent))["id"]
        ws = await Client(n1, owner.user_id, owner.token, "d-" + secrets.token_hex(3)).connect()
        run = _run()
        sent = await _send(agent, cid, run)
        [got] = await ws.events("ChatMessageReceived", message_id=sent["id"])
        assert got["data"]["run_id"] == run and got["seq"] == sent["sequence"]
        owner1 = Person(
            owner.user_id,
            owner.username,
            owner.email,
            owner.token,
            client(n1, Authorization=f"Bearer {owner.token}"),
        )
        ctl = await _control(owner1, cid, "stream.pause", run)
        r = await _send(agent, cid, run, 409)
        assert r["code"] == "run_paused"
        await ws.events("StreamControl", message_id=ctl["id"])
        await _control(owner, cid, "stream.resume", run)
        await _send(agent, cid, run)
        await ws.close()
        for p in (owner, owner1, agent):
            await p.aclose()
    finally:
        for n in nodes:
            n.stop()
