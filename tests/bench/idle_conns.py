#!/usr/bin/python3
"""Idle-connection benchmark for golive-pushd: how many WebSocket clients one pushd holds, and
what each costs in pushd's resident memory.

It starts its own golive-pushd (fresh GOLIVE_RUNDIR, JWT_SECRET=bench, LOG_LEVEL=warn, no YAML:
every channel is public), opens N connections over pushd's unix socket from K worker processes
(each connection subscribes to public:room<i % ROOMS>), reads pushd's VmRSS before and after,
checks `rpc stats` says total_clients == N, optionally holds the connections idle (past lws's
30 s keep-alive PING) and times a broadcast to one room, then closes every client, SIGTERMs
pushd and checks that it exits 0 within 10 s. The last line printed is `RESULT {json}`.

Run with Debian's Python (python3-websockets 10.4, python3-jwt):
    /usr/bin/python3 tests/bench/idle_conns.py 19000 [--auth] [--broadcast 5] [--hold 40]
    GOLIVE_BUILD=build/asan /usr/bin/python3 tests/bench/idle_conns.py 5000 --auth --broadcast 3
Other checks: --rounds R (close and reopen everything R-1 more times: RSS must plateau),
--shutdown-open (SIGTERM with the clients connected: each must get 1001). run_idle_matrix.sh
runs every case of RESULTS-idle.md; idle_summary.py prints their medians.

Everything is bounded: connecting gives up after --timeout seconds (default 180), every later
step has its own timeout, and the script kills what it started if anything goes wrong.
Only the unix socket in the temporary run folder is used (no TCP at all).
"""

import argparse
import asyncio
import collections
import json
import math
import multiprocessing as mp
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import jwt
import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SECRET = "bench"
WS_URI = "ws://localhost/api/ws"
PER_WORKER_MAX = 9000  # connections per worker process (each stays well under ~9,500 fds)
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "SUMMARY: AddressSanitizer", "SUMMARY: UndefinedBehaviorSanitizer")


def mint(sub, username=None):
    return jwt.encode({"sub": sub, "username": username or sub, "role": "user",
                       "exp": int(time.time()) + 3600}, SECRET, algorithm="HS256")


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def short_exc(e):
    """A short, aggregatable description of a connection failure."""
    if isinstance(e, websockets.exceptions.ConnectionClosed):
        rcvd = e.rcvd
        return f"ConnectionClosed code={rcvd.code if rcvd else None} " \
               f"reason={rcvd.reason if rcvd else ''!r}"
    if isinstance(e, websockets.exceptions.InvalidStatusCode):
        return f"InvalidStatusCode {e.status_code}"
    if isinstance(e, asyncio.TimeoutError):
        return "timeout"
    if isinstance(e, OSError):
        return f"{type(e).__name__} errno={e.errno} {e.strerror}"
    return f"{type(e).__name__}: {str(e)[:120]}"


# ------------------------------------------------------------------------------------------
# Worker process: holds its share of the connections and answers the main process's commands.


