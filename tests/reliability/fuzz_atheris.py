"""Coverage-guided fuzzing of the `/ws` frame decoding with atheris (libFuzzer).

Not collected by pytest (no `test_` prefix); run it by hand:

    .venv/bin/python -m tests.reliability.fuzz_atheris -runs=1000000 [corpus_dir ...]

Every input goes, as a binary frame and (when it is UTF-8) as a text frame,
through the pure decoding steps of `Connection.handle`
(`test_fuzz.decode_like_handle`: envelope decoder, `_peek_id`, `resolve`, the
channel's `client_type` decoder). Anything but a decoded Struct or one of the
exceptions `handle` turns into a typed error is a crash, which libFuzzer
reports with the input that caused it. hubbub's modules are instrumented, so
the fuzzer steers towards new branches of `resolve`, `_peek_id` and
`validation_error`. Without a corpus directory it starts from one valid frame
per served channel.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris
import msgspec

with atheris.instrument_imports(include=["hubbub", "tests.reliability.test_fuzz"]):
    from hubbub.protocols.channels.schema import CHANNELS
    from tests.reliability.test_fuzz import decode_like_handle

SEEDS = [
    {"channel": "chat/messages/ack", "type": "SendChatMessageWithClientId",
     "data": {"conversation_id": "c", "content": "hi", "client_message_id": "m1"}},
    {"channel": "chat/messages", "type": "SendEncryptedMessage",
     "data": {"conversation_id": "c", "ciphertext": "x", "nonce": "n", "algorithm": "a",
              "key_id": "k"}},
    {"channel": "chat/acks", "type": "SendEncryptedAck",
     "data": {"message_id": "m", "conversation_id": "c", "status": "read"}},
    {"channel": "chat/groups", "type": "CreateGroup",
     "data": {"name": "g", "member_ids": ["u"], "client_request_id": "r"}},
    {"channel": "sync/request", "type": "SyncRequest", "data": {"since_sequence": 0}},
    {"channel": "sync/changes", "type": "SyncAck", "data": {"sync_id": "s", "sequence": 1}},
    {"channel": "call/signal", "type": "SendCallSignal",
     "data": {"call_id": "c", "to_user_id": "u", "type": "offer", "payload": {"sdp": "v=0"}}},
    {"channel": "broadcast/news", "type": "Subscribe"},
    {"channel": "call/groups/abc/signal", "type": "SendSignal", "data": {}},
    {"type": "Authenticate", "data": {"token": "t"}},
]  # fmt: skip


def one_input(data: bytes) -> None:
    decode_like_handle(data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return  # a text frame is always valid UTF-8
    decode_like_handle(text)


def main() -> None:
    args = list(sys.argv)
    work = Path(tempfile.mkdtemp(prefix="hubbub-fuzz-"))
    if not any(Path(a).is_dir() for a in args[1:]):
        (work / "corpus").mkdir()
        for i, frame in enumerate(SEEDS):
            seed = msgspec.json.encode({"id": f"r{i}", **frame})
            (work / "corpus" / f"seed{i}.json").write_bytes(seed)
        args.append(str(work / "corpus"))
    if not any(a.startswith("-dict=") for a in args):
        # libFuzzer mutates bytes; JSON tokens and the protocol's names help it.
        words = {'"id"', '"channel"', '"type"', '"data"', "null", "true", "1e999", '"\\u0000"'}
        words |= {f'"{name}"' for name in CHANNELS}
        words |= {f'"{d.client_message}"' for d in CHANNELS.values() if d.client_message}
        lines = [f"{msgspec.json.encode(w).decode()}" for w in sorted(words)]
        (work / "json.dict").write_text("\n".join(lines) + "\n")
        args.append(f"-dict={work / 'json.dict'}")
    atheris.Setup(args, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
