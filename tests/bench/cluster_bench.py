#!/usr/bin/python3
"""Fan-out over a pushd cluster (docs/cluster.md) beside one node, in the same run: three
golive-pushd nodes over three nats-servers hold NODES x CONNS sockets of one channel (45,000 by
default: more than one process may open here), one golive-loadgen per node (a process holds at
most ~19,700 sockets too). The loadgen on node 1 publishes over WebSocket; those on nodes 2 and
3 only listen (--listen). Then one node alone with CONNS sockets, the same publisher.

    /usr/bin/python3 tests/bench/cluster_bench.py [--conns 15000 --rate 2 --duration 10
                                                   --repeat 2 --out build/bench/cluster.jsonl]

Reports deliveries per second, server CPU per delivery (pushd nodes and nats-servers, read by
the publishing loadgen over its step), and latency p50/p99 on the publisher's node and on the
others: the difference is what NATS adds. Never part of `make test`.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import peers  # noqa: E402
from bench import BUILD, LOADGEN, REPO, SECRET, SOURCES, GoLive, can_connect  # noqa: E402

MSG = '{"type":"publish","channel":"{ch}","data":{"lgts":{ts},"seq":{seq}}}'
# No rate limits (the loadgen's users publish far past a chatter's rate) and no join/leave
# events (45,000 joins to 45,000 subscribers would be the whole benchmark).
CONFIG = GoLive.QUIET_CONFIG


def spawn(argv, env, workdir, logname):
    log = open(os.path.join(workdir, logname), "wb")
    with log:
        return subprocess.Popen(argv, env=env, cwd=REPO, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, preexec_fn=peers.raise_nofile)


def wait_tcp(port, proc, what):
    deadline = time.monotonic() + 15
    while not can_connect(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not listen on {port}")
        time.sleep(0.05)


class Nodes:
    """n pushd nodes on one database; with nats, over a cluster of n nats-servers. The nodes
    whose index is in remote have no database (GOLIVE_STORE=nats): they store and read through
    the others."""

    def __init__(self, n, nats, remote=()):
        self.workdir = tempfile.mkdtemp(prefix="golive-cbench-")
        self.procs, self.nats, self.ports = [], [], []
        with open(os.path.join(self.workdir, "realtime.yaml"), "w") as f:
            f.write(CONFIG)
        nports = [peers.free_port() for _ in range(n)]
        if nats:
            rports = [peers.free_port() for _ in range(n)]
            routes = ",".join(f"nats://127.0.0.1:{p}" for p in rports)
            for i in range(n):
                p = spawn([shutil.which("nats-server"), "-a", "127.0.0.1", "-p", str(nports[i]),
                           "-n", f"nats{i + 1}", "--cluster_name", "bench", "--cluster",
                           f"nats://127.0.0.1:{rports[i]}", "--routes", routes],
                          os.environ, self.workdir, f"nats{i + 1}.log")
                wait_tcp(nports[i], p, "nats-server")
                self.nats.append(p)
        for i in range(n):
            rundir = os.path.join(self.workdir, f"n{i + 1}")
            os.makedirs(rundir)
            port = peers.free_port()
            env = dict(os.environ, JWT_SECRET=SECRET, GOLIVE_RUNDIR=rundir, LOG_LEVEL="warn",
                       GOLIVE_DB=os.path.join(self.workdir, "golive.db"),
                       GOLIVE_PUSHD_LISTEN=f"127.0.0.1:{port}",
                       GOLIVE_PUSHD_METRICS_LISTEN=f"127.0.0.1:{peers.free_port()}",
                       REALTIME_CONFIG_PATH=os.path.join(self.workdir, "realtime.yaml"))
            env.pop("GOLIVE_IPC_URL", None)
            if nats:
                urls = [f"nats://127.0.0.1:{p}" for p in nports[i:] + nports[:i]]
                env.update(GOLIVE_NATS_URL=",".join(urls), GOLIVE_NODE_NAME=f"n{i + 1}")
            if i in remote:
                env.update(GOLIVE_STORE="nats")
            p = spawn([os.path.join(BUILD, "golive-pushd")], env, rundir, "pushd.log")
            wait_tcp(port, p, "golive-pushd")
            self.procs.append(p)
            self.ports.append(port)
        self.token = subprocess.run([os.path.join(BUILD, "golive-token"), "--sub", "bench-pub",
                                     "--role", "admin"], env=dict(os.environ, JWT_SECRET=SECRET),
                                    check=True, capture_output=True, text=True).stdout.strip()
        time.sleep(1)  # the nodes' heartbeats and routes

    def pids(self):
        return [p.pid for p in self.procs + self.nats]

    def stop(self):
        for p in self.procs + self.nats:
            peers.terminate(p, [])
        shutil.rmtree(self.workdir, ignore_errors=True)


def loadgen(nodes, k, conns, args, label):
    cmd = [LOADGEN, "--label", label, "--url", f"ws://127.0.0.1:{nodes.ports[k]}/api/ws",
           "--conns", str(conns), "--channels", "1", "--channel-prefix", "public:cbench",
           "--subscribe", '{"type":"subscribe","channel":"{ch}"}',
           "--ready-match", '"type":"subscribe"', "--sources", SOURCES, "--window", "1000",
           "--settle", "1"] + args
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=peers.raise_nofile)


def wait_subscribed(proc, label, timeout=120):
    """Until the loadgen says its clients are subscribed (its first stderr line)."""
    deadline = time.monotonic() + timeout
    line = proc.stderr.readline()
    if "subscribed" not in line or time.monotonic() > deadline:
        raise RuntimeError(f"{label}: {line!r}")
    return line


def one_run(n, conns, rate, duration, rep):
    nodes = Nodes(n, nats=n > 1)
    try:
        listen = 8 + duration + 5
        listeners = [loadgen(nodes, k, conns, ["--listen", str(listen)], f"listen-n{k + 1}")
                     for k in range(1, n)]
        for k, p in enumerate(listeners, 2):
            wait_subscribed(p, f"listen-n{k}")
        pub = loadgen(nodes, 0, conns, [
            "--pub-ws", MSG, "--pub-token", nodes.token, "--pub-conns", "1",
            "--rates", str(rate), "--duration", str(duration), "--drain", "5",
            "--pids", ",".join(map(str, nodes.pids()))], "publish-n1")
        out, err = pub.communicate(timeout=600)
        rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        if not rows:
            raise RuntimeError(f"publisher printed nothing: {err[-2000:]}")
        main = rows[-1]
        others = []
        for p in listeners:
            o, e = p.communicate(timeout=listen + 60)
            got = [json.loads(line) for line in o.splitlines() if line.startswith("{")]
            if not got:
                raise RuntimeError(f"listener printed nothing: {e[-2000:]}")
            others.append(got[-1])
        received = main["received"] + sum(o["received"] for o in others)
        expected = main["published"] * n * conns
        return {"nodes": n, "conns": n * conns, "rate": rate, "duration_s": duration, "rep": rep,
                "connected": main["connected"] + sum(o["connected"] for o in others),
                "published": main["published"], "expected": expected, "received": received,
                "loss": expected - received,
                "delivered_per_s": round(received / duration),
                "cpu_s": main["cpu_s"],
                "cpu_us_per_delivery": round(main["cpu_s"] * 1e6 / received, 3) if received else 0,
                "lat_local_us": main["lat_us"],
                "lat_remote_us": [o["lat_us"] for o in others]}
    finally:
        nodes.stop()


def median(v):
    v = sorted(v)
    return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--conns", type=int, default=15000, help="sockets per node")
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--rate", type=float, default=2)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--out", default=os.path.join(REPO, "build", "bench", "cluster.jsonl"))
    a = ap.parse_args()
    if shutil.which("nats-server") is None:
        sys.exit("nats-server is not installed (apt-get install nats-server)")
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    rows = []
    with open(a.out, "a") as out:
        for rep in range(a.repeat):  # interleaved: cluster, one node, cluster, one node
            for n in (a.nodes, 1):
                r = one_run(n, a.conns, a.rate, a.duration, rep)
                print(json.dumps(r), flush=True)
                out.write(json.dumps(r) + "\n")
                rows.append(r)
    print("\n| setup | sockets | deliveries/s | loss | CPU µs/delivery | p50 / p99 on the "
          "publisher's node | p50 / p99 on the others |\n|---|---|---|---|---|---|---|")
    for n in (a.nodes, 1):
        rs = [r for r in rows if r["nodes"] == n]
        rem = [x for r in rs for x in r["lat_remote_us"]]
        remote = (f"{median([x['p50'] for x in rem]) / 1000:.1f} / "
                  f"{median([x['p99'] for x in rem]) / 1000:.1f} ms" if rem else "—")
        print(f"| {n} node{'s' if n > 1 else ''} | {median([r['connected'] for r in rs]):.0f} | "
              f"{median([r['delivered_per_s'] for r in rs]):.0f} | "
              f"{median([r['loss'] for r in rs]):.0f} | "
              f"{median([r['cpu_us_per_delivery'] for r in rs]):.2f} | "
              f"{median([r['lat_local_us']['p50'] for r in rs]) / 1000:.1f} / "
              f"{median([r['lat_local_us']['p99'] for r in rs]) / 1000:.1f} ms | {remote} |")


if __name__ == "__main__":
    main()
