#!/usr/bin/python3
"""What the store over NATS costs (docs/cluster.md, "Nodes without the database"): two pushd
nodes over one NATS cluster of two servers, node 1 with the SQLite file, node 2 without
(GOLIVE_STORE=nats). A WebSocket client runs each operation closed-loop (the next once the
previous is answered) on node 1, then on node 2, interleaved, REPEAT times:

    publish   a message, until its reply (stored: the row id is known)
    history   the newest 50 messages of a channel of 200
    since     subscribe with since 50 messages back (the replay read), then unsubscribe

    /usr/bin/python3 tests/bench/store_bench.py [--ops 300 --repeat 3]

Prints p50/p99 of each operation per node, medians over the repeats, and node 2's over node
1's: what the round trip to the store adds. Never part of `make test`.
"""

import argparse
import asyncio
import json
import os
import statistics
import sys
import time

import websockets

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from cluster_bench import Nodes  # noqa: E402


async def client(port, token):
    ws = await websockets.connect(f"ws://127.0.0.1:{port}/api/ws", max_size=None)
    await ws.send(json.dumps({"type": "connect", "token": token, "id": 0}))
    await until(ws, 0)
    return ws


async def until(ws, cid):
    while True:
        m = json.loads(await ws.recv())
        if m.get("id") == cid:
            assert m.get("type") != "error", m
            return m


async def timed(ws, ops, make):
    """ops closed-loop requests made by make(i) -> [command, ...]; the last one's reply ends
    each; returns the latencies in µs."""
    lat = []
    cid = 1
    for i in range(ops):
        t0 = time.perf_counter()
        for cmd in make(i):
            cid += 1
            await ws.send(json.dumps(dict(cmd, id=cid)))
            await until(ws, cid)
        lat.append((time.perf_counter() - t0) * 1e6)
    return lat


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p / 100))]


async def one_node(port, token, ops, rep):
    ws = await client(port, token)
    ch = f"public:sbench_{port}_{rep}"
    try:
        out = {"publish": await timed(ws, ops, lambda i: [
            {"type": "publish", "channel": ch, "data": {"n": i}}])}
        full = f"{ch}_h"
        for i in range(200):
            await ws.send(json.dumps({"type": "publish", "channel": full, "data": {"n": i},
                                      "id": 10_000_000 + i}))
            await until(ws, 10_000_000 + i)
        last = (await timed_last(ws, full))
        out["history"] = await timed(ws, ops, lambda i: [
            {"type": "history", "channel": full, "limit": 50}])
        out["since"] = await timed(ws, ops, lambda i: [
            {"type": "subscribe", "channel": full, "since": last - 50},
            {"type": "unsubscribe", "channel": full}])
        return out
    finally:
        await ws.close()


async def timed_last(ws, ch):
    await ws.send(json.dumps({"type": "history", "channel": ch, "limit": 1, "id": 99_999_999}))
    m = await until(ws, 99_999_999)
    return m["data"]["messages"][-1]["id"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ops", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    nodes = Nodes(2, nats=True, remote={1})
    runs = {"n1 (file)": [], "n2 (over NATS)": []}
    try:
        for rep in range(args.repeat):
            for k, name in enumerate(runs):
                runs[name].append(asyncio.run(one_node(nodes.ports[k], nodes.token, args.ops,
                                                       rep)))
                print(f"rep {rep + 1}/{args.repeat} {name} done", file=sys.stderr)
    finally:
        nodes.stop()
    print(f"{'operation':10} {'node':16} {'p50 µs':>8} {'p99 µs':>8}   (medians of "
          f"{args.repeat} runs of {args.ops})")
    meds = {}
    for op in ("publish", "history", "since"):
        for name, reps in runs.items():
            p50 = statistics.median(pct(r[op], 50) for r in reps)
            p99 = statistics.median(pct(r[op], 99) for r in reps)
            meds[(op, name)] = (p50, p99)
            print(f"{op:10} {name:16} {p50:8.0f} {p99:8.0f}")
        a, b = meds[(op, "n1 (file)")], meds[(op, "n2 (over NATS)")]
        print(f"{op:10} {'ratio n2/n1':16} {b[0] / a[0]:8.2f} {b[1] / a[1]:8.2f}")


if __name__ == "__main__":
    main()
