"""tools/run-stack.sh (`make run`) as an operator runs it: one stack per runtime folder (a
second one refuses before touching anything and names the holder), "GoLive is up." only once
every part answers, a part that fails to start is named and nothing is left running, and a stop
leaves no sockets or pid files behind."""

import asyncio
import os
import re
import signal
import socket
import subprocess
import tempfile
import time

import jwt
import pytest
import requests
import urllib.parse

from conftest import (BUILD, REPO, SANITIZER_MARKERS, SECRET, Client, close_all, free_port, is_message, json_body,
                      make_token, run, unique_channel, wait_for)

RUN_STACK = os.path.join(REPO, "tools", "run-stack.sh")
STALE = ("api.sock", "pushd.sock", "pushd.ipc", "nginx/nginx.pid")


class RunStack:
    def __init__(self, rundir, port, **env):
        self.rundir, self.port = rundir, port
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("GOLIVE_", "LISTEN_"))}
        # pushd's metrics on a free port too: 9470, the default, may be a `make run`'s
        self.env.update({"PORT": str(port), "GOLIVE_RUNDIR": rundir, "GOLIVE_MEDIA": "none",
                         "GOLIVE_PUSHD_METRICS_LISTEN": f"127.0.0.1:{free_port()}",
                         "JWT_SECRET": SECRET, "LOG_LEVEL": "info",
                         "REALTIME_CONFIG_PATH": os.path.join(REPO, "conf", "realtime.yaml")})
        self.env.update(env)
        self.out = os.path.join(rundir, f"run-{time.monotonic_ns()}.out")
        self.proc = None

    def start(self):
        log = open(self.out, "wb")
        try:
            # its own process group: whatever it started is found (and cleaned up) by group
            self.proc = subprocess.Popen([RUN_STACK, os.path.relpath(BUILD, REPO)], env=self.env,
                                         cwd=REPO, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            log.close()
        return self

    def output(self):
        with open(self.out, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_up(self, timeout=20):
        wait_for(lambda: "GoLive is up." in self.output() or self.proc.poll() is not None,
                 timeout, what="run-stack to start")
        assert self.proc.poll() is None, f"run-stack exited {self.proc.returncode}:\n{self.output()}"

    def group_alive(self):
        try:
            os.killpg(self.proc.pid, 0)
            return True
        except ProcessLookupError:
            return False

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                pass
        if self.group_alive():
            os.killpg(self.proc.pid, signal.SIGKILL)
            raise AssertionError(f"processes of run-stack were left running:\n{self.output()}")
        bad = [m for m in SANITIZER_MARKERS if m in self.output()]
        assert not bad, f"sanitizer report {bad} in run-stack's output:\n{self.output()}"
        return self.proc.returncode


@pytest.fixture
def rundir():
    d = tempfile.mkdtemp(prefix="golive-run-")
    os.chmod(d, 0o755)
    return d


def test_second_run_in_the_same_rundir_refuses_and_the_first_keeps_working(rundir):
    port = free_port()
    first = RunStack(rundir, port).start()
    try:
        first.wait_up()
        second = RunStack(rundir, free_port()).start()
        rc = second.proc.wait(20)
        out = second.output()
        assert rc != 0, out
        assert f"pid {first.proc.pid}" in out, out
        assert "GoLive is up." not in out, out
        assert not second.group_alive()

        # the first stack's REST and WebSocket still answer
        ch = unique_channel()
        tok = make_token("u_alice")
        base = f"http://127.0.0.1:{port}"

        async def body():
            c = await Client.open(f"ws://127.0.0.1:{port}/api/ws", token=tok)
            try:
                await c.subscribe(ch)
                r = requests.post(f"{base}/api/realtime/channels/{ch}/publish",
                                  json={"data": {"n": 1}},
                                  headers={"Authorization": f"Bearer {tok}"}, timeout=10)
                reply = json_body(r, 200)
                await c.recv_until(is_message(ch, reply["id"]), what="the REST message")
            finally:
                await close_all(c)

        run(body())
    finally:
        rc = first.stop()
    assert rc in (0, 143, -signal.SIGTERM), (rc, first.output())
    assert "run: stopped" in first.output()
    left = [f for f in STALE if os.path.exists(os.path.join(rundir, f))]
    assert not left, f"left behind after a stop: {left}"


def test_a_part_that_cannot_start_is_named_and_nothing_is_left(rundir):
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen(1)
        rs = RunStack(rundir, port).start()
        rc = rs.proc.wait(30)
        out = rs.output()
    assert rc != 0, out
    assert f"nginx (HTTP on 127.0.0.1:{port})" in out, out
    assert "GoLive is up." not in out, out
    assert not rs.group_alive(), out
    left = [f for f in STALE if os.path.exists(os.path.join(rundir, f))]
    assert not left, f"left behind: {left}"


PUBLIC = """channels:
  - pattern: "public:*"
    private: false
"""
PRIVATE = """channels:
  - pattern: "public:*"
    private: true
    allowed_roles: [moderator]
"""
BROKEN = """channels:
  - pattern: "public:*"
    private: [not, a, bool
"""


def test_sighup_to_run_stack_reloads_the_yaml_in_pushd_and_the_api(rundir):
    cfg = os.path.join(rundir, "realtime.yaml")

    def write(text):
        with open(cfg + ".tmp", "w") as f:
            f.write(text)
        os.replace(cfg + ".tmp", cfg)

    write(PUBLIC)
    port = free_port()
    rs = RunStack(rundir, port, REALTIME_CONFIG_PATH=cfg).start()
    ch = unique_channel()
    base = f"http://127.0.0.1:{port}"
    url = f"ws://127.0.0.1:{port}/api/ws"
    history = f"{base}/api/realtime/channels/{ch}/history"

    def reloads(what):
        return rs.output().count(what)

    async def anon_subscribe():
        c = await Client.open(url)
        try:
            return await c.request({"type": "subscribe", "channel": ch})
        finally:
            await close_all(c)

    try:
        rs.wait_up()
        assert requests.get(history, timeout=10).status_code == 200
        assert run(anon_subscribe())["type"] == "subscribe"

        write(PRIVATE)
        rs.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: reloads(f"config: reloaded {cfg}") >= 2, 10,
                 what="both golive-pushd and golive-api logging the reload")
        assert requests.get(history, timeout=10).status_code in (401, 403)
        r = run(anon_subscribe())
        assert r["type"] == "error" and r["error"]["code"] in ("forbidden", "unauthorized"), r

        write(BROKEN)
        rs.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: reloads("reload failed, keeping the running config") >= 2, 10,
                 what="both binaries refusing the broken file")
        assert f"{cfg}:" in rs.output()  # named with file:line
        assert rs.proc.poll() is None, rs.output()
        assert requests.get(history, timeout=10).status_code in (401, 403)
        r = run(anon_subscribe())
        assert r["type"] == "error", r
        mod = make_token("u_mod", role="moderator")
        assert requests.get(history, headers={"Authorization": f"Bearer {mod}"},
                            timeout=10).status_code == 200
    finally:
        rc = rs.stop()
    assert rc in (0, 143, -signal.SIGTERM), (rc, rs.output())


