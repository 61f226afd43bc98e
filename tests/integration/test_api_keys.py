"""API keys over real HTTP and WebSocket: shown once, listed without the key,
usable as `X-API-Key` on REST and /ws, read-only keys only read, a key
cannot manage credentials, and revoking a key closes its open connection."""

from __future__ import annotations

import asyncio
import secrets

import pytest
from websockets.asyncio.client import connect

from tests.integration.operators_support import auth
from tests.support import Api, Client, ServerProcess


async def new_key(api: Api, token: str, **body: object) -> dict[str, object]:
    r = await api.http.post("/v1/api-keys", json={"name": "bot", **body}, headers=auth(token))
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def key_client(server: ServerProcess, uid: str, key: str) -> Client:
    """A /ws client authenticated by `X-API-Key` (no bearer)."""
    c = Client(server, uid, "", "bot-" + secrets.token_hex(3))
    c.ws = await connect(server.ws_url, additional_headers={"X-API-Key": key})
    c._reader = asyncio.create_task(c._read())
    await c.wait_for(lambda f: f.get("type") == "Authenticated")
    return c


async def test_api_key_lifecycle_on_rest_and_ws(api: Api, server: ServerProcess) -> None:
    (uid, token, _), (other, _t, _n) = await api.user(2)
    made = await new_key(api, token, name="deploy bot")
    key = str(made["key"])
    assert key.startswith("hbk_") and made["read_only"] is False
    listed = (await api.http.get("/v1/api-keys", headers=auth(token))).json()
    assert [k["key_id"] for k in listed] == [made["key_id"]]
    assert key not in str(listed) and listed[0]["name"] == "deploy bot"

    # REST as the key's owner, writes included
    me = await api.http.get(f"/v1/users/{uid}", headers={"X-API-Key": key})
    assert me.status_code == 200 and me.json()["user_id"] == uid
    dm = await api.http.post(
        "/v1/conversations/direct", json={"user_id": other}, headers={"X-API-Key": key}
    )
    assert dm.status_code in (200, 201)

    # its first use is recorded (in the background: wait for it)
    async def last_used() -> object:
        while True:
            [k] = (await api.http.get("/v1/api-keys", headers=auth(token))).json()
            if k["last_used_at"] is not None:
                return k["last_used_at"]
            await asyncio.sleep(0.05)

    assert await asyncio.wait_for(last_used(), 10) >= made["created_at"]  # type: ignore[operator]
    # a key cannot manage credentials
    for method, path in (
        ("GET", "/v1/api-keys"),
        ("GET", "/v1/auth/tokens"),
        ("GET", "/v1/auth/2fa"),
    ):
        r = await api.http.request(method, path, headers={"X-API-Key": key})
        assert r.status_code == 403, path
    bad = await api.http.get(f"/v1/users/{uid}", headers={"X-API-Key": "hbk_" + "x" * 43})
    assert bad.status_code == 401

    # /ws with the key, then revoked while open: closed on the spot
    c = await key_client(server, uid, key)
    reply = await c.ok(
        "chat/messages/ack",
        "SendChatMessageWithClientId",
        {
            "client_message_id": "k1",
            "conversation_id": dm.json()["conversation_id"],
            "content": "hi",
        },
    )
    assert reply["type"] == "ChatMessageAccepted" or reply["data"]
    r = await api.http.delete(f"/v1/api-keys/{made['key_id']}", headers=auth(token))
    assert r.status_code == 204
    code, _ = await c.wait_closed()
    assert code == 4401
    assert (await api.http.get(f"/v1/users/{uid}", headers={"X-API-Key": key})).status_code == 401
    assert (await api.http.get("/v1/api-keys", headers=auth(token))).json() == []
    # someone else's key id is a 404 like an unknown one
    other_key = await new_key(api, _t)
    r = await api.http.delete(f"/v1/api-keys/{other_key['key_id']}", headers=auth(token))
    r2 = await api.http.delete(f"/v1/api-keys/{secrets.token_hex(8)}", headers=auth(token))
    assert (r.status_code, r.json()) == (r2.status_code, r2.json()) and r.status_code == 404


async def test_read_only_key_only_reads(api: Api, server: ServerProcess) -> None:
    (uid, token, _), (other, _t, _n) = await api.user(2)
    cid = await api.direct(token, other)
    made = await new_key(api, token, read_only=True)
    key = str(made["key"])
    h = {"X-API-Key": key}
    assert (await api.http.get("/v1/conversations", headers=h)).status_code == 200
    w = await api.http.post("/v1/conversations/direct", json={"user_id": other}, headers=h)
    assert w.status_code == 403
    c = await key_client(server, uid, key)
    try:
        sync = await c.ok("sync/request", "SyncRequest", {"request_id": "s", "since_sequence": 0})
        assert sync["type"] != "Error"
        refused = await c.request(
            "chat/messages/ack",
            "SendChatMessageWithClientId",
            {"client_message_id": "ro", "conversation_id": cid, "content": "no"},
        )
        assert refused["type"] == "Error" and refused["data"]["code"] == "forbidden"
    finally:
        await c.close()


@pytest.mark.parametrize("name", ["", "x" * 65, "tab\there"])
async def test_key_names_are_validated(api: Api, name: str) -> None:
    ((_uid, token, _),) = await api.user(1)
    r = await api.http.post("/v1/api-keys", json={"name": name}, headers=auth(token))
    assert r.status_code == 422 and r.json()["error"]["path"] == "$.name"


async def test_api_key_in_the_authenticate_frame(api: Api, server: ServerProcess) -> None:
    """Browsers set no headers on a WebSocket: the key may come as the token."""
    ((uid, token, _),) = await api.user(1)
    key = str((await new_key(api, token))["key"])
    c = Client(server, uid, key, "browser")
    await c.connect(header_auth=False)
    await c.send_raw('{"id":"a1","type":"Authenticate","data":{"token":"' + key + '"}}')
    hello = await c.wait_for(lambda f: f.get("type") == "Authenticated")
    assert hello["data"]["user_id"] == uid and hello.get("ref") == "a1"
    await c.close()
