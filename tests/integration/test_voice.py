"""Voice notes over `/ws` and their audio over REST: real audio (a WAV chirp
and an Ogg/Opus stream made at test time), several members and devices, a
stranger, retries, delivery receipts, sync after reconnect, signed URLs."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.audio import ogg_opus_silence, wav_chirp
from tests.integration.test_messaging import close_all, group_of, text
from tests.integration.test_rich_content import err, quiet
from tests.support import Api, Client, ServerProcess, full_resume

MAX_BYTES = 180 * 1024  # the default --voice-max-bytes


def voice(cid: str, audio: bytes, mime: str = "audio/wav", **extra: Any) -> dict[str, Any]:
    return {
        "conversation_id": cid,
        "audio_payload": base64.b64encode(audio).decode(),
        "duration_ms": 600,
        "mime_type": mime,
        "client_message_id": "v-" + secrets.token_hex(6),
        **extra,
    }


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def send(client: Client, data: dict[str, Any]) -> dict[str, Any]:
    reply = await client.ok("chat/voice", "SendVoiceMessage", data)
    assert reply["channel"] == "chat/voice/ack" and reply["type"] == "VoiceMessageAck", reply
    assert reply["data"]["client_message_id"] == data["client_message_id"]
    return dict(reply["data"])


def blob_files(api: Api) -> list[Path]:
    root = api.server.data_dir / "blobs"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


async def test_voice_note_reaches_members_and_downloads_byte_for_byte(api: Api) -> None:
    users, (ca, cb, cc), gid = await group_of(api, 3)
    cb2 = await api.client(users[1], "b-laptop")
    stranger_user = (await api.user(1))[0]
    stranger = await api.client(stranger_user)
    wav, ogg = wav_chirp(), ogg_opus_silence()

    ack = await send(ca, voice(gid, wav))
    assert ack["status"] == "accepted" and ack["reason"] is None and ack["message_id"]
    mid = ack["message_id"]
    got = {}
    for client in (cb, cc, cb2):
        [ev] = await client.events("VoiceMessageReceived", message_id=mid)
        assert ev["channel"] == "chat/voice" and ev["seq"]
        d = ev["data"]
        assert (d["conversation_id"], d["sender_id"]) == (gid, users[0][0])
        assert (d["duration_ms"], d["mime_type"]) == (600, "audio/wav")
        assert d["audio_url"].startswith("/v1/blobs/") and "?" not in d["audio_url"]
        got[id(client)] = d["audio_url"]
    url = got[id(cb)]
    assert len(set(got.values())) == 1
    assert not await quiet(ca, "VoiceMessageReceived", message_id=mid)  # the sender has the ack

    for token in (users[1][1], users[2][1], users[0][1]):
        r = await api.http.get(url, headers=auth(token))
        assert r.status_code == 200, r.text
        assert r.content == wav
        assert r.headers["content-type"] == "audio/wav"
        assert r.headers["content-length"] == str(len(wav))
        assert r.headers["x-content-type-options"] == "nosniff"

    # A stranger and an unknown id: the same 404; no header at all: 401.
    refused = await api.http.get(url, headers=auth(stranger_user[1]))
    unknown = await api.http.get("/v1/blobs/" + "A" * 32, headers=auth(stranger_user[1]))
    assert refused.status_code == unknown.status_code == 404
    assert refused.json() == unknown.json()
    assert (await api.http.get(url)).status_code == 401
    assert not await quiet(stranger, "VoiceMessageReceived")

    # Byte ranges, as <audio> asks for them when seeking.
    h = auth(users[1][1])
    part = await api.http.get(url, headers=h | {"Range": "bytes=10-109"})
    assert part.status_code == 206 and part.content == wav[10:110]
    assert part.headers["content-range"] == f"bytes 10-109/{len(wav)}"
    tail = await api.http.get(url, headers=h | {"Range": "bytes=-16"})
    assert tail.status_code == 206 and tail.content == wav[-16:]
    rest = await api.http.get(url, headers=h | {"Range": "bytes=100-"})
    assert rest.status_code == 206 and rest.content == wav[100:]
    beyond = await api.http.get(url, headers=h | {"Range": f"bytes={len(wav)}-"})
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{len(wav)}"
    refused_range = await api.http.get(url, headers=auth(stranger_user[1]) | {"Range": "bytes=0-9"})
    assert refused_range.status_code == 404

    # Ogg/Opus (with codec parameters in the type) round-trips too.
    ack = await send(cb, voice(gid, ogg, "audio/ogg; codecs=opus", duration_ms=1000))
    [ev] = await cc.events("VoiceMessageReceived", message_id=ack["message_id"])
    assert ev["data"]["mime_type"] == "audio/ogg"
    r = await api.http.get(ev["data"]["audio_url"], headers=auth(users[2][1]))
    assert r.content == ogg and r.headers["content-type"] == "audio/ogg"

    # A member who left may no longer download.
    await cc.ok("group/membership", "LeaveGroup", {"request_id": "l1", "group_id": gid})
    assert (await api.http.get(url, headers=auth(users[2][1]))).status_code == 404
    await close_all(ca, cb, cc, cb2, stranger)


async def test_content_problems_are_rejected_acks_and_strangers_not_found(api: Api) -> None:
    _users, (ca, cb), gid = await group_of(api, 2)
    stranger = await api.client((await api.user(1))[0])
    wav = wav_chirp(200)
    b64 = base64.b64encode(wav).decode()
    cases = [
        (voice(gid, wav, "video/mp4"), "unsupported_type"),
        (voice(gid, wav, "text/plain"), "unsupported_type"),
        (voice(gid, b"this is not audio at all, just text", "audio/ogg"), "format_mismatch"),
        (voice(gid, wav, "audio/ogg"), "format_mismatch"),  # a WAV claimed to be Ogg
        (voice(gid, ogg_opus_silence(), "audio/mpeg"), "format_mismatch"),
        (voice(gid, wav) | {"audio_payload": b64[:-2] + "!!"}, "invalid_base64"),
        (voice(gid, wav) | {"audio_payload": " " + b64}, "invalid_base64"),
        (voice(gid, wav) | {"audio_payload": ""}, "empty"),
        (voice(gid, b"RIFF" + b"\0" * 4 + b"WAVE" + b"\0" * MAX_BYTES), "too_large"),
        (voice(gid, wav, duration_ms=0), "invalid_duration"),
        (voice(gid, wav, duration_ms=15 * 60 * 1000 + 1), "invalid_duration"),
    ]
    for data, reason in cases:
        ack = await send(ca, data)
        assert ack["status"] == "rejected" and ack["message_id"] is None, (reason, ack)
        assert ack["reason"].startswith(reason + ":"), (reason, ack)
    assert not await quiet(cb, "VoiceMessageReceived")

    # Just at the limit is accepted.
    edge = b"RIFF" + b"\0" * 4 + b"WAVE" + b"\0" * (MAX_BYTES - 12)
    assert (await send(ca, voice(gid, edge)))["status"] == "accepted"

    # Not a member: the same not_found as a conversation that does not exist.
    for cid in (gid, "00000000-0000-0000-0000-000000000000"):
        code, _ = err(await stranger.request("chat/voice", "SendVoiceMessage", voice(cid, wav)))
        assert code == "not_found"
    long_id = voice(gid, wav, client_message_id="x" * 129)
    reply = await ca.request("chat/voice", "SendVoiceMessage", long_id)
    assert err(reply) == ("validation_failed", "$.data.client_message_id")
    missing = {k: v for k, v in voice(gid, wav).items() if k != "mime_type"}
    assert err(await ca.request("chat/voice", "SendVoiceMessage", missing))[0] == (
        "validation_failed"
    )
    await close_all(ca, cb, stranger)


async def test_retry_returns_the_first_message_and_keeps_one_copy(api: Api) -> None:
    users, (ca, cb), gid = await group_of(api, 2)
    wav = wav_chirp(300)
    data = voice(gid, wav)
    first = await send(ca, data)
    [ev] = await cb.events("VoiceMessageReceived", message_id=first["message_id"])
    files = blob_files(api)
    again = await send(ca, data)
    assert again["status"] == "accepted"
    assert (again["message_id"], again["timestamp"]) == (first["message_id"], first["timestamp"])
    assert len(await quiet(cb, "VoiceMessageReceived", conversation_id=gid)) == 1
    assert blob_files(api) == files  # the retry's copy was deleted again (filesystem store)
    r = await api.http.get(ev["data"]["audio_url"], headers=auth(users[1][1]))
    assert r.content == wav

    # The same client id in another conversation is refused, and stores nothing.
    other = await api.direct(users[0][1], users[1][0])
    reply = await ca.request("chat/voice", "SendVoiceMessage", data | {"conversation_id": other})
    assert err(reply) == ("validation_failed", "$.data.client_message_id")
    assert blob_files(api) == files
    await close_all(ca, cb)


async def test_delivery_receipt_reaches_the_sender(api: Api) -> None:
    users, (ca, cb, cc), gid = await group_of(api, 3)
    ca2 = await api.client(users[0], "a-tablet")
    stranger = await api.client((await api.user(1))[0])
    mid = (await send(ca, voice(gid, wav_chirp(200))))["message_id"]
    await cb.events("VoiceMessageReceived", message_id=mid)

    delivered = {"message_id": mid, "conversation_id": gid, "received_at": "2026-12-03T10:00:00Z"}
    reply = await cb.ok("chat/voice/ack", "VoiceMessageDelivered", delivered)
    assert reply["type"] == "VoiceMessageAck" and reply["data"]["status"] == "delivered"
    assert reply["data"]["changed"] is True
    for client in (ca, ca2):
        [note] = await client.events("VoiceMessageAck", message_id=mid, status="delivered")
        assert note["channel"] == "chat/voice/ack" and note["seq"]
        assert note["data"]["user_id"] == users[1][0]
        assert note["data"]["conversation_id"] == gid
        assert note["data"]["received_at"] == "2026-12-03T10:00:00Z"
    again = await cb.ok("chat/voice/ack", "VoiceMessageDelivered", delivered)
    assert again["data"]["changed"] is False
    assert len(await quiet(ca, "VoiceMessageAck", message_id=mid, status="delivered")) == 1
    assert not await quiet(cc, "VoiceMessageAck", message_id=mid)  # only the sender hears

    # Refusals: a stranger (not_found, like an unknown id), the sender itself,
    # a message that is not a voice note, a bad time.
    code, _ = err(await stranger.request("chat/voice/ack", "VoiceMessageDelivered", delivered))
    assert code == "not_found"
    unknown = delivered | {"message_id": "00000000-0000-0000-0000-000000000000"}
    assert err(await cb.request("chat/voice/ack", "VoiceMessageDelivered", unknown))[0] == (
        "not_found"
    )
    own = await ca.request("chat/voice/ack", "VoiceMessageDelivered", delivered)
    assert err(own) == ("validation_failed", "$.data.message_id")
    sent = await ca.ok("chat/messages/ack", "SendChatMessageWithClientId", text(gid, "hi"))
    as_voice = delivered | {"message_id": sent["data"]["message_id"]}
    assert err(await cb.request("chat/voice/ack", "VoiceMessageDelivered", as_voice))[0] == (
        "not_found"
    )
    bad_time = delivered | {"received_at": "yesterday"}
    reply = await cc.request("chat/voice/ack", "VoiceMessageDelivered", bad_time)
    assert err(reply) == ("validation_failed", "$.data.received_at")
    await close_all(ca, ca2, cb, cc, stranger)


async def test_sync_after_reconnect_carries_voice_notes_and_receipts(api: Api) -> None:
    users, (ca, cb), gid = await group_of(api, 2)
    await cb.close()
    wav = wav_chirp(250)
    mid = (await send(ca, voice(gid, wav, duration_ms=250)))["message_id"]
    await ca.close()

    cb = await api.client(users[1])
    changes = await full_resume(cb)
    [ev] = [c for c in changes if c["type"] == "VoiceMessageReceived"]
    assert ev["channel"] == "chat/voice" and ev["data"]["message_id"] == mid
    assert (ev["data"]["duration_ms"], ev["data"]["sender_id"]) == (250, users[0][0])
    r = await api.http.get(ev["data"]["audio_url"], headers=auth(users[1][1]))
    assert r.content == wav
    receipt = {"message_id": mid, "conversation_id": gid}
    await cb.ok("chat/voice/ack", "VoiceMessageDelivered", receipt)

    ca = await api.client(users[0])
    mine = await full_resume(ca)
    acks = [c for c in mine if c["type"] == "VoiceMessageAck"]
    assert [(a["data"]["message_id"], a["data"]["status"]) for a in acks] == [(mid, "delivered")]
    await close_all(ca, cb)


async def test_signed_url_works_without_header_and_refuses_tampering(api: Api) -> None:
    users, (ca, cb), gid = await group_of(api, 2)
    stranger_user = (await api.user(1))[0]
    ogg = ogg_opus_silence(500)
    mid = (await send(ca, voice(gid, ogg, "audio/ogg", duration_ms=500)))["message_id"]
    [ev] = await cb.events("VoiceMessageReceived", message_id=mid)
    path = ev["data"]["audio_url"]

    r = await api.http.post(path + "/url", headers=auth(users[1][1]))
    assert r.status_code == 200, r.text
    signed = r.json()["url"]
    assert signed.startswith(path + "?") and r.json()["expires_at"]
    got = await api.http.get(signed)  # no header: what an <audio src> does
    assert got.status_code == 200 and got.content == ogg
    assert got.headers["content-type"] == "audio/ogg"

    base, query = signed.split("?", 1)
    params = dict(p.split("=", 1) for p in query.split("&"))
    sig = params["sig"]
    flipped = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    tampered = [
        params | {"sig": flipped},
        params | {"exp": str(int(params["exp"]) + 3600)},  # a longer life
        params | {"u": stranger_user[0]},  # someone else's
        params | {"sig": "zz"},
        {k: v for k, v in params.items() if k != "sig"},
    ]
    for bad in tampered:
        q = "&".join(f"{k}={v}" for k, v in bad.items())
        assert (await api.http.get(f"{base}?{q}")).status_code == 403, bad
    other_blob = "/v1/blobs/" + "B" * 32 + "?" + query  # a valid signature, another id
    assert (await api.http.get(other_blob)).status_code == 403

    # Minting is for members only; a stranger and an unknown id get the same 404.
    a = await api.http.post(path + "/url", headers=auth(stranger_user[1]))
    b = await api.http.post("/v1/blobs/" + "C" * 32 + "/url", headers=auth(stranger_user[1]))
    assert a.status_code == b.status_code == 404
    assert (await api.http.post(path + "/url")).status_code == 401

    # The URL is bound to the member: once they leave, it stops working.
    await cb.ok("group/membership", "LeaveGroup", {"request_id": "l1", "group_id": gid})
    assert (await api.http.get(signed)).status_code == 404
    await close_all(ca, cb)


async def test_forwarded_voice_note_shares_its_audio_with_the_target(api: Api) -> None:
    users, (ca, cb), gid = await group_of(api, 2)
    outsider = (await api.user(1))[0]
    co = await api.client(outsider)
    wav = wav_chirp(150)
    mid = (await send(ca, voice(gid, wav, duration_ms=150)))["message_id"]
    [ev] = await cb.events("VoiceMessageReceived", message_id=mid)
    url = ev["data"]["audio_url"]
    assert (await api.http.get(url, headers=auth(outsider[1]))).status_code == 404

    did = await api.direct(users[1][1], outsider[0])
    fwd = {"original_message_id": mid, "from_conversation_id": gid, "to_conversation_id": did}
    reply = await cb.ok("chat/forward", "ForwardMessage", fwd)
    assert reply["data"]["status"] == "forwarded", reply
    copy_id = reply["data"]["forward_id"]
    [copy] = await co.events("VoiceMessageReceived", message_id=copy_id)
    d = copy["data"]
    assert d["forwarded"] is True and d["conversation_id"] == did
    assert (d["audio_url"], d["duration_ms"], d["mime_type"]) == (url, 150, "audio/wav")
    await co.events("MessageForwarded", forward_id=copy_id)
    got = await api.http.get(url, headers=auth(outsider[1]))
    assert got.status_code == 200 and got.content == wav
    again = await cb.ok("chat/forward", "ForwardMessage", fwd)  # a retry: the first forward
    assert again["data"]["forward_id"] == copy_id
    await close_all(ca, cb, co)


@pytest.fixture
def two_nodes(tmp_path: Path, pg_url: str, jetstream_url: str) -> Iterator[list[ServerProcess]]:
    env = {"HUBBUB_NATS_PREFIX": "hubbub_v_" + secrets.token_hex(4)}
    nodes = [
        ServerProcess(
            tmp_path / f"n{i}",
            database_url=pg_url,
            nats_url=jetstream_url,
            extra_env={**env, "HUBBUB_NODE_ID": f"v{i}"},
        ).start()
        for i in range(2)
    ]
    yield nodes
    for n in nodes:
        n.stop()


async def test_every_node_serves_every_voice_note_and_signed_url(
    two_nodes: list[ServerProcess],
) -> None:
    """PostgreSQL + NATS: sent on node 0, received, downloaded and signed on node 1,
    the signed URL fetched from node 0 (blobs in the database, one shared key)."""
    n0, n1 = two_nodes
    api0, api1 = Api(n0), Api(n1)
    a, b = await api0.user(2)
    did = await api0.direct(a[1], b[0])
    ca = await Client(n0, a[0], a[1], "a0").connect()
    cb = await Client(n1, b[0], b[1], "b1").connect()
    ogg = ogg_opus_silence(400)
    mid = (await send(ca, voice(did, ogg, "audio/ogg", duration_ms=400)))["message_id"]
    [ev] = await cb.events("VoiceMessageReceived", message_id=mid)
    url = ev["data"]["audio_url"]
    got = await api1.http.get(url, headers=auth(b[1]))
    assert got.status_code == 200 and got.content == ogg
    signed = (await api1.http.post(url + "/url", headers=auth(b[1]))).json()["url"]
    assert (await api0.http.get(signed)).content == ogg
    await cb.ok(
        "chat/voice/ack", "VoiceMessageDelivered", {"message_id": mid, "conversation_id": did}
    )
    await ca.events("VoiceMessageAck", message_id=mid, status="delivered")
    await close_all(ca, cb)
    await api0.aclose()
    await api1.aclose()