def test_up_message_prints_sign_in_links_that_work(rundir):
    """make run prints sign-in links for a demo viewer, streamer and moderator: each opens a page
    of the web app, with a fresh token of that role that the servers accept."""
    port = free_port()
    rs = RunStack(rundir, port).start()
    try:
        rs.wait_up()
        out = rs.output()
        links = dict(re.findall(r"^ +(viewer|streamer|moderator) +(http://\S+)$", out, re.M))
        assert set(links) == {"viewer", "streamer", "moderator"}, out
        roles = {"viewer": "user", "streamer": "streamer", "moderator": "moderator"}
        for who, link in links.items():
            u = urllib.parse.urlsplit(link)
            assert u.netloc == f"localhost:{port}", link
            token = urllib.parse.parse_qs(u.query)["token"][0]
            claims = jwt.decode(token, SECRET, algorithms=["HS256"])
            assert claims["role"] == roles[who], claims
            assert 11 * 3600 < claims["exp"] - time.time() <= 12 * 3600, claims
            page = requests.get(f"http://127.0.0.1:{port}{u.path}?{u.query}", timeout=10)
            assert page.status_code == 200 and "text/html" in page.headers["Content-Type"], link
            r = requests.get(f"http://127.0.0.1:{port}/api/realtime/channels/chat:stream_demo/history",
                             headers={"Authorization": f"Bearer {token}"}, timeout=10)
            json_body(r, 200)
        assert "/embed/chat/" in links["moderator"] and "/watch/demo" in links["viewer"]
        assert urllib.parse.urlsplit(links["streamer"]).path == "/stream", links
        # and where pushd's metrics are: the URL answers
        metrics = re.search(r"^  metrics +(http://\S+/metrics)", out, re.M)
        assert metrics and metrics.group(1) == \
            f"http://{rs.env['GOLIVE_PUSHD_METRICS_LISTEN']}/metrics", out
        assert "golive_pushd_connections" in requests.get(metrics.group(1), timeout=10).text
        # and the REST API's reader
        docs = re.search(r"\(described: (http://\S+/docs/api)\)", out)
        assert docs and 'src="/app/api-docs.js"' in requests.get(docs.group(1), timeout=10).text, out
    finally:
        rs.stop()


