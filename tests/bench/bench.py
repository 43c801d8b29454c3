#!/usr/bin/python3
"""GoLive's benchmark suite: golive-pushd (+ golive-api behind nginx for REST publishing) beside
nchan and Pushpin, driven by the same C load generator (golive-loadgen) in the same run,
interleaved server by server (A B C A B C), each scenario repeated REPEAT times. Every run's
JSON line goes to the results file; bench_report.py turns them into the medians table of
docs/benchmarks.md.

    make bench                      # everything, REPEAT=2 (~20 min)
    /usr/bin/python3 tests/bench/bench.py --only fanout-1k --repeat 1 --out /tmp/r.jsonl

Never part of `make test`: it needs the whole machine for minutes and its figures are noisy.
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import peers  # noqa: E402

BUILD = os.environ.get("GOLIVE_BUILD", os.path.join(REPO, "build", "release"))
LOADGEN = os.path.join(BUILD, "golive-loadgen")
SECRET = "bench-secret-0123456789abcdef0123"
SOURCES = "127.0.0.2-17"
MSG = '{"lgts":{ts},"seq":{seq}}'  # every publisher's message; golive-loadgen fills in {ts} {seq}
# A chat message with text, for the scenarios that measure the publish checks (chat modes read
# data.content): each one different, so that unique chat refuses none.
MSG_TEXT = '{"lgts":{ts},"seq":{seq},"content":"hello from the bench, message number {seq}"}'
# 100 blocked terms, none of which the bench's messages contain ('*' in every tenth).
BLOCKED_TERMS = [f"blockedword{i}" if i % 10 else f"blocked*phrase{i}" for i in range(100)]


# ------------------------------------------------------------------------------------------
# GoLive, started the way `make run` starts it, on its own ports.

class GoLive:
    """golive-pushd listening on TCP (subscribers connect to it directly, as they would to a
    pushd exposed on its own port), golive-api on a unix socket, nginx in front for REST."""

    name = "golive"
    # The rate limits (docs/moderation.md) are lifted: the suite measures what the server can
    # carry, with a few load-generator users publishing far past a chatter's rate and 19k
    # sockets from 16 addresses. "@quiet" scenarios: no join/leave events either
    # (docs/configuration.md, join_leave_max).
    NO_LIMITS = ("rate_limits:\n  publish: {burst: 0}\n  commands: {burst: 0}\n"
                 "  connections: {burst: 0}\n  anonymous_per_ip: 0\n")
    CONFIG = NO_LIMITS
    QUIET_CONFIG = NO_LIMITS + "namespaces:\n  - name: public\n    join_leave_max: 0\n"
    # "@limits": the rate limits on, at rates no bench publisher reaches, so that every publish
    # and command takes its tokens (the cost of the limiter itself).
    LIMITS_CONFIG = ("rate_limits:\n  publish: {burst: 1000000, per_second: 1000000}\n"
                     "  commands: {burst: 1000000, per_second: 1000000}\n"
                     "  connections: {burst: 0}\n  anonymous_per_ip: 0\n")
    # "@modes": chat modes that let every bench message through but check each one (length,
    # bytes, unique chat, 100 blocked terms: docs/moderation.md "Chat modes").
    MODES_CONFIG = (NO_LIMITS + "namespaces:\n  - name: public\n    chat_modes:\n"
                    "      {max_message_length: 500, max_message_bytes: 4096, unique_chat: true}\n"
                    "blocked_terms: [" + ", ".join(f'"{t}"' for t in BLOCKED_TERMS) + "]\n")

    def __init__(self, workdir, opts=()):
        self.workdir = workdir
        self.ws_port = peers.free_port()
        self.http_port = peers.free_port()
        env = dict(os.environ, JWT_SECRET=SECRET, GOLIVE_RUNDIR=workdir, LOG_LEVEL="warn",
                   GOLIVE_PUSHD_LISTEN=f"127.0.0.1:{self.ws_port}",
                   GOLIVE_PUSHD_METRICS_LISTEN=f"127.0.0.1:{peers.free_port()}")
        for k in ("GOLIVE_DB", "GOLIVE_IPC_URL", "REALTIME_CONFIG_PATH"):
            env.pop(k, None)
        env["REALTIME_CONFIG_PATH"] = os.path.join(workdir, "realtime.yaml")
        with open(env["REALTIME_CONFIG_PATH"], "w") as f:
            f.write(self.QUIET_CONFIG if "@quiet" in opts else
                    self.MODES_CONFIG if "@modes" in opts else
                    self.LIMITS_CONFIG if "@limits" in opts else self.CONFIG)
        self.env = env
        self.pushd = self._spawn([os.path.join(BUILD, "golive-pushd")], "pushd.log")
        self._wait_tcp(self.ws_port, self.pushd)
        self.api = self._spawn([os.path.join(BUILD, "golive-api"), "--listen",
                                os.path.join(workdir, "api.sock")], "api.log")
        conf = subprocess.run([os.path.join(REPO, "tools", "gen-webconf.sh"), "nginx", workdir,
                               str(self.http_port)], check=True, capture_output=True, text=True,
                              env=env).stdout.strip()
        self.nginx = self._spawn(["nginx", "-p", os.path.join(workdir, "nginx"), "-c", conf,
                                  "-e", "stderr"], "nginx.log")
        self._wait_tcp(self.http_port, self.nginx)
        # "@user-pub": an ordinary user publishes, so that every check a viewer's message passes
        # runs (an admin is exempt from the rate limits and the chat modes).
        self.user_pub = "@user-pub" in opts
        self.pub_token = self._token("bench-publisher", "user" if self.user_pub else "admin")
        # Subscribers name their channel in the URL (?channel=), as nchan's and Pushpin's do;
        # "@cmd-sub": with a subscribe command after the upgrade instead, as golive.js does.
        # The WebSocket publishers open the same URL, so a scenario that publishes over
        # WebSocket subscribes with commands (a publisher must not be a subscriber too).
        self.cmd_sub = "@cmd-sub" in opts or "@ws" in opts

    def _spawn(self, argv, logname):
        with open(os.path.join(self.workdir, logname), "wb") as log:
            return subprocess.Popen(argv, env=self.env, cwd=REPO, stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=subprocess.STDOUT,
                                    preexec_fn=peers.raise_nofile)

    def _wait_tcp(self, port, proc):
        deadline = time.monotonic() + 15
        while not can_connect(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{proc.args[0]} did not listen on {port} "
                                   f"(logs in {self.workdir})")
            time.sleep(0.05)

    def _token(self, sub, role):
        return subprocess.run([os.path.join(BUILD, "golive-token"), "--sub", sub, "--role", role],
                              env=self.env, check=True, capture_output=True,
                              text=True).stdout.strip()

    def pids(self):
        return ([self.pushd.pid, self.api.pid] + peers.descendants(self.nginx.pid))

    def loadgen_args(self, ws_publish=False):
        ws = f"ws://127.0.0.1:{self.ws_port}/api/ws"
        sub = (["--url", ws, "--subscribe", '{"type":"subscribe","channel":"{ch}"}']
               if self.cmd_sub else ["--url", ws + "?channel={ch}"])
        args = sub + ["--ready-match", '"type":"subscribe"', "--channel-prefix", "public:bench",
                      "--pub-token", self.pub_token, "--rss-pids", str(self.pushd.pid)]
        if ws_publish:
            msg = MSG_TEXT if self.user_pub else MSG
            return args + ["--pub-ws", '{"type":"publish","channel":"{ch}","data":' + msg + "}"]
        return args + ["--pub-http",
                       f"http://127.0.0.1:{self.http_port}/api/realtime/channels/{{ch}}/publish",
                       "--pub-body", '{"data":' + MSG + "}"]

    def wrk_target(self, floor=False, user=False):
        """floor: the same request without a token, answered 401 by golive-api before any
        database or nng work: what nginx + FastCGI + golive-api's routing cost on their own.
        user: an ordinary user's token, so that the publish checks run (an admin skips them)."""
        headers = {"Content-Type": "application/json"}
        if user:
            headers["Authorization"] = f"Bearer {self._token('bench-user', 'user')}"
        elif not floor:
            headers["Authorization"] = f"Bearer {self.pub_token}"
        return (f"http://127.0.0.1:{self.http_port}/api/realtime/channels/public:wrk/publish",
                '{"data":{"text":"hello from wrk"}}', headers)

    def stop(self):
        for proc in (self.nginx, self.api, self.pushd):
            peers.terminate(proc, peers.descendants(proc.pid))


