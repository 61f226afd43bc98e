"""Spec 003 as MTChat answers it: attachment objects on `message.new` and message
rows, MTChat's error statuses and codes, the JWT claim of the user id, a
complete `available` list read in small keyset pages, and attachments served
by any node (upload through one, download through another)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from tests.integration.mtchat import (
    ADMIN,
    ENV,
    SECRET,
    Mt,
    MtSocket,
    admin,
    create_dialog,
    new_user,
    scope_header,
)
from tests.support import DEFAULT_TIMEOUT, ServerProcess

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(200))
ATTACHMENT_FIELDS = {"id", "filename", "content_type", "size", "url"}


@pytest.fixture(scope="module")
def mt_server(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Iterator[ServerProcess]:
    env = {**ENV, "HUBBUB_MTCHAT_SCAN_BATCH": "2"}  # `available` read two dialogs at a time
    proc = ServerProcess(tmp_path_factory.mktemp("mtrest"), extra_env=env).start()
    yield proc
    proc.stop()


@pytest.fixture
async def http(mt_server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=mt_server.base_url, timeout=DEFAULT_TIMEOUT) as c:
        yield c


async def upload(user: Mt, cid: str, data: bytes = PNG, name: str = "a.png") -> str:
    ask = {"dialog_id": cid, "filename": name, "content_type": "image/png", "size": len(data)}
    signed = (await user.ok("POST", "/upload/presign", json=ask))["data"]
    async with httpx.AsyncClient(timeout=DEFAULT_TIMEOUT) as raw:
        assert (await raw.put(signed["upload_url"], content=data)).status_code == 200
    return str(signed["s3_key"])


def error_of(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, (r.status_code, r.text)
    err: dict[str, Any] = r.json()["error"]
    assert err["code"] == code, err
    assert isinstance(err["message"], str) and err["message"]
    return err


async def test_attachments_listed_on_message_new_and_rows_as_mtchat(
    mt_server: ServerProcess,
) -> None:
    alice, bob = Mt(mt_server), Mt(mt_server)
    cid = await create_dialog(mt_server, [alice, bob], [])
    ws_b = await MtSocket.open(mt_server, f"token={bob.token}")
    key = await upload(alice, cid)
    body = {
        "content": "<p>see</p>",
        "attachments": [
            {"s3_key": key, "filename": "a.png", "content_type": "image/png", "size": len(PNG)}
        ],
    }
    sent = (await alice.ok("POST", f"/dialogs/{cid}/messages", json=body))["data"]

    pushed = await ws_b.event("message.new", id=sent["id"])
    [on_ws] = pushed["attachments"]
    [on_row] = sent["attachments"]
    got = (await bob.ok("GET", f"/dialogs/{cid}/messages/{sent['id']}"))["data"]
    [on_get] = got["attachments"]
    [on_page] = (await bob.ok("GET", f"/dialogs/{cid}/messages"))["data"]["messages"][-1][
        "attachments"
    ]
    for a in (on_ws, on_row, on_get, on_page):
        # MTChat's AttachmentResponse: width, height, thumbnail_url left out when unknown
        assert set(a) == ATTACHMENT_FIELDS, a
        assert (a["id"], a["filename"], a["content_type"], a["size"]) == (
            key,
            "a.png",
            "image/png",
            len(PNG),
        )
        assert a["url"].startswith(mt_server.base_url + "/api/v1/attachments/")
    async with httpx.AsyncClient(timeout=DEFAULT_TIMEOUT) as raw:
        assert (await raw.get(on_ws["url"])).content == PNG  # the socket's own signed URL

    # A message without files has no `attachments` (MTChat skips the empty list).
    plain = (await bob.ok("POST", f"/dialogs/{cid}/messages", json={"content": "ok"}))["data"]
    assert "attachments" not in plain
    assert "attachments" not in await ws_b.event("message.new", id=plain["id"])
    link = (await bob.ok("GET", f"/attachments/{key}/url"))["data"]
    assert set(link) == {"url", "thumbnail_url", "expires_in"} and link["thumbnail_url"] is None

    # Deleting the message takes its files: no new URL, and the signed ones stop working.
    await alice.ok("DELETE", f"/dialogs/{cid}/messages/{sent['id']}")
    assert (await bob.call("GET", f"/attachments/{key}/url")).status_code == 404
    async with httpx.AsyncClient(timeout=DEFAULT_TIMEOUT) as raw:
        assert (await raw.get(link["url"])).status_code == 404
    await ws_b.close()
    for c in (alice, bob):
        await c.aclose()


async def test_validation_and_not_found_answer_as_mtchat(
    mt_server: ServerProcess, http: httpx.AsyncClient
) -> None:
    alice, carol = Mt(mt_server), Mt(mt_server)
    cid = await create_dialog(mt_server, [alice], [])
    unknown = new_user()

    # Validation: 400 and MTChat's code, with hubbub's `path` naming the field.
    r = await alice.call("POST", f"/dialogs/{cid}/messages", json={"content": "<script>x</script>"})
    assert error_of(r, 400, "INVALID_INPUT")["path"] == "$.content"
    r = await alice.call("POST", f"/dialogs/{cid}/messages", json={"content": 5})
    assert error_of(r, 400, "INVALID_INPUT")["path"] == "$.content"
    r = await alice.call("POST", f"/dialogs/{cid}/messages", content=b"{not json")
    error_of(r, 400, "INVALID_INPUT")
    error_of(
        await alice.call("GET", f"/dialogs/{cid}/messages", params={"limit": 0}),
        400,
        "INVALID_INPUT",
    )
    ask = {"dialog_id": cid, "filename": "a.png", "content_type": "image/png", "size": 10}
    r = await alice.call("POST", "/upload/presign", json={**ask, "content_type": "x/y"})
    error_of(r, 400, "UNSUPPORTED_FILE_TYPE")
    error_of(
        await alice.call("POST", "/upload/presign", json={**ask, "size": 0}), 400, "FILE_TOO_LARGE"
    )
    error_of(
        await alice.call("POST", "/upload/presign", json={**ask, "size": 10**9}),
        400,
        "FILE_TOO_LARGE",
    )
    eleven = [{"s3_key": new_user(), "filename": "a", "content_type": "text/plain", "size": 1}] * 11
    r = await alice.call("POST", f"/dialogs/{cid}/messages", json={"attachments": eleven})
    assert error_of(r, 400, "BAD_REQUEST")["message"] == "Maximum 10 attachments per message"
    r = await alice.call("GET", "/dialogs", params={"type": "mine"})
    assert error_of(r, 400, "BAD_REQUEST")["message"] == "Invalid type parameter"
    r = await alice.call("POST", f"/dialogs/{cid}/join", json={"display_name": "Alice"})
    assert error_of(r, 400, "BAD_REQUEST")["message"] == "Already a participant"
    r = await admin(mt_server, "POST", "/dialogs", json={"object_type": "order"})
    error_of(r, 400, "INVALID_INPUT")
    r = await http.get("/api/v1/dialogs", headers={**alice.headers(), "X-Scope-Config": "%%"})
    assert error_of(r, 400, "INVALID_INPUT")["path"] == "$.headers.x-scope-config"

    # Not found: MTChat's code per kind of thing (a dialog one may not see is one).
    for r in (
        await alice.call("GET", f"/dialogs/{unknown}"),
        await carol.call("GET", f"/dialogs/{cid}"),
        await carol.call("GET", f"/dialogs/{cid}/messages"),
        await alice.call("POST", "/upload/presign", json={**ask, "dialog_id": unknown}),
        await admin(mt_server, "GET", f"/dialogs/{unknown}"),
    ):
        assert error_of(r, 404, "DIALOG_NOT_FOUND")["message"] == "Dialog not found"
    r = await alice.call("GET", f"/dialogs/{cid}/messages/{unknown}")
    assert error_of(r, 404, "MESSAGE_NOT_FOUND")["message"] == "Message not found"
    r = await alice.call("PUT", f"/dialogs/{cid}/messages/{unknown}", json={"content": "x"})
    error_of(r, 404, "MESSAGE_NOT_FOUND")
    r = await alice.call("GET", f"/attachments/{unknown}/url")
    assert error_of(r, 404, "ATTACHMENT_NOT_FOUND")["message"] == "Attachment not found"
    r = await http.get(f"/api/v1/attachments/{unknown}/content", params={"exp": "1", "sig": "x"})
    error_of(r, 404, "ATTACHMENT_NOT_FOUND")
    one = [{"s3_key": unknown, "filename": "a", "content_type": "text/plain", "size": 1}]
    r = await alice.call("POST", f"/dialogs/{cid}/messages", json={"attachments": one})
    assert error_of(r, 404, "ATTACHMENT_NOT_FOUND")["path"] == "$.attachments[0]"

    # hubbub's own API keeps hubbub's codes.
    r = await http.post("/v1/auth/login", json={"username": 5})
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_failed"
    for c in (alice, carol):
        await c.aclose()


async def test_available_is_complete_beyond_one_scan_batch(mt_server: ServerProcess) -> None:
    tenant = "t-" + new_user()
    owner = Mt(mt_server)
    dave = Mt(mt_server, scope=scope_header([tenant]))
    mine = await create_dialog(mt_server, [dave], [{"scope_level0": [tenant]}])
    visible: list[str] = []
    for i in range(7):  # newest last; the others' scope hides them from dave
        visible.append(
            await create_dialog(mt_server, [owner], [{"scope_level0": [tenant]}], title=f"T{i}")
        )
        await create_dialog(mt_server, [owner], [{"scope_level0": ["other"]}], title=f"T{i}")
    newest_first = visible[::-1]

    everything = await dave.ok("GET", "/dialogs", params={"type": "available", "limit": 100})
    assert [d["id"] for d in everything["data"]] == newest_first and mine not in newest_first
    paged: list[str] = []
    for offset in range(0, 8, 3):
        page = await dave.ok(
            "GET", "/dialogs", params={"type": "available", "limit": 3, "offset": offset}
        )
        paged += [d["id"] for d in page["data"]]
    assert paged == newest_first
    found = await dave.ok("GET", "/dialogs", params={"type": "available", "search": "T0"})
    assert [d["id"] for d in found["data"]] == [visible[0]]  # the oldest, past every batch
    await owner.aclose()
    await dave.aclose()


def _claim_token(claims: dict[str, Any]) -> str:
    return jwt.encode({**claims, "exp": int(time.time()) + 600}, SECRET, algorithm="HS256")


@pytest.fixture(scope="module")
def claim_server(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Iterator[ServerProcess]:
    env = {**ENV, "HUBBUB_MTCHAT_JWT_CLAIM": "user_id"}
    proc = ServerProcess(tmp_path_factory.mktemp("mtclaim"), extra_env=env).start()
    yield proc
    proc.stop()


async def test_the_user_id_claim_is_configurable(claim_server: ServerProcess) -> None:
    me = new_user()
    async with httpx.AsyncClient(base_url=claim_server.base_url, timeout=DEFAULT_TIMEOUT) as http:

        async def as_(token: str) -> httpx.Response:
            return await http.get("/api/v1/dialogs", headers={"Authorization": f"Bearer {token}"})

        assert (await as_(_claim_token({"user_id": me}))).status_code == 200
        assert (await as_(_claim_token({"user_id": 42}))).status_code == 200  # a number is text
        assert (await as_(_claim_token({"sub": me}))).status_code == 401  # not the claim read
        assert (await as_(_claim_token({"user_id": True}))).status_code == 401
        # The same user whichever way: a dialog created for `me` is listed.
        body = {
            "object_id": "o",
            "object_type": "order",
            "participants": [{"user_id": me, "display_name": "Me"}],
        }
        r = await http.post(
            "/api/v1/management/dialogs", json=body, headers={"Authorization": f"Bearer {ADMIN}"}
        )
        assert r.status_code == 200
        listed = (await as_(_claim_token({"user_id": me}))).json()["data"]
        assert [d["id"] for d in listed] == [r.json()["data"]["id"]]
    # The WebSocket reads the same claim.
    sock = await MtSocket.open(claim_server, f"token={_claim_token({'user_id': me})}")
    await sock.close()


@pytest.fixture
def two_nodes(tmp_path: Path, backend: str) -> Iterator[list[ServerProcess]]:
    """Two nodes of one database: on SQLite a shared file with the blobs in it."""
    env = dict(ENV)
    db = ""
    if backend == "sqlite":
        db = f"sqlite:///{(tmp_path / 'shared.db').resolve()}"
        env["HUBBUB_BLOB_STORE"] = "database"
    first = ServerProcess(tmp_path / "a", database_url=db, extra_env=env).start()
    second = ServerProcess(tmp_path / "b", database_url=db, extra_env=env).start()
    yield [first, second]
    for n in (first, second):
        n.stop()


async def test_any_node_serves_an_attachment_another_took_in(
    two_nodes: list[ServerProcess],
) -> None:
    a, b = two_nodes
    alice_a, alice_b, bob_b = Mt(a), Mt(b), Mt(b)
    alice_b.user, alice_b.token = alice_a.user, alice_a.token
    cid = await create_dialog(a, [alice_a, bob_b], [])
    key = await upload(alice_a, cid)  # presigned and uploaded through node A
    body = {
        "attachments": [
            {"s3_key": key, "filename": "a.png", "content_type": "image/png", "size": len(PNG)}
        ]
    }
    sent = (await alice_b.ok("POST", f"/dialogs/{cid}/messages", json=body))["data"]  # sent on B
    link = (await bob_b.ok("GET", f"/attachments/{key}/url"))["data"]["url"]
    assert link.startswith(b.base_url)
    async with httpx.AsyncClient(timeout=DEFAULT_TIMEOUT) as raw:
        got = await raw.get(link)  # downloaded through node B
        assert got.status_code == 200 and got.content == PNG
        assert got.headers["content-type"] == "image/png"
        # A URL signed by one node is good on the other (the key is derived the same).
        assert (
            await raw.get(sent["attachments"][0]["url"].replace(b.base_url, a.base_url))
        ).content == PNG
    for c in (alice_a, alice_b, bob_b):
        await c.aclose()