def free_ports_in_a_row(n):
    """A free loopback port whose n - 1 successors are free too."""
    def free(port):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return True
            except OSError:
                return False
    while True:
        base = free_port()
        if base + n < 65536 and all(free(base + k) for k in range(1, n)):
            return base


@pytest.mark.skipif(subprocess.run(["sh", "-c", "command -v nats-server"],
                                   capture_output=True).returncode != 0,
                    reason="nats-server is not installed (tools/install-deps.sh installs it)")
def test_run_cluster_balances_websockets_over_three_nodes_that_chat_as_one(tmp_path):
    """`make run-cluster`: three nats-servers, three pushd nodes, nginx balancing /api/ws; three
    browsers' sockets land on three nodes and a REST publish reaches them all, and so do their
    own publishes, node 3's stored without the database (GOLIVE_CLUSTER_REMOTE=1). With the
    media server on, as `make run-cluster` starts it. Stopping it leaves nothing running, NATS
    servers included."""
    rundir = str(tmp_path)
    os.chmod(rundir, 0o755)
    metrics = free_ports_in_a_row(3)  # node k's metrics on this port + k - 1
    ports = " ".join(str(free_port()) for _ in range(3))
    routes = " ".join(str(free_port()) for _ in range(3))
    rs = RunStack(rundir, free_port(), GOLIVE_CLUSTER_NODES="3", GOLIVE_CLUSTER_REMOTE="1",
                  GOLIVE_NATS_PORTS=ports, GOLIVE_NATS_ROUTE_PORTS=routes,
                  GOLIVE_MEDIA="nginx-rtmp", RTMP_PORT=str(free_port()),
                  HLS_PORT=str(free_port()),
                  GOLIVE_PUSHD_METRICS_LISTEN=f"127.0.0.1:{metrics}").start()
    try:
        rs.wait_up(30)
        out = rs.output()
        assert re.search(r"^  cluster +3 golive-pushd nodes", out, re.M), out
        assert re.search(r"^ +n3 without the database", out, re.M), out
        node_metrics = [f"http://127.0.0.1:{metrics + k}/metrics" for k in range(3)]

        def users(url):
            m = re.search(r'^golive_pushd_connections\{auth="user"\} (\d+)',
                          requests.get(url, timeout=5).text, re.M)
            return int(m.group(1))
        for url in node_metrics:
            assert re.search(r"^golive_pushd_cluster_connected 1$",
                             requests.get(url, timeout=5).text, re.M), url
        ch = unique_channel("chat")
        tok = make_token("u_rc", username="rc", secret=SECRET)

        async def body():
            clients = [await Client.open(f"ws://127.0.0.1:{rs.port}/api/ws", token=tok)
                       for _ in range(3)]
            try:
                for c in clients:
                    await c.subscribe(ch)
                # least_conn: one socket per node
                assert [users(u) for u in node_metrics] == [1, 1, 1]
                await asyncio.sleep(0.3)  # the nodes' new interest crosses the NATS routes
                r = requests.post(f"http://127.0.0.1:{rs.port}/api/realtime/channels/{ch}/publish",
                                  headers={"Authorization": f"Bearer {tok}"},
                                  json={"data": {"content": "to every node"}}, timeout=10)
                mids = [json_body(r)["id"]]
                for i, c in enumerate(clients):
                    mids.append(await c.publish(ch, {"content": f"from socket {i}"}))
                for c in clients:
                    for mid in mids:
                        await c.recv_until(is_message(ch, mid), timeout=10)
            finally:
                await close_all(*clients)
        run(body())
    finally:
        assert rs.stop() in (0, 143, 130), rs.output()