def can_connect(port):
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


class Nchan:
    name = "nchan"

    def __init__(self, workdir, opts=()):
        self.peer = peers.start_nchan(workdir, peers.free_port())

    def pids(self):
        return self.peer.pids()

    def loadgen_args(self, ws_publish=False):
        return ["--url", f"ws://127.0.0.1:{self.peer.port}/sub/{{ch}}",
                "--channel-prefix", "bench",
                "--pub-http", self.peer.pub_url_template, "--pub-body", MSG,
                "--rss-pids", ",".join(map(str, self.pids()))]

    def wrk_target(self):
        return (self.peer.pub_url("wrk"), "hello from wrk", {"Content-Type": "text/plain"})

    def stop(self):
        self.peer.stop()


class Pushpin:
    name = "pushpin"
    window = 50  # Pushpin answers 502 to part of a burst of 100+ handshakes (peers.py)
    settle = 3.0  # its subscriptions are made in the background after the 101

    def __init__(self, workdir, opts=()):
        self.peer = peers.start_pushpin(workdir, peers.free_port(pair=True), peers.free_port())

    def pids(self):
        return self.peer.pids()

    def loadgen_args(self, ws_publish=False):
        body = json.dumps({"items": [{"channel": "{ch}", "formats": {
            "ws-message": {"content": "@MSG@"}}}]}).replace("@MSG@", MSG.replace('"', '\\"'))
        return ["--url", f"ws://127.0.0.1:{self.peer.port}/ws/{{ch}}",
                "--channel-prefix", "bench",
                "--pub-http", self.peer.pub_url_template, "--pub-body", body,
                "--rss-pids", ",".join(map(str, self.pids()))]

    def wrk_target(self):
        return (self.peer.pub_url_template, self.peer.publish_body("wrk", "hello from wrk").decode(),
                {"Content-Type": "application/json"})

    def stop(self):
        self.peer.stop()


