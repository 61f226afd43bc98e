"""Signed-in devices over REST: list the caller's tokens, revoke one, change the
password. A revoked token is refused on REST and /ws and its live connections
are closed with 4401; only the caller's own tokens can be seen or revoked."""

from __future__ import annotations

import hashlib
import uuid

import httpx

from tests.support import Api, Client

PASSWORD = "correct horse battery"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def login(api: Api, username: str, device: str, password: str = PASSWORD) -> httpx.Response:
    return await api.http.post(
        "/v1/auth/login", json={"username": username, "password": password, "device_id": device}
    )


async def sessions(api: Api, token: str) -> list[dict[str, object]]:
    r = await api.http.get("/v1/auth/tokens", headers=bearer(token))
    assert r.status_code == 200, r.text
    return list(r.json())


async def ws_refused(api: Api, user_id: str, token: str) -> bool:
    c = Client(api.server, user_id, token, "probe")
    await c.connect(wait_ready=False)
    try:
        first = await c.wait_for(lambda f: f.get("type") in ("Error", "Authenticated"))
        return first["type"] == "Error" and (await c.wait_closed())[0] == 4401
    finally:
        await c.close()


async def test_tokens_lists_own_devices_with_opaque_ids(api: Api) -> None:
    _, first, name = await api.register(device_id="phone")
    second = (await login(api, name, "laptop")).json()["token"]
    stranger = await api.register()
    await login(api, stranger[2], "their-phone")

    listed = await sessions(api, second)
    assert [s["device_id"] for s in listed] == ["phone", "laptop"]
    assert [s["current"] for s in listed] == [False, True]
    assert set(listed[0]) == {"token_id", "device_id", "created_at", "last_used_at", "current"}
    ids = [str(s["token_id"]) for s in listed]
    assert len(set(ids)) == 2
    secrets_of = [first, second, *(hashlib.sha256(t.encode()).hexdigest() for t in (first, second))]
    for token_id in ids:
        assert not any(token_id in s or s[:16] in token_id for s in secrets_of)
    for s in listed:
        assert str(s["created_at"]).endswith("Z") and s["last_used_at"] is not None
    # The other token sees the same devices, itself as the current one.
    assert [s["current"] for s in await sessions(api, first)] == [True, False]
    # Nothing of another user.
    assert len(await sessions(api, stranger[1])) == 2


async def test_revoking_a_token_refuses_it_and_closes_its_connections(api: Api) -> None:
    uid, token, name = await api.register(device_id="phone")
    other = (await login(api, name, "laptop")).json()["token"]
    live = await Client(api.server, uid, other, "laptop").connect()
    kept = await Client(api.server, uid, token, "phone").connect()
    try:
        [laptop] = [s for s in await sessions(api, token) if s["device_id"] == "laptop"]
        r = await api.http.delete(f"/v1/auth/tokens/{laptop['token_id']}", headers=bearer(token))
        assert r.status_code == 204 and r.content == b""
        assert (await live.wait_closed())[0] == 4401
        r = await api.http.get("/v1/conversations", headers=bearer(other))
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
        assert await ws_refused(api, uid, other)
        assert [s["device_id"] for s in await sessions(api, token)] == ["phone"]
        # Revoking it again is like revoking an unknown id.
        again = await api.http.delete(
            f"/v1/auth/tokens/{laptop['token_id']}", headers=bearer(token)
        )
        unknown = await api.http.delete(f"/v1/auth/tokens/{uuid.uuid4()}", headers=bearer(token))
        assert again.status_code == unknown.status_code == 404
        assert again.json() == unknown.json()
        assert again.json()["error"]["code"] == "not_found"
        # The caller's own connection was not touched.
        await kept.ok("sync/request", "SyncRequest", {"request_id": "still"})
        assert kept.closed is None
    finally:
        await live.close()
        await kept.close()


async def test_another_users_token_id_is_404_like_a_missing_one(api: Api) -> None:
    me = await api.register()
    them = await api.register()
    [theirs] = await sessions(api, them[1])
    r = await api.http.delete(f"/v1/auth/tokens/{theirs['token_id']}", headers=bearer(me[1]))
    missing = await api.http.delete(f"/v1/auth/tokens/{uuid.uuid4()}", headers=bearer(me[1]))
    assert r.status_code == missing.status_code == 404
    assert r.json() == missing.json()
    # Their token still works.
    assert (await api.http.get("/v1/conversations", headers=bearer(them[1]))).status_code == 200
    for odd in ("x" * 100, "%00", "a%2Fb"):
        r = await api.http.delete(f"/v1/auth/tokens/{odd}", headers=bearer(me[1]))
        assert r.status_code == 404, (odd, r.text)


async def test_revoking_the_current_token_is_a_logout(api: Api) -> None:
    uid, token, _ = await api.register()
    [me] = await sessions(api, token)
    c = await api.client((uid, token, ""))
    try:
        r = await api.http.delete(f"/v1/auth/tokens/{me['token_id']}", headers=bearer(token))
        assert r.status_code == 204
        assert (await c.wait_closed())[0] == 4401
        r = await api.http.get("/v1/auth/tokens", headers=bearer(token))
        assert r.status_code == 401
    finally:
        await c.close()


async def test_password_change_keeps_this_device_and_signs_out_the_others(api: Api) -> None:
    uid, token, name = await api.register(device_id="phone")
    others = [(await login(api, name, f"d{i}")).json()["token"] for i in range(2)]
    conns = [await Client(api.server, uid, t, "other").connect() for t in others]
    here = await Client(api.server, uid, token, "phone").connect()
    new = "a brand new horse"
    try:
        wrong = await api.http.post(
            "/v1/auth/password",
            json={"current_password": "not the password", "new_password": new},
            headers=bearer(token),
        )
        assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "forbidden"
        short = await api.http.post(
            "/v1/auth/password",
            json={"current_password": PASSWORD, "new_password": "short"},
            headers=bearer(token),
        )
        assert short.status_code == 422 and short.json()["error"]["path"] == "$.new_password"
        assert len(await sessions(api, token)) == 3  # refused changes revoked nothing

        r = await api.http.post(
            "/v1/auth/password",
            json={"current_password": PASSWORD, "new_password": new},
            headers=bearer(token),
        )
        assert r.status_code == 204
        assert [(await c.wait_closed())[0] for c in conns] == [4401, 4401]
        for t in others:
            assert (await api.http.get("/v1/conversations", headers=bearer(t))).status_code == 401
        assert [s["device_id"] for s in await sessions(api, token)] == ["phone"]
        await here.ok("sync/request", "SyncRequest", {"request_id": "still"})
        assert (await login(api, name, "x")).status_code == 401
        assert (await login(api, name, "x", password=new)).status_code == 200
    finally:
        for c in (*conns, here):
            await c.close()
