"""Operators over real HTTP, WebSocket and the CLI: the first account becomes
the admin, registration then needs a token (limited uses, revocable), the
CLI makes users, admins and keys while the server runs, admins deactivate
(connections cut, tokens refused), reactivate and reset passwords, users
deactivate themselves or ask for deletion, and every step lands in the
audit log without a secret."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from tests.integration.operators_support import PW, auth, login, own_server, register
from tests.support import Client, ServerProcess, hubbub_cli


@pytest.fixture(scope="module")
def ops(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    # the default policy (token), throttling off: these tests sign in a lot
    with own_server(tmp_path_factory.mktemp("ops"), {"HUBBUB_REGISTRATION": "token"}) as [srv]:
        yield srv


@pytest.fixture(scope="module")
def closed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with own_server(tmp_path_factory.mktemp("closed"), {"HUBBUB_REGISTRATION": "closed"}) as [srv]:
        yield srv


@pytest.fixture
async def http(ops: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=ops.base_url, timeout=15) as c:
        yield c


@pytest.fixture(scope="module")
def secrets_seen() -> set[str]:
    """Every password and token handed out here: the audit log must hold none."""
    return {PW}


_state: dict[str, Any] = {}


async def admin_token(http: httpx.AsyncClient, seen: set[str]) -> tuple[str, str]:
    """The server's first account (registered without a token: the admin)."""
    if "admin" not in _state:
        r = await register(http, "founder")
        assert r.status_code == 201, r.text
        assert r.json()["is_admin"] is True
        _state["admin"] = (r.json()["user_id"], r.json()["token"])
        seen.add(r.json()["token"])
    return _state["admin"]  # type: ignore[no-any-return]


async def invite(http: httpx.AsyncClient, token: str, **body: Any) -> dict[str, Any]:
    r = await http.post("/v1/admin/registration-tokens", json=body, headers=auth(token))
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def member(http: httpx.AsyncClient, admin: str, seen: set[str]) -> tuple[str, str, str]:
    """A plain user, let in with a single-use registration token."""
    t = await invite(http, admin)
    name = "m" + secrets.token_hex(5)
    r = await register(http, name, registration_token=t["token"])
    assert r.status_code == 201, r.text
    seen |= {t["token"], r.json()["token"]}
    return r.json()["user_id"], r.json()["token"], name


async def test_first_account_is_admin_then_registration_needs_a_token(
    http: httpx.AsyncClient, secrets_seen: set[str]
) -> None:
    _uid, admin = await admin_token(http, secrets_seen)
    r = await register(http)
    assert r.status_code == 403 and r.json()["error"]["path"] == "$.registration_token"
    r = await register(http, registration_token="hbr_made-up")
    assert r.status_code == 403

    t = await invite(http, admin, uses_allowed=2, expires_in_s=3600)
    secrets_seen.add(t["token"])
    assert t["uses"] == 0 and t["uses_allowed"] == 2 and t["expires_at"]
    for _ in range(2):
        r = await register(http, registration_token=t["token"])
        assert r.status_code == 201 and r.json()["is_admin"] is False
        secrets_seen.add(r.json()["token"])
    r = await register(http, registration_token=t["token"])
    assert r.status_code == 403  # used up
    listed = await http.get("/v1/admin/registration-tokens", headers=auth(admin))
    [row] = [x for x in listed.json() if x["token_id"] == t["token_id"]]
    assert row["uses"] == 2 and "token" not in row

    t2 = await invite(http, admin, uses_allowed=None, expires_in_s=3600)
    r = await http.delete(f"/v1/admin/registration-tokens/{t2['token_id']}", headers=auth(admin))
    assert r.status_code == 204
    assert (await register(http, registration_token=t2["token"])).status_code == 403
    again = await http.delete(
        f"/v1/admin/registration-tokens/{t2['token_id']}", headers=auth(admin)
    )
    assert again.status_code == 404
    bad = await http.post(
        "/v1/admin/registration-tokens",
        json={"uses_allowed": None, "expires_in_s": None},
        headers=auth(admin),
    )
    assert bad.status_code == 422 and bad.json()["error"]["path"] == "$.uses_allowed"


