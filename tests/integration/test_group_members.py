"""Adding and removing group members over `/v1` (issue #14), seen on `/ws`.

Three people with several devices: the owner adds one by username and
removes another; every member's devices are told live and through
`SyncRequest`; the added one gets the group and its new messages; the
removed one gets nothing after the event that removed them. Refusals:
a member who is no admin, a non-member (the same 404 as an unknown id),
unknown users, a direct chat, bad bodies.

Changing a role (`PATCH .../members/{user_id}`): the owner makes a member
an admin and back, every member's devices are told live and on a resume,
the removed and the never-members are not; the same role writes nothing;
refusals as above plus the owner's own role; Symbia's participants read
the same role; across three nodes every node's member cache follows.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import httpx

from tests.integration.symbia import group, person
from tests.integration.test_cluster import cluster, connect
from tests.integration.test_messaging import close_all, text
from tests.support import Api, Client, ServerProcess, full_resume

__all__ = ["cluster"]  # the three-node fixture, for the cross-node test

User = tuple[str, str, str]


def auth(user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {user[1]}"}


async def add(api: Api, by: User, gid: str, **body: Any) -> httpx.Response:
    return await api.http.post(f"/v1/conversations/{gid}/members", json=body, headers=auth(by))


async def remove(api: Api, by: User, gid: str, uid: str) -> httpx.Response:
    return await api.http.delete(f"/v1/conversations/{gid}/members/{uid}", headers=auth(by))


def error(r: httpx.Response) -> tuple[int, str, str | None]:
    e = r.json()["error"]
    return r.status_code, e["code"], e.get("path")


def of_group(frames: list[dict[str, Any]], gid: str, type_: str) -> list[dict[str, Any]]:
    return [
        f
        for f in frames
        if f.get("type") == type_ and f["data"].get("conversation_id") == gid and "seq" in f
    ]


async def listed(api: Api, user: User) -> set[str]:
    r = await api.http.get("/v1/conversations", headers=auth(user))
    assert r.status_code == 200
    return {c["conversation_id"] for c in r.json()}


async def test_add_by_username_and_remove_reach_every_device(api: Api) -> None:
    alice, bob, carol = await api.user(3)
    a1, a2 = await api.client(alice, "a-phone"), await api.client(alice, "a-laptop")
    b1, b2 = await api.client(bob, "b-phone"), await api.client(bob, "b-laptop")
    c1 = await api.client(carol, "c-phone")
    g = await a1.ok(
        "chat/groups",
        "CreateGroup",
        {"name": "team", "member_ids": [bob[0]], "client_request_id": "g"},
    )
    gid = g["data"]["group_id"]
    await b1.events("GroupCreated", group_id=gid)
    assert gid not in await listed(api, carol)

    r = await add(api, alice, gid, username=carol[2])
    assert r.status_code == 201, r.text
    assert r.json() == {"conversation_id": gid, "user_id": carol[0], "role": "member"}
    for c in (a1, a2, b1, b2, c1):
        [ev] = await c.events("ConversationMemberJoined", conversation_id=gid)
        assert ev["channel"] == "group/membership"
        assert ev["data"]["user_id"] == carol[0] and ev["data"]["added_by"] == alice[0]
        assert ev["data"]["role"] == "member"
    again = await add(api, alice, gid, user_id=carol[0])
    assert again.status_code == 200 and again.json() == r.json()  # nothing changed
    assert gid in await listed(api, carol)
    got = await api.http.get(f"/v1/conversations/{gid}", headers=auth(carol))
    roles = {m["user_id"]: m["role"] for m in got.json()["members"]}
    assert roles == {alice[0]: "owner", bob[0]: "member", carol[0]: "member"}

    hello = await a1.ok("chat/messages/ack", "SendChatMessageWithClientId", text(gid, "hello"))
    for c in (b1, c1):
        await c.events("ChatMessageReceived", message_id=hello["data"]["message_id"])
    c2 = await api.client(carol, "c-laptop")  # a device that was offline for all of it
    feed = await full_resume(c2)
    assert [f["data"]["user_id"] for f in of_group(feed, gid, "ConversationMemberJoined")] == [
        carol[0]
    ]
    assert [f["data"]["content"] for f in of_group(feed, gid, "ChatMessageReceived")] == ["hello"]

    assert (await remove(api, alice, gid, bob[0])).status_code == 204
    for c in (a1, a2, b1, b2, c1, c2):
        [ev] = await c.events("ConversationMemberLeft", conversation_id=gid)
        assert ev["data"]["user_id"] == bob[0] and ev["data"]["removed_by"] == alice[0]
    assert (await remove(api, alice, gid, bob[0])).status_code == 204  # again: nothing
    after = await a1.ok("chat/messages/ack", "SendChatMessageWithClientId", text(gid, "after"))
    await c1.events("ChatMessageReceived", message_id=after["data"]["message_id"])
    # A marker to bob after the group message: once it is in, the group's would be too.
    dm = await api.direct(alice[1], bob[0])
    mark = await a1.ok("chat/messages/ack", "SendChatMessageWithClientId", text(dm, "marker"))
    for c in (b1, b2):
        await c.events("ChatMessageReceived", message_id=mark["data"]["message_id"])
        assert [f["data"]["content"] for f in of_group(c.frames, gid, "ChatMessageReceived")] == [
            "hello"
        ]
    refused = await b1.request("chat/messages/ack", "SendChatMessageWithClientId", text(gid, "x"))
    assert refused["data"]["code"] == "not_found"
    assert gid not in await listed(api, bob)
    gone = await api.http.get(f"/v1/conversations/{gid}", headers=auth(bob))
    assert gone.status_code == 404

    await b2.close()
    b3 = await api.client(bob, "b-laptop")  # reconnects and resumes from the start
    bob_feed = of_group(await full_resume(b3), gid, "ChatMessageReceived")
    assert [f["data"]["content"] for f in bob_feed] == ["hello"]
    alice_feed = await full_resume(a2)
    assert len(of_group(alice_feed, gid, "ConversationMemberJoined")) == 1
    assert len(of_group(alice_feed, gid, "ConversationMemberLeft")) == 1
    assert [f["data"]["content"] for f in of_group(alice_feed, gid, "ChatMessageReceived")] == [
        "hello",
        "after",
    ]
    await close_all(a1, a2, b1, b3, c1, c2)


async def test_refusals_and_roles(api: Api) -> None:
    alice, bob, carol, dave = await api.user(4)
    a1 = await api.client(alice)
    g = await a1.ok(
        "chat/groups",
        "CreateGroup",
        {"name": "team", "member_ids": [bob[0], carol[0]], "client_request_id": "g"},
    )
    gid = g["data"]["group_id"]

    # a member who is no admin
    assert error(await add(api, bob, gid, user_id=dave[0]))[:2] == (403, "forbidden")
    assert error(await remove(api, bob, gid, carol[0]))[:2] == (403, "forbidden")
    # a non-member: the same answer as an id that does not exist
    outsider = await add(api, dave, gid, user_id=dave[0])
    unknown = await add(api, alice, "no-such-conversation", user_id=dave[0])
    assert outsider.status_code == unknown.status_code == 404
    assert outsider.json() == unknown.json()
    assert (await remove(api, dave, gid, bob[0])).json() == (
        await remove(api, alice, "no-such-conversation", bob[0])
    ).json()
    # unknown users, bad bodies
    assert error(await add(api, alice, gid, user_id="nobody")) == (404, "not_found", "$.user_id")
    assert error(await add(api, alice, gid, username="nobody-here")) == (
        404,
        "not_found",
        "$.username",
    )
    assert error(await add(api, alice, gid))[:2] == (422, "validation_failed")
    both = await add(api, alice, gid, user_id=dave[0], username=dave[2])
    assert error(both)[:2] == (422, "validation_failed")
    assert error(await add(api, alice, gid, user_id=dave[0], role="owner"))[:2] == (
        422,
        "validation_failed",
    )
    assert error(await add(api, alice, gid, user_id="x" * 65))[:2] == (422, "validation_failed")
    bad = await api.http.post(f"/v1/conversations/{gid}/members", content=b"{", headers=auth(alice))
    assert bad.status_code == 422
    anon = await api.http.post(f"/v1/conversations/{gid}/members", json={"user_id": dave[0]})
    assert anon.status_code == 401
    # a direct chat never gains members; for a stranger it does not exist
    dm = await api.direct(alice[1], bob[0])
    assert error(await add(api, alice, dm, user_id=carol[0]))[:2] == (422, "validation_failed")
    assert error(await remove(api, alice, dm, bob[0]))[:2] == (422, "validation_failed")
    assert error(await add(api, carol, dm, user_id=carol[0]))[:2] == (404, "not_found")
    # roles: the owner makes an admin; an admin adds and removes members only
    r = await add(api, alice, gid, user_id=dave[0], role="admin")
    assert r.status_code == 201 and r.json()["role"] == "admin"
    eve = await api.register()
    assert error(await add(api, dave, gid, user_id=eve[0], role="admin"))[:2] == (403, "forbidden")
    assert error(await remove(api, dave, gid, alice[0]))[:2] == (403, "forbidden")
    assert error(await add(api, bob, gid, user_id=eve[0]))[:2] == (403, "forbidden")
    assert (await add(api, dave, gid, user_id=eve[0])).status_code == 201
    assert (await remove(api, dave, gid, carol[0])).status_code == 204
    assert (await remove(api, dave, gid, "nobody")).status_code == 204  # not a member: nothing
    assert error(await remove(api, alice, gid, alice[0])) == (422, "validation_failed", "$.user_id")
    # blocking: someone who blocked the adder is as unknown; someone the adder blocked is refused
    frank = await api.register()
    blk = await api.http.put(f"/v1/users/{alice[0]}/block", headers=auth(frank))
    assert blk.status_code in (200, 204)
    assert error(await add(api, alice, gid, user_id=frank[0])) == (404, "not_found", "$.user_id")
    george = await api.register()
    await api.http.put(f"/v1/users/{george[0]}/block", headers=auth(alice))
    assert error(await add(api, alice, gid, user_id=george[0])) == (
        403,
        "forbidden",
        "$.user_id",
    )
    await api.http.put(f"/v1/users/{eve[0]}/block", headers=auth(alice))
    assert (await add(api, alice, gid, user_id=eve[0])).status_code == 200  # already in
    got = await api.http.get(f"/v1/conversations/{gid}", headers=auth(alice))
    roles = {m["user_id"]: m["role"] for m in got.json()["members"]}
    assert roles == {alice[0]: "owner", bob[0]: "member", dave[0]: "admin", eve[0]: "member"}
    feed = await full_resume(a1)
    joined = [f["data"]["user_id"] for f in of_group(feed, gid, "ConversationMemberJoined")]
    assert joined == [dave[0], eve[0]]
    await close_all(a1)


async def test_every_device_of_a_removed_member_is_cut_off_at_once(api: Api) -> None:
    """A removed member whose devices stay connected is cut off at once, for every device."""
    alice, bob = await api.user(2)
    a1 = await api.client(alice)
    bs: list[Client] = [await api.client(bob, f"b{i}") for i in range(3)]
    g = await a1.ok(
        "chat/groups",
        "CreateGroup",
        {"name": "g", "member_ids": [bob[0]], "client_request_id": "g"},
    )
    gid = g["data"]["group_id"]
    await asyncio.gather(*(b.events("GroupCreated", group_id=gid) for b in bs))
    assert (await remove(api, alice, gid, bob[0])).status_code == 204
    await asyncio.gather(*(b.events("ConversationMemberLeft", conversation_id=gid) for b in bs))
    sent = [
        await a1.ok("chat/messages/ack", "SendChatMessageWithClientId", text(gid, f"m{i}"))
        for i in range(5)
    ]
    dm = await api.direct(alice[1], bob[0])
    mark = await a1.ok("chat/messages/ack", "SendChatMessageWithClientId", text(dm, "marker"))
    for b in bs:
        await b.events("ChatMessageReceived", message_id=mark["data"]["message_id"])
        assert not of_group(b.frames, gid, "ChatMessageReceived")
    assert len(sent) == 5
    await close_all(a1, *bs)


async def set_role(api: Api, by: User, gid: str, uid: str, role: Any) -> httpx.Response:
    return await api.http.patch(
        f"/v1/conversations/{gid}/members/{uid}", json={"role": role}, headers=auth(by)
    )


async def roles_of(api: Api, user: User, gid: str) -> dict[str, str]:
    got = await api.http.get(f"/v1/conversations/{gid}", headers=auth(user))
    assert got.status_code == 200, got.text
    return {m["user_id"]: m["role"] for m in got.json()["members"]}


async def test_owner_changes_roles_every_device_is_told(api: Api) -> None:
    alice, bob, carol, dave = await api.user(4)
    a1, a2 = await api.client(alice, "a-phone"), await api.client(alice, "a-laptop")
    b1, b2 = await api.client(bob, "b-phone"), await api.client(bob, "b-laptop")
    c1 = await api.client(carol, "c-phone")
    d1 = await api.client(dave, "d-phone")  # not in the group
    g = await a1.ok(
        "chat/groups",
        "CreateGroup",
        {"name": "team", "member_ids": [bob[0], carol[0]], "client_request_id": "g"},
    )
    gid = g["data"]["group_id"]
    await c1.events("GroupCreated", group_id=gid)

    r = await set_role(api, alice, gid, bob[0], "admin")
    assert r.status_code == 200, r.text
    assert r.json() == {"conversation_id": gid, "user_id": bob[0], "role": "admin"}
    for c in (a1, a2, b1, b2, c1):
        [ev] = await c.events("ConversationMemberRoleChanged", conversation_id=gid)
        assert ev["channel"] == "group/membership"
        assert {k: ev["data"][k] for k in ("user_id", "role", "changed_by")} == {
            "user_id": bob[0],
            "role": "admin",
            "changed_by": alice[0],
        }
    assert (await roles_of(api, carol, gid))[bob[0]] == "admin"
    # the same role again: 200, nothing written, nobody told
    again = await set_role(api, alice, gid, bob[0], "admin")
    assert again.status_code == 200 and again.json() == r.json()
    # the admin now adds members (and, being no owner, changes no roles)
    assert (await add(api, bob, gid, user_id=dave[0])).status_code == 201
    await d1.events("ConversationMemberJoined", conversation_id=gid)
    assert error(await set_role(api, bob, gid, carol[0], "admin"))[:2] == (403, "forbidden")
    assert (await remove(api, bob, gid, dave[0])).status_code == 204
    await d1.events("ConversationMemberLeft", conversation_id=gid)
    # back to member: told again; the removed dave hears nothing of it
    back = await set_role(api, alice, gid, bob[0], "member")
    assert back.status_code == 200 and back.json()["role"] == "member"
    for c in (a1, b1, c1):
        evs = await c.events("ConversationMemberRoleChanged", conversation_id=gid, n=2)
        assert [e["data"]["role"] for e in evs] == ["admin", "member"]
    assert error(await add(api, bob, gid, user_id=dave[0]))[:2] == (403, "forbidden")
    assert await roles_of(api, alice, gid) == {
        alice[0]: "owner",
        bob[0]: "member",
        carol[0]: "member",
    }
    # a marker to dave after the change: once it is in, the change would be too
    dm = await api.direct(alice[1], dave[0])
    mark = await a1.ok("chat/messages/ack", "SendChatMessageWithClientId", text(dm, "marker"))
    await d1.events("ChatMessageReceived", message_id=mark["data"]["message_id"])
    assert not of_group(d1.frames, gid, "ConversationMemberRoleChanged")

    # a device that was offline for all of it gets both changes, once each, in order
    c2 = await api.client(carol, "c-laptop")
    feed = of_group(await full_resume(c2), gid, "ConversationMemberRoleChanged")
    assert [(f["data"]["user_id"], f["data"]["role"]) for f in feed] == [
        (bob[0], "admin"),
        (bob[0], "member"),
    ]
    d2 = await api.client(dave, "d-laptop")
    assert not of_group(await full_resume(d2), gid, "ConversationMemberRoleChanged")
    await close_all(a1, a2, b1, b2, c1, c2, d1, d2)


async def test_role_change_refusals(api: Api) -> None:
    alice, bob, carol, dave = await api.user(4)
    a1 = await api.client(alice)
    g = await a1.ok(
        "chat/groups",
        "CreateGroup",
        {"name": "team", "member_ids": [bob[0], carol[0]], "client_request_id": "g"},
    )
    gid = g["data"]["group_id"]
    # a member who is not the owner, an admin who is not the owner
    assert error(await set_role(api, bob, gid, carol[0], "admin"))[:2] == (403, "forbidden")
    assert (await set_role(api, alice, gid, carol[0], "admin")).status_code == 200
    assert error(await set_role(api, carol, gid, bob[0], "admin"))[:2] == (403, "forbidden")
    assert error(await set_role(api, carol, gid, carol[0], "member"))[:2] == (403, "forbidden")
    # an outsider: the same answer as an id that does not exist
    outsider = await set_role(api, dave, gid, bob[0], "admin")
    unknown = await set_role(api, alice, "no-such-conversation", bob[0], "admin")
    assert outsider.status_code == unknown.status_code == 404
    assert outsider.json() == unknown.json()
    # not a member, or no such user
    assert error(await set_role(api, alice, gid, dave[0], "admin")) == (
        404,
        "not_found",
        "$.user_id",
    )
    assert error(await set_role(api, alice, gid, "nobody", "admin"))[:2] == (404, "not_found")
    # the owner's own role is not changed this way
    for role in ("admin", "member"):
        assert error(await set_role(api, alice, gid, alice[0], role)) == (
            422,
            "validation_failed",
            "$.user_id",
        )
    # bad bodies and ids
    for role in ("owner", "", None, 1):
        assert error(await set_role(api, alice, gid, bob[0], role))[:2] == (
            422,
            "validation_failed",
        )
    assert error(await set_role(api, alice, gid, "x" * 65, "admin"))[:2] == (
        422,
        "validation_failed",
    )
    url = f"/v1/conversations/{gid}/members/{bob[0]}"
    bad = await api.http.patch(url, content=b"{", headers=auth(alice))
    assert bad.status_code == 422
    anon = await api.http.patch(url, json={"role": "admin"})
    assert anon.status_code == 401
    # a direct chat has no roles to change; for a stranger it does not exist
    dm = await api.direct(alice[1], bob[0])
    assert error(await set_role(api, alice, dm, bob[0], "admin"))[:2] == (422, "validation_failed")
    assert error(await set_role(api, carol, dm, bob[0], "admin"))[:2] == (404, "not_found")
    # a removed member is not a member
    assert (await remove(api, alice, gid, bob[0])).status_code == 204
    assert error(await set_role(api, alice, gid, bob[0], "admin"))[:2] == (404, "not_found")
    # nothing above changed a role but carol's
    assert await roles_of(api, alice, gid) == {alice[0]: "owner", carol[0]: "admin"}
    feed = of_group(await full_resume(a1), gid, "ConversationMemberRoleChanged")
    assert [(f["data"]["user_id"], f["data"]["role"]) for f in feed] == [(carol[0], "admin")]
    await close_all(a1)


async def test_symbia_participants_and_ws_see_the_same_role(
    server: ServerProcess, api: Api
) -> None:
    """The member rows are shared: a role changed over `/v1` on a Symbia
    conversation is Symbia's participant `role` at once, and its `/ws`
    members get the event; Symbia's own join keeps the role unchanged."""
    owner, bob = await person(server), await person(server)
    cid = (await group(owner, bob))["id"]
    ws = await Client(server, bob.user_id, bob.token, "b-" + secrets.token_hex(3)).connect()
    r = await owner.http.patch(
        f"/v1/conversations/{cid}/members/{bob.user_id}", json={"role": "admin"}
    )
    assert r.status_code == 200, r.text
    [ev] = await ws.events("ConversationMemberRoleChanged", conversation_id=cid)
    assert ev["data"]["role"] == "admin" and ev["data"]["changed_by"] == owner.user_id
    conv = await bob.ok("GET", f"/conversations/{cid}")
    roles = {p["user_id"]: p["role"] for p in conv["participants"]}
    assert roles == {owner.user_id: "owner", bob.user_id: "admin"}
    # as Symbia's admin bob may now rename it (Symbia's rule reads the same row)
    assert (await bob.call("PATCH", f"/conversations/{cid}", json={"name": "x"})).status_code == 200
    back = await owner.http.patch(
        f"/v1/conversations/{cid}/members/{bob.user_id}", json={"role": "member"}
    )
    assert back.status_code == 200
    await ws.events("ConversationMemberRoleChanged", conversation_id=cid, n=2)
    assert (await bob.call("PATCH", f"/conversations/{cid}", json={"name": "y"})).status_code == 403
    await ws.close()
    for p in (owner, bob):
        await p.aclose()


