"""MTChat webhooks against a real HTTP receiver started here: what MTChat sends
(events, body, HMAC signature header), retried when the receiver fails,
delivered after the node is killed and started again, and once when two
nodes run them."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.integration.mtchat import ENV, Mt, admin, create_dialog
from tests.support import DEFAULT_TIMEOUT, ServerProcess

HOOK_SECRET = "webhook-secret-" + "x" * 16


class Receiver:
    """A plain HTTP server: records every POST; answers the scripted statuses to
    bodies holding `marker` (then 200), or 503 to all while `fail_all`. (On a
    database other tests used, events of theirs arrive as well: tests look at
    their own dialog's.)"""

    def __init__(self) -> None:
        self.got: list[dict[str, Any]] = []
        self.script: list[int] = []
        self.marker = b"\0"
        self.fail_all = False
        self.changed = asyncio.Condition()
        self.server: asyncio.Server | None = None
        self.url = ""

    async def start(self) -> Receiver:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/hooks/mtchat"
        return self

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode().split("\r\n")
                headers = {
                    k.strip().lower(): v.strip()
                    for k, v in (line.split(":", 1) for line in lines[1:] if ":" in line)
                }
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                status = 200
                if self.fail_all:
                    status = 503
                elif self.script and self.marker in body:
                    status = self.script.pop(0)
                async with self.changed:
                    self.got.append(
                        {"line": lines[0], "headers": headers, "body": body, "status": status}
                    )
                    self.changed.notify_all()
                writer.write(f"HTTP/1.1 {status} X\r\ncontent-length: 0\r\n\r\n".encode())
                await writer.drain()
        writer.close()

    async def wait(self, pred: Callable[[list[dict[str, Any]]], bool]) -> None:
        async def check() -> None:
            async with self.changed:
                await self.changed.wait_for(lambda: pred(self.got))

        await asyncio.wait_for(check(), DEFAULT_TIMEOUT)

    def of(self, cid: str) -> list[dict[str, Any]]:
        return [g for g in self.got if cid.encode() in g["body"]]

    def delivered(self, cid: str) -> list[dict[str, Any]]:
        """The bodies about dialog `cid` the receiver took (answered 2xx), decoded."""
        return [json.loads(g["body"]) for g in self.of(cid) if g["status"] == 200]

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = await Receiver().start()
    yield r
    await r.close()


def hook_env(receiver: Receiver) -> dict[str, str]:
    return {
        **ENV,
        "HUBBUB_MTCHAT_WEBHOOK_URL": receiver.url,
        "HUBBUB_MTCHAT_WEBHOOK_SECRET": HOOK_SECRET,
        "HUBBUB_MTCHAT_WEBHOOK_RETRY_MS": "20",
    }


def of_type(got: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [b for b in got if b["type"] == kind]


async def test_webhooks_as_mtchat_sends_them_signed_and_retried(
    tmp_path: Path, backend: str, receiver: Receiver
) -> None:
    server = ServerProcess(tmp_path / "n", extra_env=hook_env(receiver)).start()
    try:
        alice, bob = Mt(server), Mt(server)
        cid = await create_dialog(server, [alice], [])
        receiver.script, receiver.marker = [500, 503], b"<b>hi</b>"  # two attempts fail
        said = await alice.ok("POST", f"/dialogs/{cid}/messages", json={"content": "<b>hi</b>"})
        await receiver.wait(lambda g: len(receiver.delivered(cid)) == 1)
        # A 4xx (other than 408/429) is the receiver refusing that payload: not retried.
        receiver.script, receiver.marker = [422], b"refused"
        await alice.ok("POST", f"/dialogs/{cid}/messages", json={"content": "refused"})
        r = await admin(
            server,
            "POST",
            f"/dialogs/{cid}/participants",
            json={"user_id": bob.user, "display_name": "Bob"},
        )
        assert r.status_code in (200, 201), r.text
        await bob.ok("POST", f"/dialogs/{cid}/leave")
        await receiver.wait(lambda g: len(receiver.delivered(cid)) == 3)
    finally:
        server.stop()
    attempts = [g for g in receiver.of(cid) if b"<b>hi</b>" in g["body"]]
    assert [a["status"] for a in attempts] == [500, 503, 200]  # retried with backoff
    assert [g["status"] for g in receiver.of(cid) if b"refused" in g["body"]] == [422]
    assert len({a["headers"]["x-webhook-id"] for a in attempts}) == 1  # the same delivery
    for g in receiver.of(cid):
        assert g["line"] == "POST /hooks/mtchat HTTP/1.1"
        assert g["headers"]["content-type"] == "application/json"
        mac = hmac.new(HOOK_SECRET.encode(), g["body"], hashlib.sha256).hexdigest()
        assert g["headers"]["x-webhook-signature"] == "sha256=" + mac
        body = json.loads(g["body"])
        assert g["headers"]["x-webhook-id"] == body["id"]
        assert g["headers"]["x-webhook-event"] == body["type"].replace("_", ".", 1)
    got = receiver.delivered(cid)
    # Only user messages (not the join/leave system messages), only dialogs' events.
    assert [b["type"] for b in got] == ["message_new", "participant_joined", "participant_left"]
    new, joined, left = got
    dialog = {"dialog_id": cid, "object_type": "order"}
    assert {k: new["payload"][k] for k in dialog} == dialog and new["payload"]["object_id"]
    msg = new["payload"]["message"]
    assert msg["id"] == said["data"]["id"] and msg["sender_id"] == alice.user
    assert msg["content"] == "<b>hi</b>" and msg["message_type"] == "user"
    assert msg["created_at"] == said["data"]["sent_at"] and "reply_to" not in msg
    assert set(joined["payload"]) == {
        "dialog_id",
        "object_id",
        "object_type",
        "user_id",
        "joined_as",
        "joined_at",
    }
    assert joined["payload"]["user_id"] == bob.user
    assert set(left["payload"]) == {"dialog_id", "object_id", "object_type", "user_id", "left_at"}
    assert left["payload"]["user_id"] == bob.user
    assert all(isinstance(b["timestamp"], str) for b in got)
    for c in (alice, bob):
        await c.aclose()


async def test_webhooks_survive_a_killed_node(
    tmp_path: Path, backend: str, receiver: Receiver
) -> None:
    receiver.fail_all = True  # the host is down while the message is sent
    # The node comes back under its id, so it takes its lease back at once (another
    # node would take over once the lease ran out).
    env = {**hook_env(receiver), "HUBBUB_NODE_ID": "wh-" + secrets.token_hex(4)}
    server = ServerProcess(tmp_path / "n", extra_env=env).start()
    alice = Mt(server)
    cid = await create_dialog(server, [alice], [])
    said = await alice.ok("POST", f"/dialogs/{cid}/messages", json={"content": "durable"})
    await receiver.wait(lambda g: len(g) >= 2)  # tried (this or an older event), tried again
    server.kill9()
    receiver.fail_all = False
    again = ServerProcess(server.data_dir, extra_env=env, port=server.port).start()
    try:
        await receiver.wait(lambda g: len(receiver.delivered(cid)) == 1)
    finally:
        again.stop()
    [body] = receiver.delivered(cid)
    assert body["payload"]["message"]["id"] == said["data"]["id"]
    await alice.aclose()


async def test_two_nodes_deliver_each_webhook_once(
    tmp_path: Path, backend: str, receiver: Receiver
) -> None:
    env = hook_env(receiver)
    db = ""
    if backend == "sqlite":
        db = f"sqlite:///{(tmp_path / 'shared.db').resolve()}"
    else:
        env["HUBBUB_NATS_PREFIX"] = "hubbub_wh_" + secrets.token_hex(4)
    nodes = [
        ServerProcess(
            tmp_path / f"n{i}", database_url=db, extra_env={**env, "HUBBUB_NODE_ID": f"wh{i}"}
        ).start()
        for i in range(2)
    ]
    try:
        users = [Mt(nodes[0]), Mt(nodes[1])]
        cid = await create_dialog(nodes[0], users, [])
        sent = []
        for i in range(6):  # through both nodes
            u = users[i % 2]
            sent.append(
                (await u.ok("POST", f"/dialogs/{cid}/messages", json={"content": f"m{i}"}))["data"][
                    "id"
                ]
            )
        await receiver.wait(lambda g: len(receiver.delivered(cid)) >= 6)
        # Whatever else arrives comes after these; a duplicate would be among them.
        last = await users[0].ok("POST", f"/dialogs/{cid}/messages", json={"content": "end"})
        sent.append(last["data"]["id"])
        await receiver.wait(lambda g: any(last["data"]["id"].encode() in x["body"] for x in g))
    finally:
        for n in nodes:
            n.stop()
    ids = [b["payload"]["message"]["id"] for b in of_type(receiver.delivered(cid), "message_new")]
    assert ids == sent  # each once, in commit order
    for u in users:
        await u.aclose()
