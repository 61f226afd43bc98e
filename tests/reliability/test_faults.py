"""Network faults between hubbub and its services, under steady load.

A `FaultProxy` sits between the server and PostgreSQL (first test) or NATS
(second test). While senders keep sending (group + direct chats, client ids,
in order, retrying on `Error`) and a recipient device stays connected, each
fault is injected for a couple of seconds and then healed:

- latency (every byte delayed), stall (nothing forwarded, nothing closed),
  reset (every connection RST, new ones refused), blackhole (bytes dropped);
- PostgreSQL only, commit_lost: the reply to one COMMIT is dropped and its
  connection cut, so the transaction committed but the server cannot know.
  (This found a bug: the retry, or the writer's replay, found the message and
  acked it, but it had never been pushed; a connected device, which resumes
  from the highest `seq` it saw, never got it. See `core/messages.py`.)

Asserted, per fault: the server recovers (a message sent after healing is
acked within a bounded wait; the time is the figure), `/readyz` answers 503
while the database (or the bus) is reset or blackholed and 200 again after;
with NATS down messages are still acked (the database is the truth). At the
end: no acked message is lost or duplicated in the recipient's full resume,
per-sender order is kept, and the live device, which resumes from the last
`seq` it saw whenever it is disconnected, has every acked message too.
"""

from __future__ import annotations

import asyncio
import secrets
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

from tests.reliability.conftest import Figure, scale
from tests.reliability.faultproxy import FaultProxy
from tests.reliability.test_crash import (
    FAST,
    FeedCheck,
    Follower,
    Load,
    Sender,
    check_feed,
    setup_chat,
)
from tests.support import Api, Client, ServerProcess, full_resume

FAULTS = ("latency", "stall", "reset", "blackhole")
# PostgreSQL only: the reply to a COMMIT is lost (the link dies right after the
# commit), so the server cannot know its write committed.
COMMIT_LOST = "commit_lost"
DOWN = ("reset", "blackhole")  # the service is unreachable: not ready


@dataclass
class Observed:
    fault: str
    readyz: list[int] = field(default_factory=list)  # during the fault (0: no answer)
    acked_during: int = 0
    recover_s: list[float] = field(default_factory=list)  # heal -> a new message acked
    all_senders_s: list[float] = field(default_factory=list)  # heal -> every sender acked
    delivered_s: list[float] = field(default_factory=list)  # heal -> live device has the probe
    ready_s: list[float] = field(default_factory=list)  # heal -> /readyz 200


async def readyz(http: httpx.AsyncClient, base: str) -> int:
    try:
        return (await http.get(base + "/readyz", timeout=5)).status_code
    except httpx.HTTPError:
        return 0


async def apply(proxy: FaultProxy, fault: str) -> None:
    # set_mode blocks for a moment (it waits for the proxy thread): off the loop.
    if fault == "latency":
        await asyncio.to_thread(proxy.latency, 150)
    elif fault == COMMIT_LOST:
        proxy.cut_reply(b"COMMIT\x00")  # PostgreSQL's CommandComplete tag
    else:
        await asyncio.to_thread(getattr(proxy, fault))


async def inject(
    fault: str,
    proxy: FaultProxy,
    srv: ServerProcess,
    load: Load,
    probe: Sender,
    follower: Follower,
    http: httpx.AsyncClient,
    seen: Observed,
    hold_s: float,
) -> None:
    """One fault: steady load first, the fault for `hold_s`, heal, recovery."""
    await load.wait_acked(load.total_acked + 20)  # the load is flowing
    before = load.total_acked
    cuts = proxy.cuts
    await apply(proxy, fault)
    deadline = time.monotonic() + hold_s

    # The fault lasts `hold_s` (a lost commit reply: until one was cut);
    # meanwhile watch readiness (a bounded poll).
    def holding() -> bool:
        if fault == COMMIT_LOST:
            assert time.monotonic() < deadline + 30, "no COMMIT reply was cut"
            return proxy.cuts == cuts
        return time.monotonic() < deadline

    while holding():
        seen.readyz.append(await readyz(http, srv.base_url))
        await asyncio.sleep(0.2)
    seen.acked_during += load.total_acked - before
    marks = load.marks()
    healed = time.monotonic()
    await apply(proxy, "pass_")
    await load.send_one(probe, timeout=60)  # a new message, sent after healing
    seen.recover_s.append(time.monotonic() - healed)
    # ...reaches the connected recipient (pushed, or resumed after a kick).
    await follower.wait_message(probe.acked[probe.next - 1], timeout=30)
    seen.delivered_s.append(time.monotonic() - healed)
    await load.wait_each_acked(marks, timeout=60)
    seen.all_senders_s.append(time.monotonic() - healed)

    async def ready() -> None:
        while await readyz(http, srv.base_url) != 200:  # noqa: ASYNC110 - polls the server
            await asyncio.sleep(0.1)

    await asyncio.wait_for(ready(), timeout=60)
    seen.ready_s.append(time.monotonic() - healed)


