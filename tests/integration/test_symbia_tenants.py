"""Symbia tenants and admin routes over real HTTP: organisations isolate
their conversations (members only; an organisation admin administers their
own and no other's), server admins see everything, scope headers are
validated and logged without content."""

from __future__ import annotations

import secrets

from tests.integration.symbia import Person, group, person
from tests.support import ServerProcess, hubbub_cli


async def _org(root: Person, name: str) -> str:
    org = await root.ok("POST", "/admin/orgs", 201, json={"name": name})
    return str(org["id"])


async def _member(root: Person, org: str, p: Person, role: str = "member") -> None:
    await root.ok(
        "POST", f"/admin/orgs/{org}/members", 204, json={"userId": p.user_id, "role": role}
    )


async def test_orgs_isolate_conversations(server: ServerProcess) -> None:
    root = await person(server, admin=True)
    a1, a2, b1, b_admin, a_admin = [await person(server) for _ in range(5)]
    org_a, org_b = await _org(root, "A"), await _org(root, "B")
    for p in (a1, a2):
        await _member(root, org_a, p)
    await _member(root, org_a, a_admin, "admin")
    await _member(root, org_b, b1)
    await _member(root, org_b, b_admin, "admin")

    # Created under org A (body orgId or X-Org-Id): org A members only.
    r = await b1.call("POST", "/conversations", json={"type": "group", "name": "x", "orgId": org_a})
    assert r.status_code == 403 and r.json()["error"] == "Not authorized for this organization"
    conv = await a1.ok(
        "POST",
        "/conversations",
        201,
        json={"type": "group", "name": "a"},
        headers={"X-Org-Id": org_a},
    )
    cid = conv["id"]
    assert conv["org_id"] == org_a
    r = await a1.call(
        "POST",
        "/conversations",
        json={"type": "group", "name": "b", "participants": [{"userId": b1.user_id}]},
        headers={"X-Org-Id": org_a},
    )
    assert r.status_code == 404 and r.json()["path"] == "$.participants[0].userId"
    assert (await a2.ok("POST", f"/conversations/{cid}/join", 201))["user_id"] == a2.user_id
    for path in (f"/conversations/{cid}", f"/conversations/{cid}/messages"):
        r = await b1.call("GET", path)
        assert r.status_code == 404, path
    assert (await b1.call("POST", f"/conversations/{cid}/join")).status_code == 404
    r = await a1.call("POST", f"/conversations/{cid}/participants", json={"userId": b1.user_id})
    assert r.status_code == 404
    assert (await b1.call("GET", "/conversations", params={"orgId": org_a})).status_code == 403
    listed = await a2.ok("GET", "/conversations", params={"orgId": org_a})
    assert [c["id"] for c in listed] == [cid]
    r = await a2.call("GET", "/conversations", headers={"X-Org-Id": org_b})
    assert r.status_code == 403

    # Admin routes: org admin of A sees A's, org admin of B does not.
    detail = await a_admin.ok("GET", f"/admin/conversations/{cid}")
    assert detail["conversation"]["id"] == cid and detail["id"] == cid
    assert (await b_admin.call("GET", f"/admin/conversations/{cid}")).status_code == 404
    r = await b_admin.call("GET", "/admin/conversations", params={"orgId": org_a})
    assert r.status_code == 403
    mine = await b_admin.ok("GET", "/admin/conversations")
    assert cid not in [c["id"] for c in mine["items"]]
    assert cid in [c["id"] for c in (await a_admin.ok("GET", "/admin/conversations"))["items"]]
    assert (await b_admin.call("DELETE", f"/admin/conversations/{cid}")).status_code == 404
    assert (await b_admin.call("GET", "/admin/stats", params={"orgId": org_a})).status_code == 403
    stats = await a_admin.ok("GET", "/admin/stats", params={"orgId": org_a})
    assert stats["totalConversations"] == 1 and stats["uniqueParticipants"] == 2
    assert (await a1.call("GET", "/admin/conversations")).status_code == 403
    # Org management is for server admins only.
    assert (await a_admin.call("POST", "/admin/orgs", json={"name": "C"})).status_code == 403
    # Removing someone from the org hides the org's conversations from them.
    assert (
        await root.call("DELETE", f"/admin/orgs/{org_a}/members/{a2.user_id}")
    ).status_code == 204
    assert (await a2.call("GET", f"/conversations/{cid}")).status_code == 404
    assert cid not in [c["id"] for c in await a2.ok("GET", "/conversations")]
    for p in (root, a1, a2, b1, b_admin, a_admin):
        await p.aclose()