async def test_cli_creates_users_admins_keys_and_tokens_while_the_server_runs(
    ops: ServerProcess, http: httpx.AsyncClient, secrets_seen: set[str]
) -> None:
    await admin_token(http, secrets_seen)
    name = "ops" + secrets.token_hex(4)
    uid = await hubbub_cli(ops, "user", "create", name, "--password-stdin", stdin=PW + "\n")
    uid = uid.strip()
    r = await login(http, name)
    assert r.status_code == 200 and r.json()["user_id"] == uid
    token = r.json()["token"]
    secrets_seen.add(token)
    assert (await http.get("/v1/admin/users", headers=auth(token))).status_code == 403

    out = await hubbub_cli(ops, "admin", "grant", name)
    assert "now a server admin" in out
    assert name in await hubbub_cli(ops, "admin", "list")
    page = await http.get("/v1/admin/users", params={"q": name}, headers=auth(token))
    assert page.status_code == 200
    [me] = page.json()["users"]
    assert me["user_id"] == uid and me["is_admin"] is True and me["is_agent"] is False

    await hubbub_cli(ops, "admin", "revoke", name)
    assert name not in await hubbub_cli(ops, "admin", "list")
    assert (await http.get("/v1/admin/users", headers=auth(token))).status_code == 403

    bot = "bot" + secrets.token_hex(4)
    await hubbub_cli(ops, "user", "create", bot, "--agent", "--admin", "--password-stdin", stdin=PW)
    listed = await http.get("/v1/admin/users", params={"q": bot}, headers=auth(_state["admin"][1]))
    [row] = listed.json()["users"]
    assert row["is_agent"] is True and row["is_admin"] is True

    reg = (await hubbub_cli(ops, "registration-token", "create", "--uses", "1")).strip()
    secrets_seen.add(reg)
    r = await register(http, registration_token=reg)
    assert r.status_code == 201, r.text
    secrets_seen.add(r.json()["token"])

    key = (await hubbub_cli(ops, "api-key", "create", name, "--name", "deploy")).strip()
    secrets_seen.add(key)
    me2 = await http.get(f"/v1/users/{uid}", headers={"X-API-Key": key})
    assert me2.status_code == 200 and me2.json()["username"] == name


