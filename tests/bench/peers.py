#!/usr/bin/python3
"""Peer push servers for GoLive's benchmarks: nchan (nginx module) and Pushpin, each started
from its own config in its own folder, listening on loopback only, and tuned for a fair fight
with golive-pushd:

- nchan: ONE nginx worker (golive-pushd is one event loop too), 20000 connections, in-memory
  store only (no Redis), a 10-message / 60 s per-channel buffer, no subscriber timeout, no
  websocket pings, and new subscribers start at the next message (no replay of the buffer).
- Pushpin: the Debian package's architecture as is (runner + condure + zurl + pushpin-proxy +
  pushpin-handler; it cannot be squeezed into one process), 20000 client connections, and the
  handler's publish throttle switched off (message_rate=0, message_hwm=0, see PUSHPIN_CONF).
  Subscriptions come from grip_backend.py, a separate process that is NOT counted as Pushpin.

Both log at warning level only. Usage from a benchmark:

    peer = start_nchan(workdir, port)            # or start_pushpin(workdir, port, backend_port)
    peer.sub_url("room1")                        # ws:// URL for a subscriber
    peer.pub_url(ch), peer.publish_body(ch, text) # HTTP POST publishing (pub_url_template too)
    peer.pids()                                  # every server process, for /proc CPU and RSS
    peer.stop()

Smoke test (Debian's python3-websockets):
    /usr/bin/python3 tests/bench/peers.py [SUBSCRIBERS=3] [MESSAGES=5]
starts both peers on free ports, connects SUBSCRIBERS clients per peer to channel "smoke",
publishes MESSAGES texts over HTTP, checks that every client got exactly those texts in order,
prints the pids, their RSS and how long the clients took to connect and be subscribed, stops
everything and exits 1 on any failure.
"""

import asyncio
import http.client
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
NCHAN_MODULE = "/usr/lib/nginx/modules/ngx_nchan_module.so"  # from libnginx-mod-nchan
PUSHPIN_PACKAGED_CONF = "/etc/pushpin/pushpin.conf"
MAX_CONNS = 20000  # matches the per-process open-file hard limit on the bench machine
STOP_GRACE = 5.0
READY_TIMEOUT = 15.0

NGINX_CONF = """\
load_module {module};
{user}
worker_processes 1;
worker_rlimit_nofile {maxconn};
pid {wd}/nginx.pid;
error_log stderr warn;

events {{
    worker_connections {maxconn};
    use epoll;
    multi_accept on;
}}

http {{
    access_log off;
    default_type application/octet-stream;
    # nginx's compiled-in temp paths are under /var/lib/nginx: keep everything in the workdir.
    client_body_temp_path {wd}/tmp/body;
    proxy_temp_path {wd}/tmp/proxy;
    fastcgi_temp_path {wd}/tmp/fastcgi;
    uwsgi_temp_path {wd}/tmp/uwsgi;
    scgi_temp_path {wd}/tmp/scgi;
    # A publisher keeps one connection for its whole run, as it does with the other servers.
    keepalive_requests 1000000;

    # Shared memory holds channels, messages and per-subscriber state; 256M is ample for 20k
    # subscribers (only the pages actually used count towards RSS).
    nchan_shared_memory_size 256M;
    # Small in-memory buffer: a chat push server does not keep history.
    nchan_message_buffer_length 10;
    nchan_message_timeout 60s;
    # Idle websocket subscribers must never be dropped during a test (0 is nchan's default,
    # spelled out so that a packaging change cannot alter the fight).
    nchan_subscriber_timeout 0;

    server {{
        # A deep accept queue (nginx's default is 511), so that connection bursts from the
        # load generator are not dropped and retried: Pushpin's condure listens with 1024.
        listen 127.0.0.1:{port} backlog=4096;
        location ~ ^/sub/(.+)$ {{
            nchan_subscriber websocket;
            nchan_channel_id $1;
            # Server and location level only, unlike the directives above. No pings (the
            # default, as for nchan_subscriber_timeout), and, like golive-pushd, a new
            # subscriber gets only what is published after it joined, not the channel's
            # buffer (nchan's default is "oldest").
            nchan_websocket_ping_interval 0;
            nchan_subscriber_first_message newest;
        }}
        # POST publishes the raw body; nchan answers 201 (delivered) or 202 (no subscriber).
        location ~ ^/pub/(.+)$ {{
            nchan_publisher http;
            nchan_channel_id $1;
        }}
        # Anything else (e.g. the readiness probe) without touching the filesystem.
        location / {{
            return 404;
        }}
    }}
}}
"""


