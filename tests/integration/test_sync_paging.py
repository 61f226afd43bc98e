"""Resume in pages: SyncResponse, then SyncChangesReceived after each SyncAck."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import Api, ServerProcess


@pytest.fixture(scope="module")
def small_pages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    env = {"HUBBUB_SYNC_PAGE_SIZE": "5"}
    srv = ServerProcess(Path(tmp_path_factory.mktemp("paging")), extra_env=env).start()
    yield srv
    srv.stop()


async def test_pages_follow_sync_acks_until_done(small_pages: ServerProcess) -> None:
    api = Api(small_pages)
    a, b = await api.user(2)
    cid = await api.direct(a[1], b[0])
    ca = await api.client(a)
    sent = []
    for i in range(12):
        r = await ca.ok(
            "chat/messages/ack",
            "SendChatMessageWithClientId",
            {"client_message_id": f"p{i}", "conversation_id": cid, "content": f"p{i}"},
        )
        sent.append(r["data"]["message_id"])
    cb = await api.client(b)
    first = await cb.ok("sync/request", "SyncRequest", {"request_id": "job", "since_sequence": 0})
    got = [c["data"]["message_id"] for c in first["data"]["changes"]]
    assert len(got) == 5 and first["data"]["has_more"] is True
    seq = first["data"]["to_sequence"]
    pages = 1
    while True:
        ack = await cb.ok("sync/changes", "SyncAck", {"sync_id": "job", "sequence": seq})
        assert ack["type"] == "Ack"
        page = await cb.wait_for(
            lambda f, s=seq: f["type"] == "SyncChangesReceived" and f["data"]["sequence"] > s
        )
        assert page["data"]["sync_id"] == "job"
        got += [c["data"]["message_id"] for c in page["data"]["changes"]]
        seq = page["data"]["sequence"]
        pages += 1
        if not page["data"]["has_more"]:
            break
    assert got == sent and pages == 3
    # an ack for an unknown or finished job just records the position
    done = await cb.ok("sync/changes", "SyncAck", {"sync_id": "job", "sequence": seq})
    assert done["data"]["sequence"] == seq
    await ca.close()
    await cb.close()
    await api.aclose()
