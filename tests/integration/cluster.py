"""A pushd cluster on loopback for the cluster tests (docs/cluster.md): three real nats-server
processes routed into one NATS cluster, and three golive-pushd nodes on one SQLite file. Node 1
is the module's stack (nginx, golive-api, its pushd with GOLIVE_NATS_URL); nodes 2 and 3 are
more pushd processes on the stack's database, each with its own socket, nng and metrics port.
Each node names its own NATS server first, so killing one server cuts one node off."""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest
import requests

from conftest import (PUSHD_BIN, SANITIZER_MARKERS, Client, can_connect_tcp, can_connect_unix,
                      free_port, stop_process, wait_for)

NATS_SERVER = shutil.which("nats-server")


class NatsServer:
    def __init__(self, name, port, cluster_port, routes, workdir):
        self.name, self.port, self.cluster_port = name, port, cluster_port
        self.routes, self.workdir = routes, workdir
        self.proc = None

    @property
    def url(self):
        return f"nats://127.0.0.1:{self.port}"

    def start(self):
        log = open(os.path.join(self.workdir, f"{self.name}.log"), "ab")
        try:
            self.proc = subprocess.Popen(
                [NATS_SERVER, "-a", "127.0.0.1", "-p", str(self.port), "-n", self.name,
                 "--cluster_name", "golive-test", "--cluster",
                 f"nats://127.0.0.1:{self.cluster_port}", "--routes", ",".join(self.routes)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        finally:
            log.close()
        wait_for(lambda: can_connect_tcp(self.port), timeout=10, what=f"{self.name} to listen")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


class Node:
    """One golive-pushd of the cluster that is not the stack's. With remote_store, it runs as
    on a machine without the database (GOLIVE_STORE=nats): its GOLIVE_DB names a file in a
    folder that does not exist, so any attempt to open it would fail."""

    def __init__(self, stack, name, nats_urls, workdir, remote_store=False):
        self.stack, self.name, self.nats_urls = stack, name, nats_urls
        self.remote_store = remote_store
        self.rundir = os.path.join(workdir, name)
        os.makedirs(self.rundir, exist_ok=True)
        os.chmod(self.rundir, 0o755)
        self.metrics_port = free_port()
        self.proc = None

    @property
    def sock_path(self):
        return os.path.join(self.rundir, "pushd.sock")

    @property
    def log_path(self):
        return os.path.join(self.rundir, "pushd.log")

    def start(self):
        env = self.stack.pushd_env()
        env.update({"GOLIVE_RUNDIR": self.rundir, "GOLIVE_DB": self.stack.db_path,
                    "GOLIVE_PUSHD_METRICS_LISTEN": f"127.0.0.1:{self.metrics_port}",
                    "GOLIVE_NATS_URL": self.nats_urls, "GOLIVE_NODE_NAME": self.name})
        if self.remote_store:
            env.update({"GOLIVE_STORE": "nats",
                        "GOLIVE_DB": os.path.join(self.rundir, "no-such-dir", "golive.db")})
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen([PUSHD_BIN], env=env, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT)
        finally:
            log.close()
        wait_for(lambda: can_connect_unix(self.sock_path) or self.proc.poll() is not None,
                 timeout=10, what=f"{self.name} to listen")
        assert self.proc.poll() is None, self.log_tail()

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            stop_process(self.proc)

    def log_tail(self, n=30):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    async def client(self, token=None, **kw):
        return await Client.open("ws://localhost/api/ws", token=token, unix=self.sock_path, **kw)


class StackNode:
    """The stack's own pushd, seen as node 1."""

    def __init__(self, stack):
        self.stack, self.name = stack, "n1"
        self.metrics_port = stack.metrics_port
        self.sock_path = stack.sock_path

    async def client(self, token=None, **kw):
        return await self.stack.client(token, **kw)


async def ban_ends_the_subscription(stack, client, channel, user_id):
    """A moderator's REST ban of user_id (golive-api tells node 1) unsubscribes client, on
    whichever node it is, with reason banned; that node then refuses the user's subscribe."""
    from conftest import is_event
    mod = stack.token("u_mod_cl", username="mod", role="moderator")
    r = stack.rest("POST", channel, "users", user_id, "ban", token=mod, json={"reason": "spam"})
    assert r.status_code == 200, r.text
    gone = await client.recv_until(is_event("unsubscribed"), timeout=10,
                                   what=f"{user_id}'s unsubscribe")
    assert gone["reason"] == "banned", gone
    await client.error({"type": "subscribe", "channel": channel}, "forbidden")


def nats_env(ports):
    """The module's STACK_ENV: node 1 on the three NATS servers, its own first."""
    return {"GOLIVE_NATS_URL": ",".join(f"nats://127.0.0.1:{p}" for p in ports),
            "GOLIVE_NODE_NAME": "n1"}


def metric(node, name):
    """One unlabeled series of node's /metrics."""
    text = requests.get(f"http://127.0.0.1:{node.metrics_port}/metrics", timeout=5).text
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split(" ")[1])
    raise AssertionError(f"{name} is not in {node.name}'s metrics")


def connected(node):
    """Whether node's metrics say NATS is connected (the sample's line, not its HELP text,
    which names the series and "1" too)."""
    try:
        text = requests.get(f"http://127.0.0.1:{node.metrics_port}/metrics", timeout=2).text
    except requests.RequestException:
        return False
    return re.search(r"^golive_pushd_cluster_connected 1$", text, re.M) is not None


class Cluster:
    def __init__(self, stack, nats_ports, remote_store=()):
        if NATS_SERVER is None:
            pytest.skip("nats-server is not installed (tools/install-deps.sh installs it)")
        self.stack = stack
        self.workdir = tempfile.mkdtemp(prefix="golive-cluster-")
        os.chmod(self.workdir, 0o755)
        cports = [free_port() for _ in nats_ports]
        self.nats = [NatsServer(f"nats{i + 1}", p, cports[i],
                                [f"nats://127.0.0.1:{c}" for j, c in enumerate(cports) if j != i],
                                self.workdir) for i, p in enumerate(nats_ports)]
        urls = [s.url for s in self.nats]
        self.nodes = [StackNode(stack)] + [
            Node(stack, f"n{k + 1}", ",".join(urls[k:] + urls[:k]), self.workdir,
                 remote_store=f"n{k + 1}" in remote_store)
            for k in (1, 2)]

    def start(self):
        for s in self.nats:
            s.start()
        for n in self.nodes[1:]:
            n.start()
        for n in self.nodes:
            wait_for(lambda: connected(n), timeout=15, what=f"{n.name} to join NATS")
        # the routes between the servers are up once each server sees the others' interest;
        # a short wait keeps the first test from racing the route handshake
        time.sleep(0.5)

    def stop(self):
        for n in self.nodes[1:]:
            n.stop()
        for s in self.nats:
            if s.proc is not None and s.proc.poll() is None:
                stop_process(s.proc)
        # an ASan build's report in a node's log fails the module (the stack checks node 1's)
        reports = [(n.name, m) for n in self.nodes[1:] for m in SANITIZER_MARKERS
                   if m in n.log_tail(100000)]
        shutil.rmtree(self.workdir, ignore_errors=True)
        assert not reports, f"sanitizer reports in the cluster's nodes: {reports}"
