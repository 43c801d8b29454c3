"""conf/compose/docker-compose.yml, the several-machines example of docs/cluster.md, really
started: `make deb`, the image built from it, two nats-servers, hosta (the database, nginx,
golive-api, a pushd node) and nodeb (a pushd node without the database). Two sockets through
hosta's nginx land one on each node, and every publish (one from each, one over REST) reaches
both and is stored on hosta.

It needs a running Docker engine and a `debian:12` image; tools/docker-base.sh makes both on a
machine without a registry (as here, and .ci/run calls it). Without them it is skipped and says
which is missing."""

import asyncio
import json
import os
import re
import shutil
import subprocess
import time

import pytest
import requests

from conftest import (REPO, Client, close_all, free_port, is_message, make_token, run,
                      unique_channel)

COMPOSE_FILE = os.path.join(REPO, "conf", "compose", "docker-compose.yml")
SECRET = "compose-test-secret-0123456789abcdef"
PORT = free_port()  # hosta's nginx, published there (GOLIVE_PORT)
PROJECT = "golive-compose-test"  # its own containers, network and volume


def compose_cli():
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"],
                                                 capture_output=True).returncode == 0:
        return ["docker", "compose"]
    return [shutil.which("docker-compose")] if shutil.which("docker-compose") else None


def missing():
    if compose_cli() is None:
        return "neither `docker compose` nor docker-compose is installed"
    if subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        return "no Docker engine is running (dockerd)"
    if subprocess.run(["docker", "image", "inspect", "debian:12"],
                      capture_output=True).returncode != 0:
        return "no local debian:12 image, and no registry to pull one from here"
    return None


pytestmark = [
    pytest.mark.skipif(missing() is not None,
                       reason=f"the compose example needs Docker (tools/docker-base.sh): {missing()}"),
    pytest.mark.skipif("asan" in os.environ.get("GOLIVE_BUILD", ""),
                       reason="the image runs the Debian package, not this build: the release "
                              "run covers it"),
]


def compose(*args, check=True, timeout=900):
    env = dict(os.environ, JWT_SECRET=SECRET, GOLIVE_PORT=str(PORT))
    p = subprocess.run(compose_cli() + ["-p", PROJECT, "-f", COMPOSE_FILE, *args], env=env,
                       cwd=REPO,
                       capture_output=True, text=True, timeout=timeout)
    if check:
        assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    return p


def node_get(service, path):
    """GET path of the pushd in service, on the container's own 127.0.0.1:9470 (its metrics
    and health), with bash's /dev/tcp: the image has no HTTP client."""
    return compose("exec", "-T", service, "bash", "-c",
                   f'exec 3<>/dev/tcp/127.0.0.1/9470 && printf "GET {path} HTTP/1.0\\r\\n\\r\\n" >&3'
                   ' && cat <&3', check=False).stdout


def node_users(service):
    """golive_pushd_connections{auth="user"} of the pushd in service."""
    out = node_get(service, "/metrics")
    return int(re.search(r'^golive_pushd_connections\{auth="user"\} (\d+)', out, re.M).group(1))


@pytest.fixture(scope="module")
def machines():
    make = subprocess.run(["make", "--no-print-directory", "-C", REPO, "deb"],
                          capture_output=True, text=True, timeout=900)
    assert make.returncode == 0, make.stdout[-3000:] + make.stderr[-3000:]
    compose("down", "-v", check=False)
    try:
        compose("up", "-d", "--build")
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{PORT}/api/realtime/channels",
                                timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, compose("logs", check=False).stdout[-4000:]
            time.sleep(0.5)
        # nodeb listens once hosta's store answered it; nginx must not find it closed first
        while not all(" 200 " in node_get(s, "/readyz").split("\n")[0] for s in ("hosta", "nodeb")):
            assert time.monotonic() < deadline, compose("logs", check=False).stdout[-4000:]
            time.sleep(0.5)
        yield
    finally:
        compose("down", "-v", check=False)


def test_two_machines_behind_one_nginx_chat_as_one(machines):
    ch = unique_channel("chat")

    async def body():
        tok = [make_token(f"u_cmp{i}", username=f"user{i}", secret=SECRET) for i in range(2)]
        clients = [await Client.open(f"ws://127.0.0.1:{PORT}/api/ws", token=t) for t in tok]
        try:
            for c in clients:
                await c.subscribe(ch)
            # least_conn: one socket per machine, the second on the node without the database
            assert (node_users("hosta"), node_users("nodeb")) == (1, 1)
            await asyncio.sleep(0.5)  # nodeb's interest in the channel crosses the NATS route
            ids = [await c.publish(ch, {"content": f"from {i}"}) for i, c in enumerate(clients)]
            r = requests.post(f"http://127.0.0.1:{PORT}/api/realtime/channels/{ch}/publish",
                              headers={"Authorization": f"Bearer {tok[0]}"},
                              json={"data": {"content": "over REST"}}, timeout=10)
            assert r.status_code == 200, r.text
            ids.append(r.json()["id"])
            for c in clients:
                for mid in ids:
                    await c.recv_until(is_message(ch, mid), timeout=10)
            return ids
        finally:
            await close_all(*clients)
    ids = run(body(), timeout=60)
    rows = compose("exec", "-T", "hosta", "sqlite3", "/var/lib/golive/golive.db",
                   f"SELECT id, username FROM messages WHERE channel = '{ch}' ORDER BY id").stdout
    assert rows.split() == [f"{ids[0]}|user0", f"{ids[1]}|user1", f"{ids[2]}|user0"], rows
    assert json.loads(requests.get(f"http://127.0.0.1:{PORT}/api/realtime/channels/{ch}/history",
                                   timeout=5).text)["messages"][-1]["id"] == ids[2]