async def run_faults(
    srv: ServerProcess, proxy: FaultProxy, faults: tuple[str, ...]
) -> tuple[dict[str, Observed], FeedCheck, FeedCheck, Load, Follower]:
    api = Api(srv)
    recipient, senders = await setup_chat(api, 5)
    await api.aclose()
    probe = senders.pop()  # sends only when asked: the recovery probe
    load = Load(srv, senders)
    follower = Follower(srv, recipient, "r-live", load.up)
    follower.start()
    load.start()
    await load.send_one(probe)
    observed = {f: Observed(f) for f in faults}
    async with httpx.AsyncClient() as http:
        for _ in range(scale(1, 5)):
            for fault in faults:
                await inject(
                    fault, proxy, srv, load, probe, follower, http, observed[fault], scale(2, 5)
                )
    await load.stop()
    await follower.stop()
    reader = await Client(srv, recipient[0], recipient[1], "r-full").connect()
    full = check_feed([*senders, probe], await full_resume(reader))
    await reader.close()
    live = check_feed([*senders, probe], [follower.by_seq[k] for k in sorted(follower.by_seq)])
    assert load.mismatches == [], load.mismatches
    assert (full.lost, full.duplicates, full.out_of_order, full.unexpected) == (0, 0, 0, 0), full
    assert (live.lost, live.duplicates, live.out_of_order) == (0, 0, 0), live
    assert proxy.aborted > 0 and proxy.refused + proxy.dropped_bytes > 0  # faults hit traffic
    return observed, full, live, load, follower


def summary(observed: dict[str, Observed]) -> str:
    parts = []
    for f, o in observed.items():
        parts.append(
            f"{f}: acks again after {max(o.recover_s):.2f} s (all senders "
            f"{max(o.all_senders_s):.2f} s), delivered to the live device after "
            f"{max(o.delivered_s):.2f} s, /readyz "
            f"{'/'.join(str(c) for c in sorted(set(o.readyz)))} during, 200 again after "
            f"{max(o.ready_s):.2f} s"
        )
    return "; ".join(parts)


def numbers(observed: dict[str, Observed]) -> dict[str, float]:
    out: dict[str, float] = {}
    for f, o in observed.items():
        out[f"{f}_recover_max_s"] = round(max(o.recover_s), 2)
        out[f"{f}_recover_p50_s"] = round(statistics.median(o.recover_s), 2)
        out[f"{f}_delivered_max_s"] = round(max(o.delivered_s), 2)
        out[f"{f}_ready_max_s"] = round(max(o.ready_s), 2)
    return out


def through(url: str, proxy: FaultProxy) -> str:
    """`url` with its host:port replaced by the proxy's."""
    parts = urlsplit(url)
    user = parts.netloc.rpartition("@")[0]
    netloc = (user + "@" if user else "") + f"127.0.0.1:{proxy.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def target_of(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default_port


async def test_database_faults(tmp_path: Path, pg_url: str, figure: Figure) -> None:
    with FaultProxy(target_of(pg_url, 5432)) as proxy:
        srv = ServerProcess(
            tmp_path / "data", database_url=through(pg_url, proxy), extra_env=FAST
        ).start()
        try:
            faults = (*FAULTS, COMMIT_LOST)
            observed, full, live, load, _follower = await run_faults(srv, proxy, faults)
        finally:
            srv.stop()
    for f in DOWN:
        assert 503 in observed[f].readyz, (f, observed[f].readyz)
    assert proxy.cuts == scale(1, 5)  # each commit_lost round cut one COMMIT reply
    # A failing database is a typed, retryable `unavailable`, never `internal`.
    errors = load.errors()
    assert set(errors) == {"unavailable"}, errors
    figure(
        "PostgreSQL faults",
        f"TCP proxy between hubbub and PostgreSQL; under load ({len(load.senders)} senders), "
        f"each fault for {scale(2, 5)} s then healed, {scale(1, 5)} round(s); "
        "commit_lost = one COMMIT's reply dropped and its connection cut",
        f"acked lost: {full.lost} ({full.acked} acked), duplicates: {full.duplicates}, "
        f"missed by the live device: {live.lost}; "
        f"{summary(observed)}; {errors['unavailable']} sends answered `unavailable` "
        "(retried with the same client id)",
        acked=full.acked,
        lost=full.lost,
        live_lost=live.lost,
        **numbers(observed),
    )


async def test_bus_faults(tmp_path: Path, pg_url: str, jetstream_url: str, figure: Figure) -> None:
    env = {**FAST, "HUBBUB_NATS_PREFIX": "hubbub_f_" + secrets.token_hex(4)}
    with FaultProxy(target_of(jetstream_url, 4222)) as proxy:
        srv = ServerProcess(
            tmp_path / "data",
            database_url=pg_url,
            nats_url=through(jetstream_url, proxy),
            extra_env=env,
        ).start()
        try:
            observed, full, live, load, follower = await run_faults(srv, proxy, FAULTS)
        finally:
            srv.stop()
    for f in DOWN:
        assert 503 in observed[f].readyz, (f, observed[f].readyz)
        assert observed[f].acked_during > 0, f"no message acked while NATS was {f}"
    assert load.errors() == {}, load.errors()  # the bus never fails a send
    kicks = follower.close_codes.count(1012)
    figure(
        "NATS faults",
        f"TCP proxy between hubbub and NATS; under load ({len(load.senders)} senders), "
        f"each fault for {scale(2, 5)} s then healed, {scale(1, 5)} round(s)",
        f"acked lost: {full.lost} ({full.acked} acked), duplicates: {full.duplicates}; "
        f"messages acked while NATS was down: "
        f"{sum(observed[f].acked_during for f in DOWN)}; live device kicked with 1012 "
        f"{kicks} time(s), resumed with nothing missing; {summary(observed)}",
        acked=full.acked,
        lost=full.lost,
        live_lost=live.lost,
        kicks_1012=kicks,
        **numbers(observed),
    )