class Peer:
    """A running peer server and what a benchmark needs to drive and measure it."""

    def __init__(self, name, workdir, server, port, publish_port, sub_template, pub_url_template,
                 pub_content_type, body_of, helpers=()):
        self.name = name
        self.workdir = workdir
        self.port = port
        self.publish_port = publish_port
        # URL to POST a message to; "{ch}" is the channel. Pushpin's has no placeholder: the
        # channel is in the JSON body (see publish_body). Pushpin closes the connection after
        # every publish (no keep-alive); nchan keeps it.
        self.pub_url_template = pub_url_template
        self.pub_content_type = pub_content_type
        self._server = server
        self._sub_template = sub_template
        self._body_of = body_of
        self._helpers = list(helpers)

    def sub_url(self, channel):
        return self._sub_template.format(ch=urllib.parse.quote(channel, safe=""))

    def pub_url(self, channel):
        return self.pub_url_template.format(ch=urllib.parse.quote(channel, safe=""))

    def publish_body(self, channel, text):
        """The HTTP POST body that publishes `text` to `channel` (bytes)."""
        return self._body_of(channel, text)

    def publish_http(self, channel, text, timeout=10):
        """Publishes one message with a fresh HTTP connection; returns the HTTP status."""
        url = urllib.parse.urlsplit(self.pub_url(channel))
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
        try:
            conn.request("POST", url.path, self.publish_body(channel, text),
                         {"Content-Type": self.pub_content_type})
            resp = conn.getresponse()
            resp.read()
        finally:
            conn.close()
        if resp.status // 100 != 2:
            raise RuntimeError(f"{self.name}: publish to {channel!r} answered {resp.status}")
        return resp.status

    def pids(self):
        """The server's main process and all its descendants (never the GRIP backend)."""
        return descendants(self._server.pid)

    def stop(self):
        """SIGTERM the server (and its helpers); SIGKILL whatever is left after STOP_GRACE."""
        procs = self.pids()
        terminate(self._server, procs)
        for helper in self._helpers:
            terminate(helper, [helper.pid])


# ------------------------------------------------------------------------------------------
# Process plumbing.

