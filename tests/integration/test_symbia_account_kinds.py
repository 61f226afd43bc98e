"""Account kinds user | agent | service | bot (issue #12), over real REST,
`/api/ws` and Socket.IO against a real server.

A service is made by a server admin over REST (`POST /v1/admin/users` with
`kind`), a bot by the operator (`hubbub user create --bot`). What they send
carries `sender_type` service / bot in the stored rows (REST's list), the
send's answer and the `message:new` of the other participants, whatever
the body claims (a claimed `senderType` / `sender_type` is ignored, as for
agents). As participants they are `user_type: agent`, the only automated
value Symbia's OpenAPI allows.
"""

from __future__ import annotations

import secrets
from typing import Any

from tests.integration.symbia import PW, Person, client, group, login, person
from tests.integration.symbia_rt import ApiWs, Sio
from tests.support import ServerProcess

CLAIMS = {"senderType": "user", "sender_type": "user", "userType": "user"}


async def _service_over_rest(server: ServerProcess, admin: Person) -> Person:
    name = "svc" + secrets.token_hex(4)
    email = f"{name}@example.test"
    r = await admin.http.post(
        "/v1/admin/users",
        json={"username": name, "password": PW, "email": email, "kind": "service"},
    )
    assert r.status_code == 201, r.text
    row = r.json()
    assert row["kind"] == "service" and row["is_agent"] is False
    signed = await login(server, email)
    assert signed.status_code == 200, signed.text
    body = signed.json()
    assert body["user"]["type"] == "agent"  # Symbia's user | agent: not a person
    token = body["token"]
    return Person(
        row["user_id"], name, email, token, client(server, Authorization=f"Bearer {token}")
    )


async def test_service_and_bot_send_with_their_kind_on_every_transport(
    server: ServerProcess,
) -> None:
    admin = await person(server, admin=True)
    owner = await person(server)
    service = await _service_over_rest(server, admin)
    bot = await person(server, kind="bot")
    listed = await admin.http.get("/v1/admin/users", params={"q": bot.username})
    [bot_row] = listed.json()["users"]
    assert bot_row["kind"] == "bot" and bot_row["is_agent"] is False

    conv = await group(owner, service, bot)
    cid = conv["id"]
    kinds = {p["user_id"]: p["user_type"] for p in conv["participants"]}
    assert kinds == {owner.user_id: "user", service.user_id: "agent", bot.user_id: "agent"}

    watch = await ApiWs.open(server, query=f"token={owner.token}")
    svc_ws = await ApiWs.open(server, query=f"token={service.token}")
    bot_sio = await Sio.open(server, auth={"token": bot.token})

    # REST: the answer is the account's kind, not the body's claim.
    sent = await service.ok(
        "POST", f"/conversations/{cid}/messages", 201, json={"content": "svc rest", **CLAIMS}
    )
    assert sent["sender_type"] == "service"
    sent = await bot.ok(
        "POST", f"/conversations/{cid}/messages", 201, json={"content": "bot rest", **CLAIMS}
    )
    assert sent["sender_type"] == "bot"
    # The sockets: the ack's row, and the other side's message:new.
    ack = await svc_ws.call("message:send", {"conversationId": cid, "content": "svc ws", **CLAIMS})
    assert ack["success"] is True and ack["message"]["sender_type"] == "service"
    ack = await bot_sio.call(
        "message:send", {"conversationId": cid, "content": "bot sio", **CLAIMS}
    )
    assert ack["success"] is True and ack["message"]["sender_type"] == "bot"
    for content, kind in (
        ("svc rest", "service"),
        ("bot rest", "bot"),
        ("svc ws", "service"),
        ("bot sio", "bot"),
    ):
        event = await watch.event("message:new", content=content)
        assert event["sender_type"] == kind and event["sender_id"] in (service.user_id, bot.user_id)
    # Typing names them as Symbia's `agent` user type.
    assert (await bot_sio.call("typing:start", cid))["success"] is True
    typing = await watch.event("typing:started", userId=bot.user_id)
    assert typing["userType"] == "agent"

    # The stored rows, read back over REST.
    rows = await owner.ok("GET", f"/conversations/{cid}/messages")
    by_content = {m["content"]: m["sender_type"] for m in rows}
    assert by_content == {
        "svc rest": "service",
        "bot rest": "bot",
        "svc ws": "service",
        "bot sio": "bot",
    }
    await watch.close()
    await svc_ws.close()
    await bot_sio.close()
    for p in (admin, owner, service, bot):
        await p.aclose()


async def test_admin_kind_is_validated_and_agent_still_means_agent(server: ServerProcess) -> None:
    admin = await person(server, admin=True)

    async def create(**body: object) -> tuple[int, dict[str, Any]]:
        """The status, and the row (201) or the error (`/v1`'s `{error: {code, path}}`)."""
        name = "k" + secrets.token_hex(5)
        r = await admin.http.post("/v1/admin/users", json={"username": name, **body})
        out: dict[str, Any] = r.json()
        return r.status_code, out if r.status_code == 201 else out["error"]

    status, row = await create(agent=True)  # the older flag: kind agent, no password needed
    assert status == 201 and row["kind"] == "agent" and row["is_agent"] is True
    status, row = await create(kind="bot")  # automated kinds may have no password
    assert status == 201 and row["kind"] == "bot"
    status, row = await create(kind="user")  # a person must have one
    assert status == 422 and row["path"] == "$.password"
    status, row = await create(kind="robot", password=PW)
    assert status == 422 and row["path"] == "$.kind"
    status, row = await create(kind="service", agent=True)  # contradictory
    assert status == 422 and row["path"] == "$.kind"
    await admin.aclose()