class Worker:
    def __init__(self, idx, sock_path, ids, args, deadline_wall, pipe):
        self.idx, self.sock_path, self.ids, self.args = idx, sock_path, ids, args
        self.deadline_wall = deadline_wall  # time.time() by which connecting must be done
        self.pipe = pipe
        self.clients = {}  # conn index -> websocket
        self.readers = {}
        self.pending = {}  # (conn index, reply id) -> future
        self.errors = collections.Counter()
        self.unexpected_close = collections.Counter()
        self.joins = 0
        self.leaves = 0
        self.other = collections.Counter()
        self.bcast = {}  # seq -> [count, first_t, last_t]
        self.closing = False
        self.t_first = None
        self.t_last = None

    async def reader(self, i, ws):
        try:
            async for raw in ws:
                if raw.startswith('{"type":"join"'):
                    self.joins += 1
                    continue
                m = json.loads(raw)
                t = m.get("type")
                if t == "message":
                    seq = (m.get("data") or {}).get("seq")
                    now = time.monotonic()  # CLOCK_MONOTONIC: one clock for every process
                    b = self.bcast.get(seq)
                    if b is None:
                        self.bcast[seq] = [1, now, now]
                    else:
                        b[0] += 1
                        b[2] = now
                elif t == "leave":
                    self.leaves += 1
                else:
                    fut = self.pending.pop((i, m.get("id")), None)
                    if fut is not None and not fut.done():
                        fut.set_result(m)
                    else:
                        self.other[t] += 1
        except websockets.exceptions.ConnectionClosed:
            pass
        except Exception as e:  # noqa: BLE001 - reported, not raised
            self.errors["reader " + short_exc(e)] += 1
        if not self.closing:
            self.unexpected_close[f"code={ws.close_code} reason={ws.close_reason!r}"] += 1
            self.clients.pop(i, None)

    async def request(self, i, ws, msg, timeout):
        fut = asyncio.get_running_loop().create_future()
        self.pending[(i, msg["id"])] = fut
        try:
            await ws.send(json.dumps(msg))
            return await asyncio.wait_for(fut, timeout)
        finally:
            self.pending.pop((i, msg["id"]), None)

    async def open_one(self, i, sem):
        async with sem:
            remaining = self.deadline_wall - time.time()
            if remaining <= 0:
                self.errors["not tried: deadline passed"] += 1
                return
            t0 = time.monotonic()
            if self.t_first is None:
                self.t_first = t0
            uri = WS_URI
            if self.args["auth"]:
                uri += "?token=" + mint(f"u{i}", f"user{i}")
            ws = None
            try:
                ws = await asyncio.wait_for(
                    websockets.unix_connect(self.sock_path, uri, ping_interval=None,
                                            compression=None, open_timeout=None,
                                            close_timeout=5),
                    min(30, remaining))
                self.readers[i] = asyncio.create_task(self.reader(i, ws))
                self.clients[i] = ws
                ch = f"public:room{i % self.args['rooms']}"
                r = await self.request(i, ws, {"type": "subscribe", "id": 1, "channel": ch},
                                       min(30, max(1, self.deadline_wall - time.time())))
                if r.get("type") != "subscribe":
                    raise RuntimeError(f"subscribe answered {json.dumps(r)[:200]}")
                self.t_last = time.monotonic()
            except Exception as e:  # noqa: BLE001 - counted and reported
                self.errors[short_exc(e)] += 1
                self.clients.pop(i, None)
                if ws is not None:
                    # websockets' close can wait on the peer: keep it short and bounded.
                    try:
                        await asyncio.wait_for(ws.close(), 2)
                    except Exception:  # noqa: BLE001
                        pass

    async def open_all(self):
        sem = asyncio.Semaphore(self.args["concurrency"])
        await asyncio.gather(*(self.open_one(i, sem) for i in self.ids))
        return {"worker": self.idx, "ok": len(self.clients), "asked": len(self.ids),
                "errors": dict(self.errors), "t_first": self.t_first, "t_last": self.t_last,
                "unexpected_close": dict(self.unexpected_close)}

    def status(self):
        return {"worker": self.idx, "alive": len(self.clients), "joins": self.joins,
                "leaves": self.leaves, "other": dict(self.other), "errors": dict(self.errors),
                "unexpected_close": dict(self.unexpected_close),
                "bcast": {str(k): v for k, v in self.bcast.items()}}

    async def stats(self):
        for i, ws in list(self.clients.items()):
            r = await self.request(i, ws, {"type": "rpc", "id": "stats",
                                           "data": {"method": "stats"}}, 10)
            return r
        return None

    async def close_all(self):
        self.closing = True
        sem = asyncio.Semaphore(self.args["concurrency"])
        codes = collections.Counter()

        async def close_one(ws):
            async with sem:
                try:
                    await asyncio.wait_for(ws.close(), 6)
                    codes[f"peer answered {ws.close_code}"] += 1
                except Exception as e:  # noqa: BLE001
                    codes["close failed: " + short_exc(e)] += 1

        t0 = time.monotonic()
        await asyncio.gather(*(close_one(ws) for ws in list(self.clients.values())))
        for t in self.readers.values():
            t.cancel()
        await asyncio.gather(*self.readers.values(), return_exceptions=True)
        return {"worker": self.idx, "closed": dict(codes), "secs": time.monotonic() - t0}

    async def run(self):
        loop = asyncio.get_running_loop()
        while True:
            cmd = await loop.run_in_executor(None, self.pipe.recv)
            op = cmd[0]
            if op == "open":
                if len(cmd) > 1:
                    self.deadline_wall = cmd[1]
                self.pipe.send(await self.open_all())
            elif op == "status":
                self.pipe.send(self.status())
            elif op == "stats":
                try:
                    self.pipe.send(await self.stats())
                except Exception as e:  # noqa: BLE001
                    self.pipe.send({"error": short_exc(e)})
            elif op == "close":
                self.pipe.send(await self.close_all())
                return
            elif op == "closeall":  # close everything, then wait for another "open"
                r = await self.close_all()
                self.clients.clear()
                self.readers.clear()
                self.errors.clear()
                self.closing = False
                self.t_first = self.t_last = None
                self.pipe.send(r)


