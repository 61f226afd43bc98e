"""Signed blob URLs on a real node (SQLite, in-process) with a controlled clock:
a URL works until its expiry second and is refused after it, the signing
key is stored once and shared by a second node on the same database,
orphaned audio is collected after its grace period (and live audio never),
and the format checks refuse audio that is not what it claims."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from hubbub.config import Settings
from hubbub.core.blobs import read_all
from hubbub.core.context import Caller
from hubbub.core.ports.blobs import BlobMeta
from hubbub.core.voice import ORPHAN_AFTER_MS, sniff
from hubbub.errors import Forbidden, NotFound
from hubbub.ids import new_id
from hubbub.runtime import Node
from tests.audio import ogg_opus_silence, wav_chirp
from tests.core.test_accounts import T0, ManualClock


def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        argon2_time_cost=1,
        argon2_memory_kib=64,
        registration="open",
        blob_url_ttl_s=60,
        chat_events_relay=False,
        simplechat=False,
    )


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[tuple[Node, ManualClock]]:
    clock = ManualClock()
    n = Node(settings(tmp_path), clock=clock)
    await n.start()
    yield n, clock
    await n.close()


async def voice_note(n: Node) -> tuple[Caller, Caller, str, bytes]:
    a_id, _ = await n.accounts.register("alice", "correct horse battery")
    b_id, _ = await n.accounts.register("bob", "correct horse battery")
    a, b = Caller(a_id, "d-a"), Caller(b_id, "d-b")
    cid, _ = await n.conversations.open_direct(a, b_id)
    wav = wav_chirp(100)
    r = await n.voice.send(a, cid, base64.b64encode(wav).decode(), 100, "audio/wav", "v1")
    assert r.status == "accepted" and r.message_id
    return a, b, cid, wav


async def body(n: Node, meta: BlobMeta) -> bytes:
    return b"".join([c async for c in await n.blobs.stream(meta, 0, meta.size)])


def parts(url: str) -> tuple[str, str, str, str]:
    u = urlsplit(url)
    q = {k: v[0] for k, v in parse_qs(u.query).items()}
    return u.path.rsplit("/", 1)[-1], q["u"], q["exp"], q["sig"]


async def test_signed_url_expires_by_the_clock(node: tuple[Node, ManualClock]) -> None:
    n, clock = node
    _a, b, _cid, wav = await voice_note(n)
    blob_id = await _only_blob(n)
    signed = await n.blob_access.mint(b, blob_id)
    assert signed.expires_at_ms == T0 + 60_000
    _, u, exp, sig = parts(signed.url)
    assert await body(n, await n.blob_access.open_signed(blob_id, u, exp, sig)) == wav
    clock.now = T0 + 60_000  # the last valid millisecond
    assert await body(n, await n.blob_access.open_signed(blob_id, u, exp, sig)) == wav
    clock.now = T0 + 60_001
    with pytest.raises(Forbidden):
        await n.blob_access.open_signed(blob_id, u, exp, sig)
    # A fresh one works again, and only for members.
    fresh = await n.blob_access.mint(b, blob_id)
    assert await body(n, await n.blob_access.open_signed(*parts(fresh.url))) == wav
    with pytest.raises(NotFound):
        await n.blob_access.mint(Caller("00000000-0000-0000-0000-000000000000", "x"), blob_id)


async def test_signing_key_is_shared_through_the_database(
    node: tuple[Node, ManualClock], tmp_path: Path
) -> None:
    n, clock = node
    _a, b, _cid, wav = await voice_note(n)
    blob_id = await _only_blob(n)
    signed = await n.blob_access.mint(b, blob_id)
    other = Node(settings(tmp_path), clock=clock)  # a second node, same database and disk
    await other.start()
    try:
        assert await body(other, await other.blob_access.open_signed(*parts(signed.url))) == wav
    finally:
        await other.close()


async def _only_blob(n: Node) -> str:
    from sqlalchemy import select

    from hubbub.store.sql import tables as t

    async with n.stores.blobs.engine.connect() as conn:
        rows = (await conn.execute(select(t.blob_refs.c.blob_id))).all()
    assert len(rows) == 1
    return str(rows[0][0])


def test_sniff_knows_each_format() -> None:
    assert sniff("audio/wav", wav_chirp(20))
    assert sniff("audio/ogg", ogg_opus_silence(100))
    assert sniff("audio/webm", b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01webm")
    assert sniff("audio/mp4", b"\0\0\0\x20ftypM4A \0\0\0\0")
    assert sniff("audio/mpeg", b"ID3\x04\0\0\0\0\0\0")
    assert sniff("audio/mpeg", b"\xff\xfb\x90\x64\0\0")
    assert not sniff("audio/mpeg", b"\xff\xe1\0\0")  # sync bits but a reserved layer
    assert not sniff("audio/ogg", wav_chirp(20))
    assert not sniff("audio/wav", b"RIFF\0\0\0\0AVI ")
    assert not sniff("audio/mp4", b"ftyp" + b"\0" * 8)
    assert not sniff("video/mp4", b"\0\0\0\x20ftypisom")


async def test_orphaned_audio_is_collected_and_live_audio_kept(
    node: tuple[Node, ManualClock], tmp_path: Path
) -> None:
    n, clock = node
    _a, b, cid, wav = await voice_note(n)
    live = await _only_blob(n)
    no_message = await n.blobs.put_checked(b.user_id, "voice", "v.wav", "audio/wav", wav)
    await n.stores.blobs.put_ref(no_message.id, cid, new_id(), clock.now)  # never committed
    no_ref = await n.blobs.put_checked(b.user_id, "voice", "v.wav", "audio/wav", wav)
    room_file = await n.blobs.put_checked(b.user_id, "room", "f.wav", "audio/wav", wav)
    files = sorted(p.name for p in (tmp_path / "blobs").rglob("*") if p.is_file())
    assert len(files) == 4
    assert await n.voice.collect_orphans() == 0  # within the grace period
    clock.now = T0 + ORPHAN_AFTER_MS + 1
    assert await n.voice.collect_orphans() == 2
    assert await n.voice.collect_orphans() == 0
    for gone in (no_message.id, no_ref.id):
        assert await n.blobs.store.stat(gone) is None
        assert await n.stores.blobs.ref_conversations(gone) == []
    assert await body(n, await n.blob_access.open_for(b, live)) == wav
    assert (await read_all(n.blobs, room_file.id))[1] == wav  # another use's blobs are not voice's
    left = sorted(p.name for p in (tmp_path / "blobs").rglob("*") if p.is_file())
    assert left == sorted([live, room_file.id])


def test_limits_out_of_range_refuse_to_start(tmp_path: Path) -> None:
    for bad in ({"voice_max_bytes": 0}, {"voice_max_duration_ms": 0}, {"blob_url_ttl_s": 0.5}):
        s = settings(tmp_path)
        with pytest.raises(ValueError):
            Node(Settings(**{**s.__dict__, **bad}))
