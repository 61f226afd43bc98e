"""What spec 004's chat-event relay costs per message, without sockets.

    python -m bench.relay_cost [--messages N] [--members M] [--pairs P] [--json FILE]

One process builds a hubbub node as the server does (`hubbub.runtime.Node`,
SQLite in a temp dir, the in-process event sink), then for each case sends
messages through `node.messages.send_text` (the core path a frame takes,
4 concurrent senders) and waits until the relay's cursor reaches the stream
head. The figure is the process's CPU seconds (every thread) per 1,000
messages, from the first send to the relay caught up:

- `group`: every message to one group of `--members` members (`personalChatSent`
  with 999 `target_members` each);
- `dms`: messages spread over `--pairs` direct conversations.

Each case runs three ways: `relay off` (`chat_events_relay=False`: the send
path alone), `no subscriber` (relay on, nobody subscribed to the in-process
sink: the bench harness's and a NATS-less server's situation), `subscriber`
(relay on, one in-process subscriber: every event read back, built and
handed out). The difference from `relay off` is the relay's cost. Runs
against whichever hubbub is importable, so `PYTHONPATH=/other/src` measures
another tree with the same script (A/B). CPU time is less disturbed by other
work on the machine than wall time, but not immune: interleave runs.
"""

from __future__ import annotations

import argparse
import asyncio
import faulthandler
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.sysinfo import proc_cpu_s

MODES = ("relay off", "no subscriber", "subscriber")


async def _node(data_dir: Path, relay: bool) -> Any:
    from hubbub.config import Settings
    from hubbub.runtime import Node

    settings = Settings(
        data_dir=data_dir,
        node_id="bench-relay",
        argon2_time_cost=1,
        argon2_memory_kib=64,
        chat_events_relay=relay,
    )
    node = Node(settings)
    await node.start()
    return node


async def _caught_up(node: Any, timeout: float = 120) -> None:
    head = await node.stores.events.max_pos()
    deadline = time.monotonic() + timeout
    while (node.chat_relay._cursor or 0) < head:
        if time.monotonic() > deadline:
            raise RuntimeError("the relay did not catch up")
        await asyncio.sleep(0.005)


async def _case(case: str, mode: str, messages: int, members: int, pairs: int) -> dict[str, Any]:
    from hubbub.core.context import Caller

    with tempfile.TemporaryDirectory(prefix="hubbub-bench-relay-") as tmp:
        node = await _node(Path(tmp), relay=mode != "relay off")
        try:
            n_users = members if case == "group" else 2 * pairs
            users = [
                (await node.accounts.register(f"relay_{i}", "bench-password"))[0]
                for i in range(n_users)
            ]
            if case == "group":
                conv, _ = await node.groups.create_group(
                    Caller(users[0], "bench"), "bench", users[1:], None
                )
                targets = [(users[0], conv.id)]
            else:
                targets = []
                for i in range(pairs):
                    a, b = users[2 * i], users[2 * i + 1]
                    cid, _ = await node.conversations.open_direct(Caller(a, "bench"), b)
                    targets.append((a, cid))
            sub = node.chat_events_sink.subscribe() if mode == "subscriber" else None
            if mode != "relay off":
                await _caught_up(node)
            # warm-up (caches, first statements), not measured
            for sender, cid in targets[:4]:
                await node.messages.send_text(
                    Caller(sender, "b"), cid, "warm", None, None, False, None
                )
            if mode != "relay off":
                await _caught_up(node)
            published0 = node.chat_relay.published
            counter = iter(range(messages))

            async def sender(p: int) -> None:
                for n in counter:
                    user, cid = targets[(n + p) % len(targets)]
                    text = f"m{n}:" + "x" * 56
                    await node.messages.send_text(
                        Caller(user, "bench"), cid, text, None, f"c{n}", False, None
                    )

            cpu0, t0 = proc_cpu_s(os.getpid()), time.monotonic()
            await asyncio.gather(*(sender(p) for p in range(4)))
            if mode != "relay off":
                await _caught_up(node)
            cpu, seconds = proc_cpu_s(os.getpid()) - cpu0, time.monotonic() - t0
            published = node.chat_relay.published - published0
            if sub is not None:
                sub.close()
            return {
                "case": case,
                "mode": mode,
                "messages": messages,
                "members": members if case == "group" else 2,
                "seconds": round(seconds, 3),
                "cpu_s": round(cpu, 3),
                "cpu_s_per_1k_messages": round(cpu / messages * 1000, 3),
                "events_published": published,
            }
        finally:
            await node.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", type=int, default=1000)
    ap.add_argument("--members", type=int, default=1000)
    ap.add_argument("--pairs", type=int, default=200)
    ap.add_argument("--cases", default="group,dms")
    ap.add_argument("--json", default="")
    args = ap.parse_args()
    import hubbub

    print(f"hubbub from {Path(hubbub.__file__).parent}")
    rows = []
    for case in args.cases.split(","):
        for mode in MODES:
            # A case that hangs prints every thread's stack and exits.
            faulthandler.dump_traceback_later(600, exit=True)
            row = asyncio.run(_case(case, mode, args.messages, args.members, args.pairs))
            rows.append(row)
            per_1k = row["cpu_s_per_1k_messages"]
            print(
                f"{row['case']:6} {row['mode']:14} {per_1k:8.3f} CPU s/1k msgs"
                f"  ({row['messages']} msgs, {row['seconds']} s, {row['events_published']} events)",
                flush=True,
            )
    faulthandler.cancel_dump_traceback_later()
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