def raise_nofile():
    """preexec_fn: lift the open-file soft limit to the hard limit."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def spawn(argv, workdir, logname):
    log = open(os.path.join(workdir, logname), "wb")
    with log:
        return subprocess.Popen(argv, cwd=workdir, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, preexec_fn=raise_nofile)


def descendants(root):
    """[root] + every live descendant of root, from /proc."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue  # exited while we looked
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def terminate(proc, pids):
    """SIGTERM proc (its own children are its business), then SIGKILL any of pids left."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(STOP_GRACE)
    except subprocess.TimeoutExpired:
        pass
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline and any(alive(p) for p in pids if p != proc.pid):
        time.sleep(0.05)
    for pid in pids:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
    proc.wait()


def wait_http(port, procs, timeout=READY_TIMEOUT):
    """Waits until something answers HTTP on 127.0.0.1:port (any status will do)."""
    deadline = time.monotonic() + timeout
    while True:
        dead = [p for p in procs if p.poll() is not None]
        if dead:
            raise RuntimeError(f"{dead[0].args[0]} exited with {dead[0].returncode}")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        try:
            conn.request("GET", "/")
            conn.getresponse().read()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing answers HTTP on port {port} after {timeout} s")
            time.sleep(0.1)
        finally:
            conn.close()


def started(peer_factory, procs, log, ports):
    """Returns the peer once every port answers; on failure stops procs, shows the log, raises."""
    try:
        for port in ports:
            wait_http(port, procs)
    except RuntimeError as e:
        for proc in procs:
            terminate(proc, descendants(proc.pid))
        with open(log, errors="replace") as f:
            sys.stderr.write(f.read()[-4000:])
        raise RuntimeError(f"{e} (logs in {os.path.dirname(log)})") from e
    return peer_factory()


# ------------------------------------------------------------------------------------------
# nchan.

def start_nchan(workdir, port):
    """nginx + nchan in workdir: websocket subscribers on /sub/<ch>, HTTP POST on /pub/<ch>."""
    os.makedirs(os.path.join(workdir, "tmp"), exist_ok=True)
    conf = os.path.join(workdir, "nginx.conf")
    with open(conf, "w") as f:
        # As root the workers would run as nobody, which cannot enter a private temp dir.
        f.write(NGINX_CONF.format(module=NCHAN_MODULE, wd=workdir, port=port, maxconn=MAX_CONNS,
                                  user="user root;" if os.geteuid() == 0 else ""))
    argv = ["nginx", "-p", workdir, "-c", conf, "-e", "stderr", "-g", "daemon off;"]
    check = subprocess.run(argv + ["-t", "-q"], capture_output=True, text=True)
    if check.returncode:
        raise RuntimeError(f"nginx -t rejected {conf}:\n{check.stderr}")
    server = spawn(argv, workdir, "nginx.log")
    return started(lambda: Peer("nchan", workdir, server, port, port,
                                f"ws://127.0.0.1:{port}/sub/{{ch}}",
                                f"http://127.0.0.1:{port}/pub/{{ch}}", "text/plain",
                                lambda ch, text: text.encode()),
                   [server], os.path.join(workdir, "nginx.log"), [port])


# ------------------------------------------------------------------------------------------
# Pushpin.

# Changes to Debian's /etc/pushpin/pushpin.conf, as (section, key) -> value. start_pushpin
# fills in the "{...}" fields; "{{...}}" are left as Pushpin's own "{...}" placeholders.
PUSHPIN_CONF = {
    ("global", "rundir"): "{wd}/run",
    # Debian's runner does not start zurl (the package expects the system zurl service under
    # /var/run/zurl), but pushpin-proxy needs it to reach the backend: run a private one, and
    # point the proxy at it instead of at the system paths from /usr/lib/pushpin/internal.conf.
    ("runner", "services"): "condure,zurl,pushpin-proxy,pushpin-handler",
    ("proxy", "zurl_out_specs"): "ipc://{{rundir}}/{{ipc_prefix}}zurl-in",
    ("proxy", "zurl_out_stream_specs"): "ipc://{{rundir}}/{{ipc_prefix}}zurl-in-stream",
    ("proxy", "zurl_in_specs"): "ipc://{{rundir}}/{{ipc_prefix}}zurl-out",
    ("runner", "http_port"): "127.0.0.1:{port}",
    ("runner", "logdir"): "{wd}/log",
    ("runner", "log_level"): "1",  # warnings only, like nginx (info logs every request)
    # condure's --stream-maxconn: the same 20000 client connections nginx gets.
    ("runner", "client_maxconn"): "{maxconn}",
    ("proxy", "routesfile"): "{wd}/routes",
    # The packaged handler binds TCP 5560/5562/5563; IPC in the workdir cannot clash.
    ("handler", "push_in_spec"): "ipc://{{rundir}}/{{ipc_prefix}}push-in",
    ("handler", "push_in_sub_specs"): "ipc://{{rundir}}/{{ipc_prefix}}push-in-sub",
    ("handler", "command_spec"): "ipc://{{rundir}}/{{ipc_prefix}}command",
    ("handler", "push_in_http_addr"): "127.0.0.1",
    ("handler", "push_in_http_port"): "{pubport}",
    # The handler's publish limiter counts deliveries (one per subscriber per message). The
    # packaged message_rate=2500 / message_hwm=25000 queue deliveries beyond 2500 per second
    # and silently DROP them once 25000 are queued: one message to 20000 subscribers takes 8 s
    # and a second one is partly lost, so the benchmark would measure the throttle, not
    # Pushpin. Values <= 0 mean "no limit" (RateLimiter in src/handler/ of Pushpin's source).
    ("handler", "message_rate"): "0",
    ("handler", "message_hwm"): "0",
}


def pushpin_conf(packaged, values):
    """The packaged config with PUSHPIN_CONF applied (replacing or adding keys in place)."""
    pending = {key: val.format(**values) for key, val in PUSHPIN_CONF.items()}
    out, section = [], None

    def flush(name):  # keys the packaged section [name] lacks go at its end
        for key in [key for key in pending if key[0] == name]:
            out.append(f"{key[1]}={pending.pop(key)}")

    for line in packaged.splitlines():
        if line.startswith("["):
            flush(section)
            section = line.strip("[]")
        key = line.split("=", 1)[0].strip()
        if "=" in line and not line.startswith("#") and (section, key) in pending:
            line = f"{key}={pending.pop((section, key))}"
        out.append(line)
    flush(section)
    if pending:
        raise RuntimeError(f"sections missing from {PUSHPIN_PACKAGED_CONF}: {sorted(pending)}")
    return "\n".join(out) + "\n"


def start_pushpin(workdir, port, backend_port):
    """Pushpin in workdir: websockets on /ws/<ch> (subscribed by grip_backend.py on
    backend_port), publishing with POST http://127.0.0.1:<port+1>/publish/."""
    pubport = port + 1
    for sub in ("run", "log"):
        os.makedirs(os.path.join(workdir, sub), exist_ok=True)
    with open(os.path.join(workdir, "routes"), "w") as f:
        f.write(f"* 127.0.0.1:{backend_port},over_http\n")
    with open(PUSHPIN_PACKAGED_CONF) as f:
        text = pushpin_conf(f.read(), dict(wd=workdir, port=port, pubport=pubport,
                                           maxconn=MAX_CONNS))
    conf = os.path.join(workdir, "pushpin.conf")
    with open(conf, "w") as f:
        f.write(text)
    backend = spawn([sys.executable, os.path.join(HERE, "grip_backend.py"), str(backend_port)],
                    workdir, "backend.log")
    server = spawn(["pushpin", "--config", conf], workdir, "pushpin.log")

    def body(channel, text):
        item = {"channel": channel, "formats": {"ws-message": {"content": text}}}
        return json.dumps({"items": [item]}).encode()

    return started(lambda: Peer("pushpin", workdir, server, port, pubport,
                                f"ws://127.0.0.1:{port}/ws/{{ch}}",
                                f"http://127.0.0.1:{pubport}/publish/", "application/json",
                                body, [backend]),
                   [server, backend], os.path.join(workdir, "pushpin.log"),
                   [backend_port, pubport, port])