async def test_admin_routes(server: ServerProcess) -> None:
    root = await person(server, admin=True)
    owner, bob, carol = [await person(server) for _ in range(3)]
    cid = (await group(owner, bob))["id"]
    await owner.ok("POST", f"/conversations/{cid}/messages", 201, json={"content": "hello"})
    for method, path in (
        ("GET", "/admin/conversations"),
        ("GET", f"/admin/conversations/{cid}"),
        ("DELETE", f"/admin/conversations/{cid}"),
        ("GET", f"/admin/users/{bob.user_id}/conversations"),
        ("GET", "/admin/stats"),
    ):
        assert (await owner.call(method, path)).status_code == 403, path
    page = await root.ok("GET", "/admin/conversations", params={"limit": 1, "offset": 0})
    assert len(page["items"]) == 1 and page["total"] >= 1 and page["limit"] == 1
    groups = await root.ok("GET", "/admin/conversations", params={"type": "group", "limit": 200})
    assert cid in [c["id"] for c in groups["items"]]
    detail = await root.ok("GET", f"/admin/conversations/{cid}")
    assert [m["content"] for m in detail["recentMessages"]] == ["hello"]
    assert {p["user_id"] for p in detail["participants"]} == {owner.user_id, bob.user_id}
    users = await root.ok("GET", f"/admin/users/{bob.user_id}/conversations")
    assert [c["id"] for c in users] == [cid]
    added = await root.ok(
        "POST",
        f"/admin/conversations/{cid}/participants",
        201,
        json={"userId": carol.user_id, "role": "admin"},
    )
    assert added["role"] == "admin"
    # carol, now an admin of the conversation, may rename it
    await carol.ok("PATCH", f"/conversations/{cid}", json={"description": "by carol"})
    r = await root.call("DELETE", f"/admin/conversations/{cid}/participants/{carol.user_id}")
    assert r.status_code == 204
    r = await root.call("DELETE", f"/admin/conversations/{cid}/participants/{carol.user_id}")
    assert r.status_code == 404
    stats = await root.ok("GET", "/admin/stats")
    assert stats["totalConversations"] >= 1 and stats["totalMessages"] >= 1
    assert stats["activeConversations24h"] >= 1
    assert (await root.call("DELETE", f"/admin/conversations/{cid}")).status_code == 204
    assert (await root.call("GET", f"/admin/conversations/{cid}")).status_code == 404
    assert (await owner.call("GET", f"/conversations/{cid}")).status_code == 404
    for p in (root, owner, bob, carol):
        await p.aclose()


async def test_scope_headers_validated_and_logged_without_content(server: ServerProcess) -> None:
    owner = await person(server)
    cid = (await group(owner))["id"]
    for header, value in (
        ("X-Data-Class", "top-secret"),
        ("X-Env", "qa"),
        ("X-Environment", "qa"),
        ("X-Service-Id", "has space"),
        ("X-Org-Id", "bad org!"),
    ):
        r = await owner.call("GET", "/conversations", headers={header: value})
        assert r.status_code == 400, header
        assert r.json()["path"] == f"$.headers.{header.lower().replace('environment', 'env')}"
    # on every /api route, not only those that store the scope
    for path in (f"/conversations/{cid}", "/admin/stats", "/health", "/auth/session"):
        r = await owner.call("GET", path, headers={"X-Data-Class": "classified"})
        assert r.status_code == 400 and r.json()["path"] == "$.headers.x-data-class", path
    secret = "launch-code-" + secrets.token_hex(8)
    svc = "svc-" + secrets.token_hex(4)
    sent = await owner.ok(
        "POST",
        f"/conversations/{cid}/messages",
        201,
        json={"content": secret},
        headers={
            "X-Data-Class": "secret",
            "X-Service-Id": svc,
            "X-Env": "prod",
            "X-Policy-Ref": "pol/7",
        },
    )
    assert sent["content"] == secret
    log = server.log_path.read_text()
    assert svc in log and '"data_class": "secret"' in log
    assert secret not in log
    await owner.aclose()


async def test_capabilities_by_cli(server: ServerProcess) -> None:
    root = await person(server, admin=True)
    p = await person(server)
    await hubbub_cli(server, "capability", "grant", p.username, "messaging.route")
    assert await root.ok("GET", f"/admin/users/{p.user_id}/capabilities") == ["messaging.route"]
    await hubbub_cli(server, "capability", "revoke", p.username, "messaging.route")
    assert await root.ok("GET", f"/admin/users/{p.user_id}/capabilities") == []
    org = (await hubbub_cli(server, "org", "create", "Acme")).strip()
    await hubbub_cli(server, "org", "add", org, p.username, "--role", "admin")
    s = await p.ok("GET", "/auth/session")
    assert s["user"]["organizations"] == [{"id": org, "role": "admin"}]
    for x in (root, p):
        await x.aclose()