async def test_admin_creates_users_and_agents_over_rest(
    ops: ServerProcess, http: httpx.AsyncClient, secrets_seen: set[str]
) -> None:
    """`POST /v1/admin/users` is `hubbub user create` over REST: no
    registration token, 201 with the admin row; an agent may have no
    password and then signs in only with an API key."""
    aid, admin = await admin_token(http, secrets_seen)
    name = "made" + secrets.token_hex(4)
    body = {"username": name, "password": PW, "display_name": "Made", "email": f"{name}@x.test"}
    r = await http.post("/v1/admin/users", json=body, headers=auth(admin))
    assert r.status_code == 201, r.text
    row = r.json()
    assert row["username"] == name and row["display_name"] == "Made"
    assert row["is_agent"] is False and row["is_admin"] is False and "token" not in row
    assert (await http.get(f"/v1/admin/users/{row['user_id']}", headers=auth(admin))).json() == row
    signed = await login(http, name)
    assert signed.status_code == 200 and signed.json()["user_id"] == row["user_id"]
    secrets_seen.add(signed.json()["token"])

    bot = "agent" + secrets.token_hex(4)
    r = await http.post(
        "/v1/admin/users", json={"username": bot, "agent": True}, headers=auth(admin)
    )
    assert r.status_code == 201, r.text
    assert r.json()["is_agent"] is True
    bot_id = r.json()["user_id"]
    for guess in (PW, "", "!agent"):
        assert (await login(http, bot, password=guess)).status_code in (401, 422)
    key = (await hubbub_cli(ops, "api-key", "create", bot, "--name", "bot")).strip()
    secrets_seen.add(key)
    me = await http.get(f"/v1/users/{bot_id}", headers={"X-API-Key": key})
    assert me.status_code == 200 and me.json()["username"] == bot

    again = await http.post("/v1/admin/users", json=body, headers=auth(admin))
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    bad: list[tuple[dict[str, Any], str]] = [
        ({"username": "x"}, "$.username"),
        ({"username": "no password" + secrets.token_hex(2)}, "$.username"),
        ({"username": "nopw" + secrets.token_hex(3)}, "$.password"),
        ({"username": "short" + secrets.token_hex(3), "password": "2short"}, "$.password"),
        ({"username": "mail" + secrets.token_hex(3), "password": PW, "email": "no"}, "$.email"),
    ]
    for payload, path in bad:
        r = await http.post("/v1/admin/users", json=payload, headers=auth(admin))
        assert r.status_code == 422, (payload, r.text)
        assert r.json()["error"]["path"] == path, (payload, r.text)
    wrong_type = await http.post(
        "/v1/admin/users", json={"username": name, "agent": "maybe"}, headers=auth(admin)
    )
    assert wrong_type.status_code == 422 and "agent" in wrong_type.json()["error"]["path"]

    _uid, plain, _ = await member(http, admin, secrets_seen)
    refused = await http.post(
        "/v1/admin/users",
        json={"username": "sneaky" + secrets.token_hex(3), "agent": True},
        headers=auth(plain),
    )
    assert refused.status_code == 403
    listed = await http.get("/v1/admin/users", params={"q": "sneaky"}, headers=auth(admin))
    assert listed.json()["users"] == []

    audit = await http.get(
        "/v1/admin/audit", params={"action": "user.create", "actor_id": aid}, headers=auth(admin)
    )
    made = {e["target_id"]: e for e in audit.json()["entries"]}
    assert made[row["user_id"]]["detail"] == {
        "via": "rest",
        "admin": False,
        "agent": False,
        "kind": "user",
    }
    assert made[bot_id]["detail"]["agent"] is True and made[bot_id]["address"] == "127.0.0.1"
    assert made[bot_id]["detail"]["kind"] == "agent"
    assert PW not in json.dumps(audit.json())


async def test_admin_deactivates_everywhere_then_reactivates(
    ops: ServerProcess, http: httpx.AsyncClient, secrets_seen: set[str]
) -> None:
    _aid, admin = await admin_token(http, secrets_seen)
    uid, token, name = await member(http, admin, secrets_seen)
    second = (await login(http, name, device_id="phone")).json()["token"]
    secrets_seen.add(second)
    made = await http.post("/v1/api-keys", json={"name": "cron"}, headers=auth(token))
    key = made.json()["key"]
    secrets_seen.add(key)
    ws1 = await Client(ops, uid, token, "laptop").connect()
    ws2 = await Client(ops, uid, second, "phone").connect()

    r = await http.post(f"/v1/admin/users/{uid}/deactivate", headers=auth(admin))
    assert r.status_code == 200 and r.json()["deactivated_at"]
    for ws in (ws1, ws2):
        code, _reason = await ws.wait_closed()
        assert code == 4401
    assert (await http.get("/v1/conversations", headers=auth(token))).status_code == 401
    assert (await http.get("/v1/conversations", headers={"X-API-Key": key})).status_code == 401
    r = await login(http, name)
    assert r.status_code == 403 and "deactivated" in r.json()["error"]["message"]
    assert (await login(http, name, password="wrong password!")).status_code == 401
    refused = Client(ops, uid, token, "again")
    await refused.connect(wait_ready=False)
    assert (await refused.wait_closed())[0] == 4401

    r = await http.post(f"/v1/admin/users/{uid}/reactivate", headers=auth(admin))
    assert r.status_code == 200 and r.json()["deactivated_at"] is None
    assert (await http.get("/v1/conversations", headers=auth(token))).status_code == 401
    r = await login(http, name)
    assert r.status_code == 200
    secrets_seen.add(r.json()["token"])

    # a password reset signs every session out; the new password works
    ws3 = await Client(ops, uid, r.json()["token"], "tablet").connect()
    new_pw = "a brand new passphrase"
    secrets_seen.add(new_pw)
    r = await http.post(
        f"/v1/admin/users/{uid}/password", json={"new_password": new_pw}, headers=auth(admin)
    )
    assert r.status_code == 204
    assert (await ws3.wait_closed())[0] == 4401
    assert (await login(http, name)).status_code == 401
    assert (await login(http, name, password=new_pw)).status_code == 200

    # grant and revoke admin over REST; unknown ids are 404
    r = await http.put(f"/v1/admin/users/{uid}/admin", headers=auth(admin))
    assert r.status_code == 200 and r.json()["is_admin"] is True
    r = await http.delete(f"/v1/admin/users/{uid}/admin", headers=auth(admin))
    assert r.status_code == 200 and r.json()["is_admin"] is False
    for path in ("/v1/admin/users/{}", "/v1/admin/users/{}/deactivate"):
        method = "GET" if path.endswith("}") else "POST"
        missing = await http.request(method, path.format(secrets.token_hex(8)), headers=auth(admin))
        assert missing.status_code == 404


