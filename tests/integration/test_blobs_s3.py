"""`--blob-backend s3` against a real S3-speaking server (moto's server mode,
a subprocess on a free port): a hubbub server process keeps voice notes and
room files in the bucket, members download them byte for byte (whole, by
range and through a signed URL), strangers are refused, nothing lands on the
node's disk; orphaned blobs are deleted from the bucket by the collector
(an in-process node with a controlled clock); two nodes on PostgreSQL +
NATS serve each other's blobs from one bucket."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from hubbub.config import Settings
from hubbub.core.blobs import ORPHAN_AFTER_MS, read_all
from hubbub.core.context import Caller
from hubbub.errors import NotFound
from hubbub.runtime import Node
from tests.audio import ogg_opus_silence, wav_chirp
from tests.core.test_accounts import T0, ManualClock
from tests.integration.test_messaging import close_all, group_of
from tests.integration.test_voice import auth, send, voice
from tests.roomclient import RoomClient
from tests.s3server import CREDENTIALS, MotoServer, moto, new_bucket  # noqa: F401 (fixture)
from tests.support import Api, Client, ServerProcess

PREFIX = "blobs/"


@pytest.fixture
async def s3_api(tmp_path: Path, moto: MotoServer) -> AsyncIterator[tuple[Api, MotoServer, str]]:  # noqa: F811
    """A server whose blobs live in a fresh bucket (on this run's database)."""
    bucket = new_bucket()
    await moto.create_bucket(bucket)
    server = ServerProcess(tmp_path / "s3node", extra_env=moto.env(bucket))
    server.start()
    api = Api(server)
    try:
        yield api, moto, bucket
    finally:
        await api.aclose()
        server.stop()


async def test_voice_notes_and_room_files_live_in_the_bucket(
    s3_api: tuple[Api, MotoServer, str],
) -> None:
    api, s3, bucket = s3_api
    users, (ca, cb), gid = await group_of(api, 2)
    stranger = (await api.user(1))[0]
    audio = wav_chirp(1500)  # a WAV of some 24 KiB
    ack = await send(ca, voice(gid, audio, "audio/wav", duration_ms=1500))
    assert ack["status"] == "accepted", ack
    [ev] = await cb.events("VoiceMessageReceived", message_id=ack["message_id"])
    url = ev["data"]["audio_url"]
    blob_id = url.rsplit("/", 1)[-1]
    assert (await s3.keys(bucket)) == {PREFIX + blob_id: audio}  # stored as sent

    got = await api.http.get(url, headers=auth(users[1][1]))
    assert got.status_code == 200 and got.content == audio
    assert got.headers["content-type"] == "audio/wav"
    assert got.headers["content-length"] == str(len(audio))
    h = auth(users[1][1])
    part = await api.http.get(url, headers=h | {"Range": "bytes=100-1099"})
    assert part.status_code == 206 and part.content == audio[100:1100]
    assert part.headers["content-range"] == f"bytes 100-1099/{len(audio)}"
    tail = await api.http.get(url, headers=h | {"Range": "bytes=-7"})
    assert tail.status_code == 206 and tail.content == audio[-7:]
    beyond = await api.http.get(url, headers=h | {"Range": f"bytes={len(audio)}-"})
    assert beyond.status_code == 416
    refused = await api.http.get(url, headers=auth(stranger[1]))
    unknown = await api.http.get("/v1/blobs/" + "A" * 32, headers=auth(stranger[1]))
    assert refused.status_code == unknown.status_code == 404
    assert refused.json() == unknown.json()
    signed = (await api.http.post(url + "/url", headers=h)).json()["url"]
    assert (await api.http.get(signed)).content == audio

    # A room file too, with a range on its own route.
    room = await RoomClient(api.server).connect()
    await room.init()
    mark = len(room.frames)
    ogg = ogg_opus_silence(300)
    file = {"name": "silence.ogg", "type": "audio/ogg", "size": len(ogg)}
    await room.send({"type": "file", "file": file | {"data": base64.b64encode(ogg).decode()}})
    sent = await room.wait_for(lambda f: f.get("type") == "message" and "file" in f, after=mark)
    furl = sent["file"]["url"]
    async with httpx.AsyncClient(base_url=api.server.base_url) as http:
        whole = await http.get(furl)
        assert whole.status_code == 200 and whole.content == ogg
        ranged = await http.get(furl, headers={"Range": "bytes=28-"})
        assert ranged.status_code == 206 and ranged.content == ogg[28:]
    assert (await s3.keys(bucket))[PREFIX + furl.rsplit("/", 1)[-1]] == ogg
    on_disk = [p for p in (api.server.data_dir / "blobs").rglob("*") if p.is_file()]
    assert on_disk == []
    await room.close()
    await close_all(ca, cb)


@pytest.fixture
def aws_env() -> Iterator[None]:
    """The standard credential variables, as an in-process node reads them."""
    saved = {k: os.environ.get(k) for k in CREDENTIALS}
    os.environ.update(CREDENTIALS)
    yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


async def test_collector_deletes_unreferenced_blobs_from_the_bucket(
    tmp_path: Path,
    moto: MotoServer,  # noqa: F811
    aws_env: None,
) -> None:
    bucket = new_bucket()
    await moto.create_bucket(bucket)
    clock = ManualClock()
    settings = Settings(
        data_dir=tmp_path,  # its own SQLite: the collector scans the whole database
        argon2_time_cost=1,
        argon2_memory_kib=8192,
        registration="open",
        chat_events_relay=False,
        blob_backend="s3",
        s3_endpoint=moto.endpoint,
        s3_bucket=bucket,
        s3_addressing_style="path",
        simplechat_history=1,
    )
    n = Node(settings, clock=clock)
    await n.start()
    try:
        a_id, _ = await n.accounts.register("alice", "correct horse battery")
        b_id, _ = await n.accounts.register("bob", "correct horse battery")
        a = Caller(a_id, "d-a")
        cid, _ = await n.conversations.open_direct(a, b_id)
        wav = wav_chirp(100)
        b64 = base64.b64encode(wav).decode()
        live = await n.voice.send(a, cid, b64, 100, "audio/wav", "v1")
        assert live.status == "accepted"
        [live_blob] = await n.stores.blobs.created_before("voice", 2**62, "", 10)
        orphan = await n.blobs.put_checked(a_id, "voice", "voice.wav", "audio/wav", wav)
        joined = await n.rooms.join("h-carol", "carol", None, "c1")
        await n.rooms.send_file(joined, "a.txt", "text/plain", 3, "YWJj", "s1")
        await n.rooms.send_text(joined, "pushes the file out of a 1-message history", "s1")
        [room_file] = await n.stores.blobs.created_before("room", 2**62, "", 10)
        keys = await moto.keys(bucket)
        assert set(keys) == {PREFIX + b for b in (live_blob, orphan.id, room_file)}

        assert await n.collect_blobs() == 0  # the grace period
        clock.now = T0 + ORPHAN_AFTER_MS + 1
        assert await n.collect_blobs() == 2
        assert set(await moto.keys(bucket)) == {PREFIX + live_blob}
        for gone in (orphan.id, room_file):
            with pytest.raises(NotFound):
                await n.blobs.open(gone)
        assert (await read_all(n.blobs, live_blob))[1] == wav
    finally:
        await n.close()


def test_a_missing_bucket_stops_the_node_at_start(
    tmp_path: Path,
    moto: MotoServer,  # noqa: F811
) -> None:
    server = ServerProcess(tmp_path / "nobucket", extra_env=moto.env("no-such-" + new_bucket()))
    with pytest.raises(RuntimeError, match="did not start"):
        server.start()
    assert "is not reachable" in server.log_path.read_text()
    assert CREDENTIALS["AWS_SECRET_ACCESS_KEY"] not in server.log_path.read_text()


@pytest.fixture
def two_nodes_s3(
    tmp_path: Path,
    pg_url: str,
    jetstream_url: str,
    moto: MotoServer,  # noqa: F811
) -> Iterator[tuple[list[ServerProcess], str]]:
    import asyncio

    bucket = new_bucket()
    asyncio.run(moto.create_bucket(bucket))
    env = {**moto.env(bucket), "HUBBUB_NATS_PREFIX": "hubbub_s3_" + bucket[-8:]}
    nodes = [
        ServerProcess(
            tmp_path / f"n{i}",
            database_url=pg_url,
            nats_url=jetstream_url,
            extra_env={**env, "HUBBUB_NODE_ID": f"s3n{i}"},
        ).start()
        for i in range(2)
    ]
    yield nodes, bucket
    for node in nodes:
        node.stop()


async def test_every_node_serves_every_blob_from_one_bucket(
    two_nodes_s3: tuple[list[ServerProcess], str],
) -> None:
    (n0, n1), _bucket = two_nodes_s3
    api0, api1 = Api(n0), Api(n1)
    a, b = await api0.user(2)
    did = await api0.direct(a[1], b[0])
    ca = await Client(n0, a[0], a[1], "a0").connect()
    cb = await Client(n1, b[0], b[1], "b1").connect()
    audio = ogg_opus_silence(400)
    mid = (await send(ca, voice(did, audio, "audio/ogg", duration_ms=400)))["message_id"]
    [ev] = await cb.events("VoiceMessageReceived", message_id=mid)
    got = await api1.http.get(ev["data"]["audio_url"], headers=auth(b[1]))
    assert got.status_code == 200 and got.content == audio
    await close_all(ca, cb)
    await api0.aclose()
    await api1.aclose()