class Floor:
    """golive-bench-floor: one send() of the same framed bytes to each subscriber, nothing
    else (tests/bench/floor/bench_floor.c). The floor a fan-out's CPU per delivery is compared
    with, in the same run."""
    name = "floor"

    def __init__(self, workdir, opts=()):
        self.port = peers.free_port()
        self.log = open(os.path.join(workdir, "floor.log"), "wb")
        self.proc = subprocess.Popen([os.path.join(BUILD, "golive-bench-floor"), str(self.port)],
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, preexec_fn=peers.raise_nofile)
        deadline = time.monotonic() + 10
        while not can_connect(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("golive-bench-floor did not listen")
            time.sleep(0.05)

    def pids(self):
        return [self.proc.pid]

    def loadgen_args(self, ws_publish=False):
        return ["--url", f"ws://127.0.0.1:{self.port}/sub/{{ch}}", "--channel-prefix", "bench",
                "--pub-http", f"http://127.0.0.1:{self.port}/pub/{{ch}}", "--pub-body", MSG,
                "--rss-pids", str(self.proc.pid)]

    def stop(self):
        peers.terminate(self.proc, [])
        self.log.close()


SERVERS = {"golive": GoLive, "nchan": Nchan, "pushpin": Pushpin, "floor": Floor}


# ------------------------------------------------------------------------------------------
# Scenarios: (name, servers, loadgen options). Rates are published messages per second; each
# rate runs DURATION seconds on the same subscribers, then waits for stragglers.

DURATION = "5"
SCENARIOS = [
    ("fanout-1k", ["golive", "nchan", "pushpin"],
     ["--conns", "1000", "--channels", "1", "--rates", "10,100", "--duration", DURATION]),
    ("fanout-10k", ["golive", "nchan", "pushpin"],
     ["--conns", "10000", "--channels", "1", "--rates", "10,20,30,50,100",
      "--duration", DURATION]),
    # One message per loop pass, as a site's backend publishes: one publisher connection, the
    # next message once the previous is answered (closed loop), 5 then 10 a second; beside the
    # send() floor of the same deliveries (golive-bench-floor). At 10/s a fan-out of 10k takes
    # most of a core here: a server that answers the publisher only after its fan-out (nchan,
    # the floor) is sent fewer messages, so compare latencies at 5/s, where all keep up.
    ("fanout-10k-closed", ["golive", "nchan", "floor"],
     ["--conns", "10000", "--channels", "1", "--rates", "5,10", "--duration", "10",
      "--pub-conns", "1"]),
    # The same over WebSocket: pushd stores and fans out itself, without the REST path (nginx,
    # FastCGI, golive-api, nng) in front.
    ("fanout-10k-closed-ws", ["golive"],
     ["--conns", "10000", "--channels", "1", "--rates", "5,10", "--duration", "10",
      "--pub-conns", "1", "@ws"]),
    ("fanout-10k-ws", ["golive"],
     ["--conns", "10000", "--channels", "1", "--rates", "10,20,30,50,100",
      "--duration", DURATION, "@ws"]),
    # The cost of the publish checks (rate limits, chat modes): few subscribers, so that the
    # publish path dominates; an ordinary user publishes over WebSocket, without and with modes.
    ("publish-ws-user", ["golive"],
     ["--conns", "10", "--channels", "1", "--rates", "1000,2000,4000", "--duration", DURATION,
      "@ws", "@user-pub"]),
    ("publish-ws-modes", ["golive"],
     ["--conns", "10", "--channels", "1", "--rates", "1000,2000,4000", "--duration", DURATION,
      "@ws", "@user-pub", "@modes"]),
    ("publish-ws-limits", ["golive"],
     ["--conns", "10", "--channels", "1", "--rates", "1000,2000,4000", "--duration", DURATION,
      "@ws", "@user-pub", "@limits"]),
    ("channels-10k-1000", ["golive", "nchan", "pushpin"],
     ["--conns", "10000", "--channels", "1000", "--rates", "100,1000", "--duration", DURATION]),
    # The same, published over WebSocket: pushd stores and fans out itself, as a publish path
    # without golive-api and nng in front would.
    ("channels-10k-1000-ws", ["golive"],
     ["--conns", "10000", "--channels", "1000", "--rates", "100,1000", "--duration", DURATION,
      "@ws"]),
    ("idle-10k", ["golive", "nchan", "pushpin"],
     ["--conns", "10000", "--channels", "100", "--idle", "5", "@users"]),
    ("idle-19k", ["golive", "nchan", "pushpin"],
     ["--conns", "19000", "--channels", "100", "--idle", "5", "@users"]),
    ("idle-19k-quiet", ["golive"],
     ["--conns", "19000", "--channels", "100", "--idle", "5", "@users", "@quiet"]),
    ("connect-19k", ["golive", "nchan", "pushpin"],
     ["--conns", "19000", "--channels", "1000", "--idle", "1"]),
    # The same with a subscribe command after each upgrade (golive.js's way): one more frame
    # each way per connection.
    ("connect-19k-cmd", ["golive"],
     ["--conns", "19000", "--channels", "1000", "--idle", "1", "@cmd-sub"]),
]


def run_loadgen(server, label, opts, log):
    args = [a for a in opts if not a.startswith("@")]
    extra = server.loadgen_args(ws_publish="@ws" in opts)
    if "@users" in opts and server.name == "golive":
        extra += ["--token-secret", SECRET]  # each socket a user with presence
    window = getattr(server, "window", 1000)
    settle = getattr(server, "settle", 1.0)
    cmd = [LOADGEN, "--label", label, "--sources", SOURCES, "--window", str(window),
           "--settle", str(settle), "--pids", ",".join(map(str, server.pids()))] + extra + args
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=900,
                         preexec_fn=peers.raise_nofile)
    log.write(out.stderr)
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    if not rows:
        raise RuntimeError(f"{label}: golive-loadgen printed nothing (rc {out.returncode})\n"
                           f"{out.stderr[-2000:]}")
    return rows