def worker_main(idx, sock_path, ids, args, deadline_wall, pipe):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process decides
    raise_nofile()
    asyncio.run(Worker(idx, sock_path, ids, args, deadline_wall, pipe).run())


# ------------------------------------------------------------------------------------------
# Main process: pushd, measurements, orchestration.


def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "VmSize", "RssAnon", "Threads"):
                out[k] = int(v.split()[0])  # kB, or a count for Threads
    return out


class PushdDied(RuntimeError):
    pass


def rss_bytes(pid):
    st = proc_status(pid)
    if "VmRSS" not in st:  # a zombie: pushd has exited
        raise PushdDied("pushd exited while the benchmark was running")
    return st["VmRSS"] * 1024


def nfds(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def wait_socket(path, proc, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"pushd exited early with {proc.returncode}")
        if os.path.exists(path):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(path)
                return
            except OSError:
                pass
            finally:
                s.close()
        time.sleep(0.05)
    raise SystemExit(f"pushd did not listen on {path} within {timeout}s")


async def probe_stats(sock_path, token=None):
    uri = WS_URI + (f"?token={token}" if token else "")
    async with websockets.unix_connect(sock_path, uri, ping_interval=None,
                                       compression=None) as ws:
        await ws.send(json.dumps({"type": "rpc", "id": 1, "data": {"method": "stats"}}))
        return json.loads(await asyncio.wait_for(ws.recv(), 5))


async def broadcast(sock_path, rooms, count, workers, expected, timeout=30):
    """Publish `count` messages (one at a time) to public:room0 from an extra authenticated
    connection and time until every subscriber of room0 has each one."""
    results = []
    async with websockets.unix_connect(sock_path, WS_URI + "?token=" + mint("pub", "publisher"),
                                       ping_interval=None, compression=None) as ws:
        for seq in range(count):
            t0 = time.monotonic()
            await ws.send(json.dumps({"type": "publish", "id": seq, "channel": "public:room0",
                                      "data": {"content": "bench", "seq": seq}}))
            reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
            t_reply = time.monotonic() - t0
            if reply.get("type") != "publish":
                results.append({"seq": seq, "error": reply})
                continue
            deadline = time.monotonic() + timeout
            got, last, first = 0, None, None
            while time.monotonic() < deadline:
                got, last, first = 0, None, None
                for w in workers:
                    w.send(("status",))
                for w in workers:
                    if not w.poll(10):
                        raise RuntimeError("a worker did not answer status")
                    b = w.recv()["bcast"].get(str(seq))
                    if b:
                        got += b[0]
                        first = b[1] if first is None else min(first, b[1])
                        last = b[2] if last is None else max(last, b[2])
                if got >= expected:
                    break
                await asyncio.sleep(0.05)
            results.append({"seq": seq, "received": got, "expected": expected,
                            "reply_ms": round(t_reply * 1000, 2),
                            "first_ms": round((first - t0) * 1000, 2) if first else None,
                            "all_ms": round((last - t0) * 1000, 2)
                            if last and got >= expected else None})
            await asyncio.sleep(0.2)
    return results


def scan_log(path):
    counts = collections.Counter()
    sanitizer = []
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if any(m in line for m in SANITIZER_MARKERS):
                sanitizer.append(line)
            parts = line.split(" ", 2)
            # "<timestamp> LEVEL module: message": group by everything after the timestamp.
            key = parts[2] if len(parts) == 3 and parts[1] in ("WARN", "ERROR", "INFO",
                                                               "DEBUG") else line
            key = parts[1] + " " + key if len(parts) == 3 else key
            counts[key[:200]] += 1
    return counts, sanitizer


def main():
    sys.stdout.reconfigure(line_buffering=True)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", nargs="?", type=int, default=19000, help="connections (default 19000)")
    ap.add_argument("--auth", action="store_true",
                    help="each connection is a distinct JWT user (?token=), so presence exists")
    ap.add_argument("--binary", help="golive-pushd to run "
                    "(default $GOLIVE_BUILD/golive-pushd, GOLIVE_BUILD defaulting to build/release)")
    ap.add_argument("--workers", type=int, help=f"worker processes (default ceil(N/{PER_WORKER_MAX}))")
    ap.add_argument("--rooms", type=int, default=100, help="channels public:room0..(default 100)")
    ap.add_argument("--concurrency", type=int, default=64,
                    help="handshakes in flight per worker (default 64)")
    ap.add_argument("--timeout", type=float, default=180, help="give up connecting after (s)")
    ap.add_argument("--hold", type=float, default=0,
                    help="keep the connections idle this long before measuring again "
                         "(40 s goes past lws's 30 s keep-alive PING)")
    ap.add_argument("--broadcast", type=int, default=0,
                    help="publish this many messages to public:room0 and time the fan-out")
    ap.add_argument("--rounds", type=int, default=1,
                    help="close and reopen all N connections this many times in all, on the "
                         "same pushd, reading RSS after each round (a leak check)")
    ap.add_argument("--shutdown-open", action="store_true",
                    help="SIGTERM pushd with the clients still connected (tests its 1001 drain) "
                         "instead of closing them first")
    ap.add_argument("--log-level", default="warn", help="pushd's LOG_LEVEL (default warn)")
    ap.add_argument("--tag", default="", help="a label copied into the RESULT line")
    ap.add_argument("--keep", action="store_true", help="keep the run folder (log, database)")
    args = ap.parse_args()

    build = os.environ.get("GOLIVE_BUILD", "build/release")
    binary = os.path.abspath(args.binary or os.path.join(REPO, build, "golive-pushd"))
    if not os.access(binary, os.X_OK):
        raise SystemExit(f"no executable {binary} (make {os.path.relpath(binary, REPO)})")
    n = args.n
    k = args.workers or max(1, math.ceil(n / PER_WORKER_MAX))
    nofile = raise_nofile()  # pushd inherits it
    rundir = tempfile.mkdtemp(prefix="golive-bench-")
    sock_path = os.path.join(rundir, "pushd.sock")
    log_path = os.path.join(rundir, "pushd.log")
    env = dict(os.environ, GOLIVE_RUNDIR=rundir, JWT_SECRET=SECRET, LOG_LEVEL=args.log_level)
    for v in ("REALTIME_CONFIG_PATH", "GOLIVE_DB", "GOLIVE_PUSHD_LISTEN", "GOLIVE_IPC_URL"):
        env.pop(v, None)
    if "asan" in binary:
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    result = {"n": n, "auth": args.auth, "workers": k, "rooms": args.rooms,
              "tag": args.tag,
              "binary": os.path.relpath(binary, REPO)
              if binary.startswith(REPO + os.sep) else binary, "nofile": nofile[0],
              "nproc": os.cpu_count()}
    logf = open(log_path, "wb")
    pushd = subprocess.Popen([binary], env=env, stdout=logf, stderr=subprocess.STDOUT,
                             cwd=rundir)
    procs, pipes = [], []
    ok = False
    try:
        wait_socket(sock_path, pushd)
        print(f"pushd pid {pushd.pid}, run folder {rundir}")
        result["rss_start"] = rss_bytes(pushd.pid)
        # One connection first (authenticated with --auth: the first JWT check initialises
        # libjwt/OpenSSL), so lazily allocated state is not counted per client.
        asyncio.run(probe_stats(sock_path, mint("probe") if args.auth else None))
        time.sleep(0.3)
        before = rss_bytes(pushd.pid)
        result["rss_before"] = before
        result["fds_before"] = nfds(pushd.pid)
        cpu0 = peers.cpu_secs(pushd.pid)

        # Connections i = 0..n-1, dealt round-robin so every worker has every room.
        deadline_wall = time.time() + args.timeout
        wargs = {"auth": args.auth, "rooms": args.rooms, "concurrency": args.concurrency}
        ctx = mp.get_context("fork")
        for w in range(k):
            parent, child = ctx.Pipe()
            p = ctx.Process(target=worker_main, daemon=True,
                            args=(w, sock_path, list(range(w, n, k)), wargs, deadline_wall,
                                  child))
            p.start()
            procs.append(p)
            pipes.append(parent)
        t0 = time.monotonic()
        for pp in pipes:
            pp.send(("open",))
        opened = []
        for pp in pipes:
            if not pp.poll(max(1, deadline_wall - time.time()) + 40):
                raise RuntimeError("a worker did not finish connecting in time")
            opened.append(pp.recv())
        t_setup = time.monotonic() - t0
        got = sum(o["ok"] for o in opened)
        errors = collections.Counter()
        for o in opened:
            errors.update(o["errors"])
        firsts = [o["t_first"] for o in opened if o["t_first"]]
        lasts = [o["t_last"] for o in opened if o["t_last"]]
        span = (max(lasts) - min(firsts)) if firsts and lasts else t_setup
        result.update(connected=got, connect_errors=dict(errors),
                      setup_secs=round(span, 3),
                      setup_rate=round(got / span, 1) if span > 0 else None,
                      pushd_cpu_setup_secs=round(peers.cpu_secs(pushd.pid) - cpu0, 2))
        print(f"connected {got}/{n} in {span:.2f}s ({result['setup_rate']}/s) "
              f"with {k} workers; pushd CPU {result['pushd_cpu_setup_secs']}s")
        if errors:
            print("connect errors:", json.dumps(dict(errors), indent=1))

        # Settle: presence joins still travelling, RSS still moving. Bounded to 30 s.
        expected_joins = 0
        if args.auth:
            per_room = collections.Counter(i % args.rooms for i in range(n))
            expected_joins = sum(m * (m + 1) // 2 for m in per_room.values())
        prev = None
        settle_until = time.monotonic() + 30
        while time.monotonic() < settle_until:
            time.sleep(0.5)
            for pp in pipes:
                pp.send(("status",))
            sts = [pp.recv() for pp in pipes if pp.poll(10)]
            cur = (sum(s["joins"] for s in sts), rss_bytes(pushd.pid))
            if prev is not None and cur[0] == prev[0] and abs(cur[1] - prev[1]) < 64 * 1024:
                break
            prev = cur
        result["joins_received"] = cur[0]
        result["joins_expected_if_all_connected"] = expected_joins
        rss_bytes(pushd.pid)  # raises if pushd has died
        st = proc_status(pushd.pid)
        after = st["VmRSS"] * 1024
        result.update(rss_after=after, rss_hwm=st["VmHWM"] * 1024, pushd_threads=st["Threads"],
                      fds_after=nfds(pushd.pid),
                      rss_delta=after - before,
                      bytes_per_conn=round((after - before) / got) if got else None)

        pipes[0].send(("stats",))
        stats = pipes[0].recv() if pipes[0].poll(15) else {"error": "no answer"}
        res = ((stats or {}).get("data") or {}).get("result") or {}
        result["stats_total_clients"] = res.get("total_clients")
        result["stats_total_channels"] = res.get("total_channels")
        result["stats_ok"] = res.get("total_clients") == n
        print(f"pushd RSS {before / 2**20:.1f} MiB -> {after / 2**20:.1f} MiB "
              f"(+{(after - before) / 2**20:.1f} MiB): {result['bytes_per_conn']} B/connection; "
              f"fds {result['fds_after']}; rpc stats total_clients={res.get('total_clients')} "
              f"total_channels={res.get('total_channels')} "
              f"({'== N' if result['stats_ok'] else '!= N=' + str(n)})")
        if args.auth:
            print(f"presence joins received {cur[0]} (all {n} connected would give "
                  f"{expected_joins})")

        if args.rounds > 1:
            result["rounds"] = [{"round": 1, "connected": got, "rss_after": after,
                                 "setup_rate": result["setup_rate"]}]
        for rnd in range(2, args.rounds + 1):
            for pp in pipes:
                pp.send(("closeall",))
            for pp in pipes:
                if not pp.poll(60):
                    raise RuntimeError("a worker did not close its connections in time")
                pp.recv()
            time.sleep(1)
            closed_rss = rss_bytes(pushd.pid)
            round_deadline = time.time() + args.timeout
            t0 = time.monotonic()
            for pp in pipes:
                pp.send(("open", round_deadline))
            opened = []
            for pp in pipes:
                if not pp.poll(max(1, round_deadline - time.time()) + 40):
                    raise RuntimeError("a worker did not finish connecting in time")
                opened.append(pp.recv())
            span = time.monotonic() - t0
            got_r = sum(o["ok"] for o in opened)
            errs = collections.Counter()
            for o in opened:
                errs.update(o["errors"])
            prev_rss = None
            for _ in range(60):  # settle, at most 30 s
                time.sleep(0.5)
                cur_rss = rss_bytes(pushd.pid)
                if prev_rss is not None and abs(cur_rss - prev_rss) < 64 * 1024:
                    break
                prev_rss = cur_rss
            pipes[0].send(("stats",))
            stats = pipes[0].recv() if pipes[0].poll(15) else {}
            res = ((stats or {}).get("data") or {}).get("result") or {}
            result["rounds"].append({"round": rnd, "rss_after_close": closed_rss,
                                     "connected": got_r, "rss_after": cur_rss,
                                     "setup_rate": round(got_r / span, 1),
                                     "errors": dict(errs),
                                     "stats_total_clients": res.get("total_clients")})
            print(f"round {rnd}: after closing all, RSS {closed_rss / 2**20:.1f} MiB; "
                  f"reconnected {got_r}/{n} ({got_r / span:.0f}/s), RSS "
                  f"{cur_rss / 2**20:.1f} MiB; total_clients={res.get('total_clients')}"
                  + (f"; errors {dict(errs)}" if errs else ""))
            if res.get("total_clients") != n:
                result["stats_ok"] = False

        if args.hold > 0:
            print(f"holding {args.hold:.0f}s idle...")
            cpu_h = peers.cpu_secs(pushd.pid)
            time.sleep(args.hold)
            result["pushd_cpu_hold_secs"] = round(peers.cpu_secs(pushd.pid) - cpu_h, 2)
            for pp in pipes:
                pp.send(("status",))
            sts = [pp.recv() for pp in pipes if pp.poll(10)]
            alive = sum(s["alive"] for s in sts)
            unexpected = collections.Counter()
            for s in sts:
                unexpected.update(s["unexpected_close"])
            result.update(hold_secs=args.hold, alive_after_hold=alive,
                          closed_during_hold=dict(unexpected),
                          rss_after_hold=rss_bytes(pushd.pid))
            pipes[0].send(("stats",))
            stats = pipes[0].recv() if pipes[0].poll(15) else {}
            res = ((stats or {}).get("data") or {}).get("result") or {}
            result["stats_total_clients_after_hold"] = res.get("total_clients")
            print(f"after {args.hold:.0f}s idle: {alive} alive client-side, pushd says "
                  f"{res.get('total_clients')}; unexpected closes {dict(unexpected)}; "
                  f"RSS {result['rss_after_hold'] / 2**20:.1f} MiB; pushd CPU while idle "
                  f"{result['pushd_cpu_hold_secs']}s")

        if args.broadcast > 0:
            expected = len([i for i in range(n) if i % args.rooms == 0])
            # Count what room0's subscribers really are (some may have failed to connect).
            for pp in pipes:
                pp.send(("status",))
            [pp.recv() for pp in pipes if pp.poll(10)]
            try:
                bres = asyncio.run(broadcast(sock_path, args.rooms, args.broadcast, pipes,
                                             expected if got == n
                                             else max(1, expected * got // n)))
            except Exception as e:  # noqa: BLE001 - e.g. no fd left in pushd for the publisher
                bres = [{"error": "publisher: " + short_exc(e)}]
            alls = [b["all_ms"] for b in bres if b.get("all_ms") is not None]
            result["broadcast"] = bres
            result["broadcast_subscribers"] = expected
            result["broadcast_all_ms_median"] = statistics.median(alls) if alls else None
            for b in bres:
                print(f"broadcast {b}")

        for pp in pipes:
            pp.send(("status",))
        sts = [pp.recv() for pp in pipes if pp.poll(10)]
        unexpected = collections.Counter()
        other = collections.Counter()
        for s in sts:
            unexpected.update(s["unexpected_close"])
            other.update(s["other"])
        result["unexpected_close"] = dict(unexpected)
        result["unexpected_frames"] = dict(other)
        result["alive_before_close"] = sum(s["alive"] for s in sts)

        # Shutdown: close the clients (or not), SIGTERM, exit 0 within 10 s.
        if not args.shutdown_open:
            t1 = time.monotonic()
            for pp in pipes:
                pp.send(("close",))
            closed = collections.Counter()
            for pp in pipes:
                if pp.poll(60):
                    closed.update(pp.recv()["closed"])
            result["client_close"] = dict(closed)
            result["client_close_secs"] = round(time.monotonic() - t1, 2)
            time.sleep(0.5)
            result["rss_after_close"] = rss_bytes(pushd.pid)
            try:
                result["stats_after_close"] = asyncio.run(probe_stats(sock_path))["data"]["result"]
            except Exception as e:  # noqa: BLE001
                result["stats_after_close"] = short_exc(e)
        t2 = time.monotonic()
        pushd.send_signal(signal.SIGTERM)
        try:
            rc = pushd.wait(10)
        except subprocess.TimeoutExpired:
            rc = None
        result["term_secs"] = round(time.monotonic() - t2, 2)
        result["exit_code"] = rc
        if args.shutdown_open:
            # Let every client notice its close (bounded), then count the codes they saw.
            for _ in range(60):
                for pp in pipes:
                    pp.send(("status",))
                sts = [pp.recv() for pp in pipes if pp.poll(10)]
                if sum(s["alive"] for s in sts) == 0:
                    break
                time.sleep(0.5)
            codes = collections.Counter()
            for s in sts:
                codes.update(s["unexpected_close"])
            result["alive_after_term"] = sum(s["alive"] for s in sts)
            result["close_codes_seen_by_clients"] = dict(codes)
            for pp in pipes:
                pp.send(("close",))
            for pp in pipes:
                pp.poll(30) and pp.recv()
        ok = rc == 0
        print(f"SIGTERM: pushd exited {rc} after {result['term_secs']}s")
    except PushdDied as e:
        print(f"ERROR: {e}")
    finally:
        if pushd.poll() is not None and "exit_code" not in result:
            result["exit_code"] = pushd.returncode
            result["died_early"] = True
            print(f"ERROR: pushd died early with status {pushd.returncode} "
                  f"(negative: killed by that signal)")
        if pushd.poll() is None:
            pushd.kill()
            pushd.wait(5)
        for p in procs:
            p.join(5)
            if p.is_alive():
                p.kill()
                p.join(5)
        logf.close()
        counts, sanitizer = scan_log(log_path)
        result["log_lines"] = dict(counts.most_common(15))
        result["sanitizer_reports"] = len(sanitizer)
        if counts:
            print(f"pushd log ({sum(counts.values())} lines), most frequent:")
            for line, c in counts.most_common(15):
                print(f"  {c:6d} x {line}")
        if sanitizer:
            print("SANITIZER:", *sanitizer[:10], sep="\n  ")
            ok = False
        if args.keep:
            print("run folder kept:", rundir)
        else:
            shutil.rmtree(rundir, ignore_errors=True)
        result["ok"] = ok and result.get("stats_ok", False)
        print("RESULT " + json.dumps(result, sort_keys=True))
    sys.exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
