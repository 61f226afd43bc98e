"""Symbia's fast REST send (issue 12) over real HTTP: the answer is built from
what was written, not read back, so it must equal the stored row; the one
read before the commit still enforces every rule (tenant, participation,
the message replied to, the client id's owner); credentials are resolved
once and cached, so a revocation, a deactivation and a read-only key must
still take effect on the very next request."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from tests.integration.symbia import PW, Person, client, group, person
from tests.support import ServerProcess


async def _send(p: Person, cid: str, status: int = 201, **body: Any) -> Any:
    return await p.ok("POST", f"/conversations/{cid}/messages", status, json=body)


async def _v1(p: Person, method: str, path: str, status: int = 200, **kw: Any) -> Any:
    r = await p.http.request(method, path, **kw)
    assert r.status_code == status, f"{method} {path}: {r.status_code} {r.text}"
    return r.json() if r.content else None


async def test_the_answer_is_the_stored_row(server: ServerProcess) -> None:
    owner = await person(server)
    bot = await person(server, agent=True)
    cid = (await group(owner, bot))["id"]
    first = await _send(owner, cid, content="plain")
    run = str(uuid.uuid4())
    sent = [
        first,
        await _send(
            bot,
            cid,
            id=str(uuid.uuid4()),
            content='{"a": 1}',
            contentType="application/json",
            replyTo=first["id"],
            metadata={"k": ["v"]},
            runId=run,
            traceId="t-" + secrets.token_hex(3),
            priority="low",
            interruptible=False,
            preemptedBy=str(uuid.uuid4()),
        ),
        await owner.ok(
            "POST",
            f"/conversations/{cid}/messages",
            201,
            json={"content": "scoped", "contentType": "text/markdown"},
            headers={"X-Data-Class": "pii", "X-Service-Id": "svc.a"},
        ),
        await _send(bot, cid, content="same run", runId=run),
    ]
    listed = {m["id"]: m for m in await owner.ok("GET", f"/conversations/{cid}/messages")}
    for row in sent:
        assert listed[row["id"]] == row
    assert sent[1]["sender_type"] == "agent" and sent[0]["sender_type"] == "user"
    seqs = [m["sequence"] for m in sent]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    for p in (owner, bot):
        await p.aclose()


async def test_the_one_read_still_enforces_every_rule(server: ServerProcess) -> None:
    root = await person(server, admin=True)
    owner, member, outsider = [await person(server) for _ in range(3)]
    org = (await root.ok("POST", "/admin/orgs", 201, json={"name": "t"}))["id"]
    for p in (owner, member):
        await root.ok(
            "POST", f"/admin/orgs/{org}/members", 204, json={"userId": p.user_id, "role": "member"}
        )
    cid = (await group(owner, member, orgId=org))["id"]
    other = (await group(owner))["id"]
    await _send(member, cid, content="in")
    # Not a participant: forbidden; an unknown conversation: not found.
    r = await outsider.call("POST", f"/conversations/{cid}/messages", json={"content": "x"})
    assert r.status_code == 404  # not in the organisation: not even visible
    r = await outsider.call("POST", f"/conversations/{other}/messages", json={"content": "x"})
    assert r.status_code == 403
    r = await member.call("POST", f"/conversations/{uuid.uuid4()}/messages", json={"content": "x"})
    assert r.status_code == 404
    # Removed from the organisation: the very next send is refused like an unknown id.
    await root.ok("DELETE", f"/admin/orgs/{org}/members/{member.user_id}", 204)
    r = await member.call("POST", f"/conversations/{cid}/messages", json={"content": "x"})
    assert r.status_code == 404 and r.json()["error"] == "Conversation not found"

    # The message replied to: of this conversation, not deleted.
    here = await _send(owner, cid, content="here")
    there = await _send(owner, other, content="there")
    for target in (there["id"], str(uuid.uuid4())):
        r = await owner.call(
            "POST", f"/conversations/{cid}/messages", json={"content": "re", "replyTo": target}
        )
        assert r.status_code == 404 and r.json()["path"] == "$.replyTo"
    await owner.ok("DELETE", f"/conversations/{cid}/messages/{here['id']}", 204)
    r = await owner.call(
        "POST", f"/conversations/{cid}/messages", json={"content": "re", "replyTo": here["id"]}
    )
    assert r.status_code == 404 and r.json()["path"] == "$.replyTo"

    # A client id: the message's own id; a retry answers the first; another
    # sender's id is a conflict, even in another conversation.
    mid = str(uuid.uuid4())
    made = await _send(owner, cid, id=mid, content="once")
    assert made["id"] == mid
    assert await _send(owner, cid, id=mid, content="once") == made
    await root.ok(
        "POST", f"/admin/orgs/{org}/members", 204, json={"userId": member.user_id, "role": "member"}
    )
    r = await member.call(
        "POST", f"/conversations/{cid}/messages", json={"id": mid, "content": "x"}
    )
    assert r.status_code == 409 and r.json()["path"] == "$.id"
    listed = await owner.ok("GET", f"/conversations/{cid}/messages")
    assert [m["content"] for m in listed].count("once") == 1
    for p in (root, owner, member, outsider):
        await p.aclose()


async def test_a_send_without_a_read_still_sees_membership_and_deletion(
    server: ServerProcess,
) -> None:
    """After a first send, a conversation's scope is known and its members
    cached: a removal or a deletion must still refuse the very next send."""
    owner, member = await person(server), await person(server)
    cid = (await group(owner, member))["id"]
    for p in (owner, member):
        await _send(p, cid, content="known")
    await owner.ok("DELETE", f"/conversations/{cid}/participants/{member.user_id}", 204)
    r = await member.call("POST", f"/conversations/{cid}/messages", json={"content": "x"})
    assert r.status_code == 403
    await owner.ok("DELETE", f"/conversations/{cid}", 204)
    r = await owner.call("POST", f"/conversations/{cid}/messages", json={"content": "x"})
    assert r.status_code == 404 and r.json()["error"] == "Conversation not found"
    for p in (owner, member):
        await p.aclose()


async def test_revocations_take_effect_on_the_next_request(server: ServerProcess) -> None:
    owner = await person(server)
    cid = (await group(owner))["id"]
    await _send(owner, cid, content="warm")  # the token is cached now
    r = await owner.http.post("/api/auth/logout")
    assert r.status_code == 200, r.text
    r = await owner.call("POST", f"/conversations/{cid}/messages", json={"content": "x"})
    assert r.status_code == 401 and r.json() == {"error": "Authentication required"}

    bot = await person(server)
    cid = (await group(bot))["id"]
    key, ro = [
        (await _v1(bot, "POST", "/v1/api-keys", 201, json={"name": n, "read_only": n == "r"}))[
            "key"
        ]
        for n in ("k", "r")
    ]
    async with (
        client(server, **{"X-API-Key": key}) as with_key,
        client(server, **{"X-API-Key": ro}) as read_only,
    ):
        url = f"/api/conversations/{cid}/messages"
        assert (await with_key.post(url, json={"content": "by key"})).status_code == 201
        # A read-only key, cached by a read, still may not write.
        assert (await read_only.get(url)).status_code == 200
        r = await read_only.post(url, json={"content": "x"})
        assert r.status_code == 403 and "read-only" in r.json()["error"]
        [live] = [k for k in await _v1(bot, "GET", "/v1/api-keys") if k["name"] == "k"]
        await _v1(bot, "DELETE", f"/v1/api-keys/{live['key_id']}", 204)
        r = await with_key.post(url, json={"content": "x"})
        assert r.status_code == 401
        # Deactivation ends the account's session and its remaining key at once.
        assert (await read_only.get(url)).status_code == 200
        assert (await bot.call("GET", f"/conversations/{cid}/messages")).status_code == 200
        await _v1(bot, "POST", "/v1/auth/deactivate", 204, json={"password": PW})
        assert (await read_only.get(url)).status_code == 401
        assert (await bot.call("GET", f"/conversations/{cid}/messages")).status_code == 401
    for p in (owner, bot):
        await p.aclose()
