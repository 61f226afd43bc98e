"""The REST contract of DESIGN.md over HTTP: accounts, users, direct
conversations, probes and documents, against the session server."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import httpx
import pytest

from tests.support import Api

PASSWORD = "correct horse battery"


def uname(prefix: str = "u") -> str:
    return prefix + secrets.token_hex(5)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def unique_phone() -> str:
    """A valid US number (650 area code) in a spaced format, unlikely to repeat."""
    return f"+1 650 {200 + secrets.randbelow(800)} {secrets.randbelow(10_000):04d}"


async def register(api: Api, **body: Any) -> httpx.Response:
    body.setdefault("username", uname())
    body.setdefault("password", PASSWORD)
    return await api.http.post("/v1/auth/register", json=body)


async def login(api: Api, **body: Any) -> httpx.Response:
    body.setdefault("password", PASSWORD)
    return await api.http.post("/v1/auth/login", json=body)


def error_code(r: httpx.Response) -> str:
    body = r.json()
    assert set(body) == {"error"}, body
    assert body["error"]["message"]
    return str(body["error"]["code"])


# -- register -------------------------------------------------------------------


async def test_register_returns_201_with_user_id_and_a_working_token(api: Api) -> None:
    r = await register(api, display_name="Ada")
    assert r.status_code == 201
    body = r.json()
    assert isinstance(body["user_id"], str) and body["user_id"]
    assert isinstance(body["token"], str) and len(body["token"]) >= 32
    me = await api.http.get(f"/v1/users/{body['user_id']}", headers=bearer(body["token"]))
    assert me.status_code == 200
    assert me.json()["display_name"] == "Ada"


async def test_two_registrations_get_distinct_users_and_tokens(api: Api) -> None:
    a, b = (await register(api)).json(), (await register(api)).json()
    assert a["user_id"] != b["user_id"]
    assert a["token"] != b["token"]


@pytest.mark.parametrize("variant", ["same", "other_case"])
async def test_duplicate_username_is_409_conflict(api: Api, variant: str) -> None:
    name = uname("dup")
    assert (await register(api, username=name)).status_code == 201
    again = name if variant == "same" else name.upper()
    r = await register(api, username=again)
    assert r.status_code == 409
    assert error_code(r) == "conflict"


async def test_duplicate_email_and_phone_are_409(api: Api) -> None:
    email = f"{uname()}@example.com"
    phone = unique_phone()
    assert (await register(api, email=email, phone=phone)).status_code == 201
    r = await register(api, email=email.upper())
    assert r.status_code == 409 and error_code(r) == "conflict"
    r = await register(api, phone=phone.replace(" ", ""))
    assert r.status_code == 409 and error_code(r) == "conflict"


@pytest.mark.parametrize(
    ("field", "body"),
    [
        ("username", {"username": "has space"}),
        ("username", {"username": "ab"}),
        ("username", {"username": "x" * 33}),
        ("username", {"username": "x" * 65}),
        ("password", {"password": "short"}),
        ("password", {"password": None}),
        ("email", {"email": "not-an-email"}),
        ("phone", {"phone": "12345"}),
        ("phone", {"phone": "+1 000 000 0000"}),
        ("display_name", {"display_name": "d" * 129}),
        ("device_id", {"device_id": "bad device id"}),
    ],
)
async def test_invalid_registration_is_422_naming_the_field(
    api: Api, field: str, body: dict[str, Any]
) -> None:
    payload = {"username": uname(), "password": PASSWORD, **body}
    if payload["password"] is None:
        del payload["password"]
    r = await api.http.post("/v1/auth/register", json=payload)
    assert r.status_code == 422, r.text
    data = r.json()
    if "error" in data:  # hubbub's own validation
        assert data["error"]["code"] == "validation_failed"
        assert data["error"]["path"] == f"$.{field}"
    else:  # FastAPI's schema validation
        assert any(d["loc"][-1] == field for d in data["detail"]), data
    # Nothing was created.
    if field != "username":
        r = await login(api, username=payload["username"])
        assert r.status_code == 401


# -- login ----------------------------------------------------------------------


async def test_login_by_username_email_and_phone(api: Api) -> None:
    name, email = uname("Mixed"), f"{uname()}@Example.com"
    phone = unique_phone()
    r = await register(api, username=name, email=email, phone=phone)
    assert r.status_code == 201
    uid = r.json()["user_id"]
    e164 = phone.replace(" ", "")
    for ident in (
        {"username": name},
        {"username": name.lower()},
        {"email": email},
        {"email": email.lower()},
        {"phone": e164},
        {"phone": phone},
    ):
        r = await login(api, **ident)
        assert r.status_code == 200, (ident, r.text)
        body = r.json()
        assert body["user_id"] == uid
        check = await api.http.get("/v1/conversations", headers=bearer(body["token"]))
        assert check.status_code == 200


async def test_phone_is_normalised_to_e164(api: Api) -> None:
    spaced = unique_phone()  # e.g. "+1 650 253 0000"
    e164 = spaced.replace(" ", "")  # "+16502530000"
    r = await register(api, phone=spaced)
    assert r.status_code == 201
    uid, token = r.json()["user_id"], r.json()["token"]
    r = await login(api, phone=e164)
    assert r.status_code == 200
    assert r.json()["user_id"] == uid
    me = await api.http.get(f"/v1/users/{uid}", headers=bearer(token))
    assert me.json()["phone"] == e164


async def test_each_login_issues_a_new_token(api: Api) -> None:
    name = uname()
    first = (await register(api, username=name)).json()["token"]
    second = (await login(api, username=name)).json()["token"]
    third = (await login(api, username=name)).json()["token"]
    assert len({first, second, third}) == 3


async def test_wrong_password_and_unknown_user_get_the_same_401(api: Api) -> None:
    name, email = uname(), f"{uname()}@example.com"
    assert (await register(api, username=name, email=email)).status_code == 201
    responses = [
        await login(api, username=name, password="wrong password!"),
        await login(api, username=uname("nobody")),
        await login(api, email=email, password="wrong password!"),
        await login(api, email=f"{uname()}@example.com"),
        await login(api, phone=unique_phone()),
    ]
    for r in responses:
        assert r.status_code == 401
        assert error_code(r) == "unauthorized"
    assert len({r.content for r in responses}) == 1


async def test_login_without_an_identifier_is_422(api: Api) -> None:
    r = await login(api)
    assert r.status_code == 422
    assert error_code(r) == "validation_failed"


async def test_logout_revokes_the_token(api: Api) -> None:
    name = uname()
    token = (await register(api, username=name)).json()["token"]
    other = (await login(api, username=name)).json()["token"]
    assert (await api.http.get("/v1/conversations", headers=bearer(token))).status_code == 200
    r = await api.http.post("/v1/auth/logout", headers=bearer(token))
    assert r.status_code == 204
    assert r.content == b""
    r = await api.http.get("/v1/conversations", headers=bearer(token))
    assert r.status_code == 401
    assert error_code(r) == "unauthorized"
    # Logging out twice is refused; the user's other token still works.
    r = await api.http.post("/v1/auth/logout", headers=bearer(token))
    assert r.status_code == 401
    assert (await api.http.get("/v1/conversations", headers=bearer(other))).status_code == 200


# -- users ----------------------------------------------------------------------


async def test_user_lookup_shows_contact_details_only_to_their_owner(api: Api) -> None:
    email_a, phone_a = f"{uname()}@example.com", unique_phone()
    a = (await register(api, email=email_a, phone=phone_a, display_name="A")).json()
    b = (await register(api, email=f"{uname()}@example.com", phone=unique_phone())).json()

    own = await api.http.get(f"/v1/users/{a['user_id']}", headers=bearer(a["token"]))
    assert own.status_code == 200
    assert own.json()["user_id"] == a["user_id"]
    assert own.json()["email"] == email_a
    assert own.json()["phone"] == phone_a.replace(" ", "")

    seen = await api.http.get(f"/v1/users/{a['user_id']}", headers=bearer(b["token"]))
    assert seen.status_code == 200
    body = seen.json()
    assert body["user_id"] == a["user_id"]
    assert body["display_name"] == "A"
    assert body.get("email") is None
    assert body.get("phone") is None
    assert email_a not in seen.text
    assert "password" not in seen.text


async def test_find_user_by_username(api: Api) -> None:
    name = uname("Find")
    target = (await register(api, username=name, email=f"{uname()}@example.com")).json()
    me = (await register(api)).json()
    for query in (name, name.lower(), name.upper()):
        r = await api.http.get("/v1/users", params={"username": query}, headers=bearer(me["token"]))
        assert r.status_code == 200
        found = r.json()
        assert [u["user_id"] for u in found] == [target["user_id"]]
        assert found[0]["username"] == name.lower()
        assert found[0].get("email") is None
    r = await api.http.get(
        "/v1/users", params={"username": uname("nobody")}, headers=bearer(me["token"])
    )
    assert r.status_code == 200 and r.json() == []
    r = await api.http.get("/v1/users", headers=bearer(me["token"]))
    assert r.status_code == 422


async def test_unknown_user_id_is_404(api: Api) -> None:
    me = (await register(api)).json()
    r = await api.http.get(f"/v1/users/{uuid.uuid4()}", headers=bearer(me["token"]))
    assert r.status_code == 404
    assert error_code(r) == "not_found"


# -- direct conversations ---------------------------------------------------------


async def test_direct_conversation_is_created_once_from_either_side(api: Api) -> None:
    a, b = (await register(api)).json(), (await register(api)).json()
    r = await api.http.post(
        "/v1/conversations/direct", json={"user_id": b["user_id"]}, headers=bearer(a["token"])
    )
    assert r.status_code == 201
    cid = r.json()["conversation_id"]
    r = await api.http.post(
        "/v1/conversations/direct", json={"user_id": b["user_id"]}, headers=bearer(a["token"])
    )
    assert r.status_code == 200 and r.json() == {"conversation_id": cid}
    r = await api.http.post(
        "/v1/conversations/direct", json={"user_id": a["user_id"]}, headers=bearer(b["token"])
    )
    assert r.status_code == 200 and r.json() == {"conversation_id": cid}

    for me in (a, b):
        r = await api.http.get("/v1/conversations", headers=bearer(me["token"]))
        assert r.status_code == 200
        convs = [c for c in r.json() if c["conversation_id"] == cid]
        assert len(convs) == 1
        assert convs[0]["kind"] == "direct"
        assert {m["user_id"] for m in convs[0]["members"]} == {a["user_id"], b["user_id"]}
        one = await api.http.get(f"/v1/conversations/{cid}", headers=bearer(me["token"]))
        assert one.status_code == 200
        assert one.json() == convs[0]


async def test_direct_with_self_is_422_and_with_unknown_user_404(api: Api) -> None:
    a = (await register(api)).json()
    r = await api.http.post(
        "/v1/conversations/direct", json={"user_id": a["user_id"]}, headers=bearer(a["token"])
    )
    assert r.status_code == 422
    assert error_code(r) == "validation_failed"
    r = await api.http.post(
        "/v1/conversations/direct", json={"user_id": str(uuid.uuid4())}, headers=bearer(a["token"])
    )
    assert r.status_code == 404
    assert error_code(r) == "not_found"
    r = await api.http.get("/v1/conversations", headers=bearer(a["token"]))
    assert r.json() == []


async def test_conversation_of_others_is_404_like_a_missing_one(api: Api) -> None:
    a, b, stranger = [(await register(api)).json() for _ in range(3)]
    cid = await api.direct(a["token"], b["user_id"])
    theirs = await api.http.get(f"/v1/conversations/{cid}", headers=bearer(stranger["token"]))
    missing = await api.http.get(
        f"/v1/conversations/{uuid.uuid4()}", headers=bearer(stranger["token"])
    )
    assert theirs.status_code == missing.status_code == 404
    assert error_code(theirs) == "not_found"
    assert theirs.json() == missing.json()
    r = await api.http.get("/v1/conversations", headers=bearer(stranger["token"]))
    assert cid not in {c["conversation_id"] for c in r.json()}


# -- authentication of requests --------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer garbage-token"},
        {"Authorization": "Bearer " + "x" * 600},
        {"Authorization": "garbage"},
    ],
    ids=["missing", "empty", "basic", "garbage", "oversized", "no_scheme"],
)
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/v1/conversations", None),
        ("GET", "/v1/conversations/{id}", None),
        ("POST", "/v1/conversations/direct", {"user_id": "{id}"}),
        ("GET", "/v1/users/{id}", None),
        ("GET", "/v1/users?username=someone", None),
        ("POST", "/v1/auth/logout", None),
        ("GET", "/v1/auth/tokens", None),
        ("DELETE", "/v1/auth/tokens/{id}", None),
        ("POST", "/v1/auth/password", {"current_password": "x" * 8, "new_password": "y" * 8}),
        ("PUT", "/v1/users/{id}/block", None),
        ("DELETE", "/v1/users/{id}/block", None),
        ("GET", "/v1/blocks", None),
    ],
)
async def test_missing_or_bad_bearer_is_401(
    api: Api, headers: dict[str, str], method: str, path: str, body: dict[str, str] | None
) -> None:
    some_id = str(uuid.uuid4())
    url = path.replace("{id}", some_id)
    json = {k: v.replace("{id}", some_id) for k, v in body.items()} if body else None
    r = await api.http.request(method, url, headers=headers, json=json)
    assert r.status_code == 401, r.text
    assert error_code(r) == "unauthorized"


# -- probes and documents ----------------------------------------------------------


async def test_healthz_and_readyz(api: Api) -> None:
    r = await api.http.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}
    r = await api.http.get("/readyz")
    assert r.status_code == 200
    body = r.json()
    assert body["ready"] is True
    assert body["checks"] == {"database": "ok", "bus": "ok"}


async def test_metrics_are_prometheus_text(api: Api) -> None:
    c = await api.client(await api.register())
    try:
        r = await api.http.get("/metrics")
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/plain")
        lines = r.text.splitlines()
        assert "# TYPE hubbub_ws_connections gauge" in lines
        gauge = next(line for line in lines if line.startswith("hubbub_ws_connections "))
        assert float(gauge.split()[1]) >= 1
        assert any(line.startswith("hubbub_ws_frames_in_total") for line in lines)
    finally:
        await c.close()


async def test_openapi_lists_the_v1_routes(api: Api) -> None:
    r = await api.http.get("/docs/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.")
    paths = doc["paths"]
    expected = {
        "/v1/auth/register": "post",
        "/v1/auth/login": "post",
        "/v1/auth/logout": "post",
        "/v1/users": "get",
        "/v1/users/{user_id}": "get",
        "/v1/conversations": "get",
        "/v1/conversations/direct": "post",
        "/v1/conversations/{conversation_id}": "get",
        "/v1/auth/tokens": "get",
        "/v1/auth/tokens/{token_id}": "delete",
        "/v1/auth/password": "post",
        "/v1/users/{user_id}/block": "put delete",
        "/v1/blocks": "get",
    }
    for path, methods in expected.items():
        for method in methods.split():
            assert method in paths.get(path, {}), f"{method.upper()} {path} missing from OpenAPI"
    # Device listings never document a token or its hash.
    session = doc["components"]["schemas"]["SessionOut"]["properties"]
    assert "token_id" in session and not {"token", "token_hash"} & set(session)


async def test_asyncapi_document(api: Api) -> None:
    r = await api.http.get("/docs/asyncapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["asyncapi"] == "3.0.0"
    assert doc["channels"]
    assert doc["operations"]


async def test_llms_txt_is_plain_text(api: Api) -> None:
    r = await api.http.get("/docs/llms.txt")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    assert r.text.startswith("# hubbub")
    for ref in ("/ws", "/v1/auth/register", "/docs/asyncapi.json"):
        assert ref in r.text


async def test_schema_errors_share_the_error_body_shape(api: Api) -> None:
    r = await api.http.post("/v1/auth/register", json={"username": "someone"})
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "validation_failed" and err["path"] == "$.password"
    r = await api.http.post("/v1/auth/register", content=b"not json")
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_failed"


async def test_401_names_the_bearer_scheme(api: Api) -> None:
    r = await api.http.get("/v1/conversations")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