def run_wrk(server, seconds, log, floor=False, user=False):
    url, body, headers = (server.wrk_target(floor=True) if floor else
                          server.wrk_target(user=True) if user else server.wrk_target())
    script = os.path.join(tempfile.gettempdir(), f"golive-bench-{server.name}.lua")
    with open(script, "w") as f:
        f.write('wrk.method = "POST"\n')
        f.write(f"wrk.body = {json.dumps(body)}\n")
        for k, v in headers.items():
            f.write(f'wrk.headers["{k}"] = "{v}"\n')
    pids = server.pids()
    cpu0 = server_cpu_s(pids)
    out = subprocess.run(["wrk", "-t1", "-c16", f"-d{seconds}s", "--latency", "-s", script, url],
                         capture_output=True, text=True, timeout=seconds + 60)
    cpu = server_cpu_s(pids) - cpu0
    log.write(out.stdout + out.stderr)
    res = parse_wrk(out.stdout)
    done = res.get("req_per_s", 0) * seconds
    res["cpu_us_per_req"] = cpu * 1e6 / done if done else 0
    return res


def server_cpu_s(pids):
    """CPU seconds of pids together; a process gone in the meantime counts for nothing."""
    total = 0.0
    for pid in pids:
        try:
            total += peers.cpu_secs(pid)
        except OSError:
            pass
    return total