# ------------------------------------------------------------------------------------------
# Smoke test.

def free_port(pair=False):
    """A free loopback port (with port+1 free too when pair is set)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if not pair:
            return port
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 1))
                return port
            except OSError:
                pass


def cpu_secs(pid):
    """User + system CPU seconds of pid (every thread), from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kb(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                total += next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
        except (OSError, StopIteration):
            pass
    return total


# Pushpin answers 502 to some handshakes when ~100 or more are in flight at once (its proxy
# hands each one to zurl through a ZeroMQ queue of 100 and fails fast when that is full), so
# the smoke test paces itself below that. A benchmark's connect phase has to do the same.
CONNECT_CONCURRENCY = 50


async def subscribe(url, got, sem):
    """Opens one client that appends every text it receives to got; returns (ws, reader)."""
    import websockets  # only the smoke test needs a client library
    async with sem:
        ws = await websockets.connect(url, ping_interval=None, compression=None,
                                      close_timeout=1, open_timeout=30)

    async def reader():
        async for msg in ws:
            got.append(msg if isinstance(msg, str) else msg.decode())
    return ws, asyncio.create_task(reader())


async def until(cond, timeout):
    """Waits up to timeout seconds for cond(); returns its last value."""
    deadline = time.monotonic() + timeout
    while not cond() and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    return cond()


async def wait_subscribed(peer, channel, got, timeout=60):
    """A 101 does not mean the subscription is live (Pushpin subscribes asynchronously), so
    publish probes until every client has seen one; returns how many were needed."""
    deadline = time.monotonic() + timeout
    probes = 0
    while not all(got):
        if time.monotonic() > deadline:
            done = sum(1 for g in got if g)
            raise RuntimeError(f"{done}/{len(got)} subscribed after {timeout} s")
        probes += 1
        await asyncio.to_thread(peer.publish_http, channel, f"probe {probes}")
        await until(lambda: all(got), 0.2)
    return probes


async def check_delivery(peer, channel, got, nmsgs):
    """Publishes nmsgs texts; raises unless every client got exactly them, in order."""
    texts = [f'smoke {i} "quoted" \\ é {"x" * i}' for i in range(1, nmsgs + 1)]
    for text in texts:
        await asyncio.to_thread(peer.publish_http, channel, text)

    def received(g):
        return [m for m in g if not m.startswith("probe ")]

    await until(lambda: all(len(received(g)) >= nmsgs for g in got), 30)
    await asyncio.sleep(0.2)  # let duplicates, if any, arrive
    bad = sum(1 for g in got if received(g) != texts)
    if bad:
        raise RuntimeError(f"{bad}/{len(got)} clients did not get exactly the {nmsgs} messages")


async def smoke(peer, nsubs, nmsgs, channel="smoke"):
    """Connects nsubs clients and checks delivery; returns timings and RSS with them open."""
    got = [[] for _ in range(nsubs)]
    sem = asyncio.Semaphore(CONNECT_CONCURRENCY)
    t0 = time.monotonic()
    results = await asyncio.gather(*(subscribe(peer.sub_url(channel), g, sem) for g in got),
                                   return_exceptions=True)
    conns = [r for r in results if not isinstance(r, BaseException)]
    try:
        if len(conns) < nsubs:
            err = next(r for r in results if isinstance(r, BaseException))
            raise RuntimeError(f"{nsubs - len(conns)}/{nsubs} clients failed to connect: {err!r}")
        t_open = time.monotonic() - t0
        probes = await wait_subscribed(peer, channel, got)
        t_ready = time.monotonic() - t0
        await check_delivery(peer, channel, got, nmsgs)
        return t_open, t_ready, probes, rss_kb(peer.pids())
    finally:
        await asyncio.gather(*(ws.close() for ws, _ in conns), return_exceptions=True)
        await asyncio.gather(*(task for _, task in conns), return_exceptions=True)


def run_peer(start, nsubs, nmsgs):
    peer = start()
    try:
        t_open, t_ready, probes, rss = asyncio.run(smoke(peer, nsubs, nmsgs))
        print(f"{peer.name}: OK {nsubs} clients x {nmsgs} messages; connected in {t_open:.2f} s, "
              f"all subscribed after {t_ready:.2f} s ({probes} probe(s)); pids {peer.pids()}, "
              f"total RSS with the clients open {rss / 1024:.1f} MiB")
    finally:
        peer.stop()


def main():
    nsubs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    nmsgs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    raise_nofile()  # the clients need nsubs sockets here too
    root = tempfile.mkdtemp(prefix="golive-peers-")
    ok = True
    for name, start in (
            ("nchan", lambda: start_nchan(os.path.join(root, "nchan"), free_port())),
            ("pushpin", lambda: start_pushpin(os.path.join(root, "pushpin"),
                                              free_port(pair=True), free_port()))):
        os.makedirs(os.path.join(root, name))
        try:
            run_peer(start, nsubs, nmsgs)
        except Exception as e:  # report every peer, then fail
            ok = False
            print(f"{name}: FAILED: {e} (logs in {root}/{name})", file=sys.stderr)
    if ok:
        shutil.rmtree(root)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