async def test_role_change_across_nodes(cluster: list[ServerProcess]) -> None:
    """Three nodes on PostgreSQL + NATS: the change is made on one, told to
    devices on the others, and every node's member cache follows it (the new
    admin adds someone through a third node, and is refused there once a member)."""
    n0, n1, n2 = cluster
    api0, api1, api2 = Api(n0), Api(n1), Api(n2)
    alice, bob, carol, dave = await api1.user(4)
    a = await connect(n0, alice, "a")
    b = await connect(n1, bob, "b")
    c = await connect(n2, carol, "c")
    g = await a.ok(
        "chat/groups",
        "CreateGroup",
        {"name": "g", "member_ids": [bob[0], carol[0]], "client_request_id": "g"},
    )
    gid = g["data"]["group_id"]
    for cl in (b, c):
        await cl.events("GroupCreated", group_id=gid)
    # every node reads the group (and caches its members) before the change
    for each in (api0, api1, api2):
        assert error(await add(each, bob, gid, user_id=dave[0]))[:2] == (403, "forbidden")
    assert (await set_role(api1, alice, gid, bob[0], "admin")).status_code == 200
    for cl in (a, b, c):
        await cl.events("ConversationMemberRoleChanged", conversation_id=gid, role="admin")
    assert (await add(api2, bob, gid, user_id=dave[0])).status_code == 201
    assert (await remove(api0, bob, gid, dave[0])).status_code == 204
    assert (await set_role(api0, alice, gid, bob[0], "member")).status_code == 200
    for cl in (a, b, c):
        await cl.events("ConversationMemberRoleChanged", conversation_id=gid, role="member")
    for each in (api0, api1, api2):
        assert error(await add(each, bob, gid, user_id=dave[0]))[:2] == (403, "forbidden")
        assert (await roles_of(each, carol, gid))[bob[0]] == "member"
    await close_all(a, b, c)
    for each in (api0, api1, api2):
        await each.http.aclose()