def parse_wrk(text):
    """req/s, p50/p99 latency (ms) and non-2xx count from wrk --latency output."""
    def ms(v):
        for unit, f in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
            if v.endswith(unit):
                return float(v[:-len(unit)]) * f
        return float(v)
    res = {"non2xx": 0, "errors": 0}
    for line in text.splitlines():
        parts = line.split()
        if line.startswith("Requests/sec:"):
            res["req_per_s"] = float(parts[1])
        elif len(parts) == 2 and parts[0] in ("50%", "99%"):
            res["p" + parts[0][:-1] + "_ms"] = ms(parts[1])
        elif "Non-2xx" in line:
            res["non2xx"] = int(parts[-1])
        elif line.strip().startswith("Socket errors"):
            res["errors"] = sum(int(x.strip(",")) for x in parts if x.strip(",").isdigit())
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=int(os.environ.get("REPEAT", "2")))
    ap.add_argument("--only", help="comma-separated scenario names (and/or 'wrk')")
    ap.add_argument("--servers", default="golive,nchan,pushpin,floor")
    ap.add_argument("--out", default=os.path.join(REPO, "build", "bench", "results.jsonl"))
    ap.add_argument("--wrk-seconds", type=int, default=10)
    a = ap.parse_args()
    if not os.path.exists(LOADGEN):
        sys.exit(f"{LOADGEN} is missing: run `make bench` (it builds it)")
    only = set(a.only.split(",")) if a.only else None
    wanted = a.servers.split(",")
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    logpath = os.path.splitext(a.out)[0] + ".log"
    print(f"bench: results to {a.out}, loadgen output to {logpath}", flush=True)
    with open(a.out, "a") as out, open(logpath, "a") as log:
        for rep in range(1, a.repeat + 1):
            for scen, names, opts in SCENARIOS:
                if only and scen not in only:
                    continue
                for name in [n for n in names if n in wanted]:
                    run_one(name, scen, opts, rep, out, log)
            if not only or "wrk" in only:
                for name in [n for n in wanted if hasattr(SERVERS[n], "wrk_target")]:
                    run_one_wrk(name, rep, a.wrk_seconds, out, log)


def with_server(name, fn, opts=()):
    workdir = tempfile.mkdtemp(prefix=f"golive-bench-{name}-")
    os.chmod(workdir, 0o755)
    server = SERVERS[name](workdir, opts)
    try:
        result = fn(server)
    finally:
        server.stop()
    shutil.rmtree(workdir, ignore_errors=True)  # kept, with its logs, when the run failed
    return result


def run_one(name, scen, opts, rep, out, log):
    t0 = time.monotonic()
    rows = with_server(name, lambda s: run_loadgen(s, f"{scen}/{name}", opts, log), opts)
    for row in rows:
        row.update(scenario=scen, server=name, repeat=rep, time=time.time())
        out.write(json.dumps(row) + "\n")
    out.flush()
    last = rows[-1]
    brief = (f"setup {last['setup_per_s']:.0f}/s, {last['rss_per_conn']:.0f} B/conn"
             if "rate" not in last else
             ", ".join(f"{r['rate']:g}/s: {r['delivered_per_s']:.0f} deliv/s loss {r['loss']} "
                       f"pub errors {r['pub_err']} "
                       f"p99 {r['lat_us']['p99'] / 1000:.0f} ms {r['cpu_us_per_msg']:.2f} us/msg"
                       for r in rows))
    print(f"bench: [{rep}] {scen:18} {name:8} {time.monotonic() - t0:5.0f} s  {brief}",
          flush=True)


def run_one_wrk(name, rep, seconds, out, log):
    def runs(server):
        yield name, run_wrk(server, seconds, log)
        if name == "golive":  # an ordinary user (the publish checks), the FastCGI floor
            yield "golive-user", run_wrk(server, seconds, log, user=True)
            yield "golive-401-floor", run_wrk(server, seconds, log, floor=True)
    for label, res in with_server(name, lambda s: list(runs(s))):
        res.update(scenario="rest-publish", server=label, repeat=rep, time=time.time())
        out.write(json.dumps(res) + "\n")
        out.flush()
        print(f"bench: [{rep}] {'rest-publish':18} {label:8} {res.get('req_per_s', 0):.0f} req/s "
              f"p99 {res.get('p99_ms', 0):.1f} ms {res['cpu_us_per_req']:.0f} us/req "
              f"non-2xx {res['non2xx']}", flush=True)


if __name__ == "__main__":
    main()
