"""One core, two protocols: a spec 003 dialog is a conversation `/ws` members
share. MTChat REST -> `/ws` (`ChatMessageReceived`, and the new
`ChatMessageEdited`, `ChatMessageDeleted`, `ReadPositionUpdated`,
`ConversationMemberJoined`), and `/ws` -> MTChat's WebSocket and message list."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from tests.integration.mtchat import ENV, Mt, MtSocket, create_dialog, scope_header
from tests.support import Api, Client, ServerProcess

SCOPE = scope_header(["tenant-x"])
RULE = {"scope_level0": ["tenant-x"]}


@pytest.fixture(scope="module")
def mt_server(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("mtchat-x"), extra_env=ENV).start()
    yield proc
    proc.stop()


async def test_mtchat_and_ws_share_a_dialog(mt_server: ServerProcess) -> None:
    api = Api(mt_server)
    hub_id, hub_token, _ = await api.register()
    alice = Mt(mt_server, scope=SCOPE)
    cid = await create_dialog(mt_server, [alice], [RULE])
    ws_a = await MtSocket.open(mt_server, f"token={alice.token}")

    # A hubbub user joins the dialog through MTChat's REST with their own token.
    hub = Mt(mt_server, user=hub_id, scope=SCOPE)
    hub.token = hub_token
    await hub.ok("POST", f"/dialogs/{cid}/join", json={"display_name": "Hub", "company": "H"})
    await ws_a.event("participant.joined", dialog_id=cid, user_id=hub_id)
    c = await Client(mt_server, hub_id, hub_token, "d-" + secrets.token_hex(4)).connect()

    # MTChat REST -> /ws.
    sent = (await alice.ok("POST", f"/dialogs/{cid}/messages", json={"content": "<b>hi</b>"}))[
        "data"
    ]
    [got] = await c.events("ChatMessageReceived", message_id=sent["id"])
    d = got["data"]
    assert d["conversation_id"] == cid and d["content"] == "<b>hi</b>" and d["type"] == "html"
    await alice.ok("PUT", f"/dialogs/{cid}/messages/{sent['id']}", json={"content": "<b>yo</b>"})
    [ed] = await c.events("ChatMessageEdited", message_id=sent["id"])
    assert ed["data"]["content"] == "<b>yo</b>" and ed["data"]["conversation_id"] == cid
    await alice.ok("POST", f"/dialogs/{cid}/read", json={"last_read_message_id": sent["id"]})
    await c.events("ReadPositionUpdated", message_id=sent["id"], user_id=d["sender_id"])
    await alice.ok("DELETE", f"/dialogs/{cid}/messages/{sent['id']}")
    await c.events("ChatMessageDeleted", message_id=sent["id"], conversation_id=cid)

    # /ws -> MTChat: the text is escaped, never markup.
    r = await c.ok(
        "chat/messages/ack",
        "SendChatMessageWithClientId",
        {
            "client_message_id": "x-" + secrets.token_hex(4),
            "conversation_id": cid,
            "content": "<img src=x onerror=alert(1)> & bye",
            "type": "text",
        },
    )
    mid = r["data"]["message_id"]
    ev = await ws_a.event("message.new", id=mid)
    assert ev["sender_id"] == hub_id and ev["dialog_id"] == cid
    assert ev["content"] == "&lt;img src=x onerror=alert(1)&gt; &amp; bye"
    page = (await alice.ok("GET", f"/dialogs/{cid}/messages"))["data"]
    assert page["messages"][-1]["id"] == mid
    assert page["messages"][-1]["content"] == ev["content"]

    # The hubbub user lists the dialog over /v1 too: it is a conversation of theirs.
    r2 = await api.http.get("/v1/conversations", headers={"Authorization": f"Bearer {hub_token}"})
    assert cid in [x["conversation_id"] for x in r2.json()]
    await c.close()
    await ws_a.close()
    await alice.aclose()
    await hub.aclose()
    await api.aclose()