async def test_users_page_through_and_find(http: httpx.AsyncClient, secrets_seen: set[str]) -> None:
    _aid, admin = await admin_token(http, secrets_seen)
    for _ in range(3):
        await member(http, admin, secrets_seen)
    seen: list[str] = []
    after: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"after": after} if after else {})}
        page = (await http.get("/v1/admin/users", params=params, headers=auth(admin))).json()
        seen += [u["username"] for u in page["users"]]
        after = page["next_after"]
        if after is None:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen)) >= 4
    r = await http.get("/v1/admin/users", params={"limit": 0}, headers=auth(admin))
    assert r.status_code == 422


async def test_self_deactivation_and_deletion_request(
    ops: ServerProcess, http: httpx.AsyncClient, secrets_seen: set[str]
) -> None:
    _aid, admin = await admin_token(http, secrets_seen)
    uid, token, name = await member(http, admin, secrets_seen)
    ws = await Client(ops, uid, token, "d").connect()
    r = await http.post(
        "/v1/auth/deactivate", json={"password": "not it at all"}, headers=auth(token)
    )
    assert r.status_code == 403
    r = await http.post("/v1/auth/deactivate", json={"password": PW}, headers=auth(token))
    assert r.status_code == 204
    assert (await ws.wait_closed())[0] == 4401
    assert (await login(http, name)).status_code == 403

    uid2, token2, name2 = await member(http, admin, secrets_seen)
    r = await http.post("/v1/auth/deletion-request", json={"password": PW}, headers=auth(token2))
    assert r.status_code == 204
    row = (await http.get(f"/v1/admin/users/{uid2}", headers=auth(admin))).json()
    assert row["deletion_requested_at"] and row["deactivated_at"]
    assert row["username"] == name2 and row["display_name"] == "" and row["email"] is None
    r = await http.post(f"/v1/admin/users/{uid2}/reactivate", headers=auth(admin))
    assert r.status_code == 403
    assert (await login(http, name2)).status_code == 401  # the password is gone too


async def test_closed_registration_and_operator_accounts(closed: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=closed.base_url, timeout=15) as http:
        r = await register(http)
        assert r.status_code == 403 and "closed" in r.json()["error"]["message"]
        name = "root" + secrets.token_hex(3)
        await hubbub_cli(closed, "user", "create", name, "--admin", "--password-stdin", stdin=PW)
        r = await login(http, name)
        assert r.status_code == 200
        users = await http.get("/v1/admin/users", headers=auth(r.json()["token"]))
        assert [u["username"] for u in users.json()["users"]] == [name]


