"""At its open-file limit pushd refuses new sockets at once (it closes them right after
accept) and keeps the last 64 descriptors for SQLite and nng, instead of letting accept() fail
with EMFILE, which lws 4.1 retries in a busy loop while clients hang in the backlog. Clients
already connected keep working, and a slot freed by a leaving client is used again."""
import os
import resource
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import PUSHD_BIN, SECRET, can_connect_tcp, free_port, wait_for

NOFILE = 256  # pushd's limit in this test; it accepts up to NOFILE - 64 descriptors
UPGRADE = (b"GET /api/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_ws(port):
    """A socket after its upgrade, or None when pushd closed it instead of answering."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    head = b""
    try:
        s.sendall(UPGRADE)
        while b"\r\n\r\n" not in head:
            chunk = s.recv(4096)
            if not chunk:
                raise ConnectionResetError
            head += chunk
    except (ConnectionResetError, BrokenPipeError):
        s.close()
        return None
    assert head.startswith(b"HTTP/1.1 101"), head
    return s


@pytest.fixture
def limited_pushd():
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # this test opens ~300 sockets
    rundir = tempfile.mkdtemp(prefix="golive-fdlimit-")
    port = free_port()
    # ~300 anonymous sockets from one address: past the per-address limits, which are lifted
    config = os.path.join(rundir, "realtime.yaml")
    with open(config, "w") as f:
        f.write("rate_limits:\n  connections: {burst: 0}\n  anonymous_per_ip: 0\n")
    env = dict(os.environ, GOLIVE_RUNDIR=rundir, JWT_SECRET=SECRET, LOG_LEVEL="info",
               GOLIVE_PUSHD_LISTEN=f"127.0.0.1:{port}", REALTIME_CONFIG_PATH=config)
    log = open(os.path.join(rundir, "pushd.log"), "wb")
    proc = subprocess.Popen([PUSHD_BIN], env=env, stdout=log, stderr=subprocess.STDOUT,
                            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE,
                                                                  (NOFILE, NOFILE)))
    log.close()
    wait_for(lambda: can_connect_tcp(port), timeout=10, what="pushd listening")
    yield proc, port, os.path.join(rundir, "pushd.log")
    proc.terminate()
    assert proc.wait(15) == 0
    subprocess.run(["rm", "-rf", rundir])


def test_sockets_past_the_limit_are_closed_at_once_and_pushd_does_not_spin(limited_pushd):
    proc, port, log = limited_pushd
    clients, refused = [], 0
    for _ in range(NOFILE + 40):
        s = open_ws(port)
        if s is None:
            refused += 1
        else:
            clients.append(s)
    assert NOFILE - 64 - 30 <= len(clients) <= NOFILE - 64, len(clients)
    assert refused == NOFILE + 40 - len(clients)

    before = cpu_seconds(proc.pid)
    time.sleep(2)
    assert cpu_seconds(proc.pid) - before < 0.3, "pushd spins at its open-file limit"

    # connected clients still work
    c = clients[0]
    cmd = b'{"type":"subscribe","channel":"public:fd","id":1}'
    c.sendall(bytes([0x81, 0x80 | len(cmd)]) + b"\0\0\0\0" + cmd)
    c.settimeout(5)
    reply = c.recv(4096)
    assert b'"type":"subscribe"' in reply and b'"public:fd"' in reply, reply

    # a leaving client frees a slot for a new one
    for s in clients[-5:]:
        s.close()
    clients = clients[:-5]
    time.sleep(0.3)
    again = open_ws(port)
    assert again is not None, "a freed slot was not used again"
    again.close()
    with open(log, errors="replace") as f:
        warnings = [l for l in f if "at the open-file limit" in l]
    assert len(warnings) == 1, warnings  # logged once, not once per refused socket
    for s in clients:
        s.close()
