"""Real audio made at test time with the standard library only (CI installs nothing).

`wav_chirp` is PCM speech-band audio (a rising tone with a syllable-like
envelope) written by `wave`; `ogg_opus_silence` is a valid Ogg/Opus stream
(RFC 7845: `OpusHead`, `OpusTags`, then audio pages with correct CRCs and
granule positions) whose packets are 20 ms Opus DTX frames, i.e. silence.
"""

from __future__ import annotations

import io
import math
import struct
import wave

__all__ = ["ogg_opus_silence", "wav_chirp"]


def wav_chirp(ms: int = 600, rate: int = 16_000) -> bytes:
    n = rate * ms // 1000
    frames = bytearray()
    for i in range(n):
        t = i / rate
        freq = 180 + 400 * t  # a voice-like rising pitch
        envelope = math.sin(math.pi * (t * 4 % 1.0)) ** 2  # four "syllables" a second
        frames += struct.pack("<h", int(12_000 * envelope * math.sin(2 * math.pi * freq * t)))
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    return buf.getvalue()


def _crc_table() -> list[int]:
    table = []
    for i in range(256):
        r = i << 24
        for _ in range(8):
            r = ((r << 1) ^ 0x04C11DB7) if r & 0x80000000 else r << 1
        table.append(r & 0xFFFFFFFF)
    return table


_CRC = _crc_table()


def _ogg_crc(data: bytes) -> int:
    crc = 0
    for b in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _CRC[((crc >> 24) & 0xFF) ^ b]
    return crc


def _page(packets: list[bytes], flags: int, granule: int, serial: int, seq: int) -> bytes:
    lacing = bytearray()
    for p in packets:
        lacing += b"\xff" * (len(p) // 255) + bytes([len(p) % 255])
    header = struct.pack("<4sBBqIIIB", b"OggS", 0, flags, granule, serial, seq, 0, len(lacing))
    page = bytearray(header + lacing + b"".join(packets))
    struct.pack_into("<I", page, 22, _ogg_crc(bytes(page)))
    return bytes(page)


def ogg_opus_silence(ms: int = 1000, serial: int = 0x5EED) -> bytes:
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, 312, 48_000, 0, 0)
    vendor = b"hubbub tests"
    tags = b"OpusTags" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", 0)
    out = [_page([head], 0x02, 0, serial, 0), _page([tags], 0, 0, serial, 1)]
    frames = ms // 20
    # TOC 0xF8: CELT-only fullband 20 ms, one frame; no frame bytes = DTX (silence).
    packets = [b"\xf8"] * frames
    seq, granule = 2, 312
    for start in range(0, frames, 50):
        chunk = packets[start : start + 50]
        granule += 960 * len(chunk)
        last = start + 50 >= frames
        out.append(_page(chunk, 0x04 if last else 0, granule, serial, seq))
        seq += 1
    return b"".join(out)