async def test_audit_log_records_every_step_and_no_secret(
    http: httpx.AsyncClient, secrets_seen: set[str]
) -> None:
    aid, admin = await admin_token(http, secrets_seen)
    uid, _token, name = await member(http, admin, secrets_seen)
    assert (await login(http, name, password="a wrong guess")).status_code == 401
    secrets_seen.add("a wrong guess")
    # a client's own X-Forwarded-For is not believed without --trusted-proxies
    spoofed = {**auth(admin), "X-Forwarded-For": "203.0.113.66"}
    await http.post(f"/v1/admin/users/{uid}/deactivate", headers=spoofed)

    entries: list[dict[str, Any]] = []
    before: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 7, **({"before": before} if before else {})}
        r = await http.get("/v1/admin/audit", params=params, headers=auth(admin))
        assert r.status_code == 200, r.text
        entries += r.json()["entries"]
        before = r.json()["next_before"]
        if before is None:
            break
    stamps = [(e["at"], e["id"]) for e in entries]
    assert stamps == sorted(stamps, reverse=True) and len(set(stamps)) == len(stamps)
    mine = [e for e in entries if e["target_id"] == uid]
    actions = {e["action"] for e in mine}
    assert {"register", "signin.failure", "user.deactivate"} <= actions
    [deact] = [e for e in mine if e["action"] == "user.deactivate"]
    assert deact["actor_id"] == aid and deact["address"] == "127.0.0.1"
    dump = json.dumps(entries)
    assert not [s for s in secrets_seen if s in dump]

    only = await http.get(
        "/v1/admin/audit",
        params={"action": "user.deactivate", "target_id": uid},
        headers=auth(admin),
    )
    assert [e["id"] for e in only.json()["entries"]] == [deact["id"]]
    since = await http.get(
        "/v1/admin/audit", params={"since": deact["at"], "actor_id": aid}, headers=auth(admin)
    )
    assert all(e["at"] >= deact["at"] and e["actor_id"] == aid for e in since.json()["entries"])
    for bad in ({"action": "nope"}, {"since": "yesterday"}, {"before": "x"}):
        r = await http.get("/v1/admin/audit", params=bad, headers=auth(admin))
        assert r.status_code == 422, bad


async def test_deactivated_user_is_cut_off_on_every_node(
    tmp_path_factory: pytest.TempPathFactory, pg_url: str, jetstream_url: str
) -> None:
    env = {"HUBBUB_NATS_PREFIX": "hubbub_t_" + secrets.token_hex(4)}
    base = tmp_path_factory.mktemp("cut")
    nodes = [
        ServerProcess(
            base / f"n{i}", database_url=pg_url, nats_url=jetstream_url,
            extra_env={**env, "HUBBUB_NODE_ID": f"n{i}"},
        ).start()
        for i in range(2)
    ]  # fmt: skip
    try:
        a = httpx.AsyncClient(base_url=nodes[0].base_url, timeout=15)
        b = httpx.AsyncClient(base_url=nodes[1].base_url, timeout=15)
        boss = "boss" + secrets.token_hex(4)
        await hubbub_cli(nodes[0], "user", "create", boss, "--admin", "--password-stdin", stdin=PW)
        admin = (await login(b, boss)).json()["token"]
        r = await register(a)
        uid, token = r.json()["user_id"], r.json()["token"]
        c0 = await Client(nodes[0], uid, token, "on-n0").connect()
        c1 = await Client(nodes[1], uid, token, "on-n1").connect()
        r = await b.post(f"/v1/admin/users/{uid}/deactivate", headers=auth(admin))
        assert r.status_code == 200
        assert (await c0.wait_closed())[0] == 4401
        assert (await c1.wait_closed())[0] == 4401
        for http in (a, b):
            assert (await http.get("/v1/conversations", headers=auth(token))).status_code == 401
        await a.aclose()
        await b.aclose()
    finally:
        for s in nodes:
            s.stop()
