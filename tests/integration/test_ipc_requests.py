"""pushd's nng listener as a raw REQ0 peer sees it (docs/wire.md): a request pushd cannot read
is answered with an error reply and logged by what it is, never with uninitialised fields (its
op and channel were once logged from stack garbage); and pushd's own listener probe (every 2 s,
nng 1.5.2 bug #1518, pushd/ipc_watchdog.c) speaks the current wire version, so it is never
refused."""
import json
import socket
import struct
import time

STACK_ENV = {"LOG_LEVEL": "debug"}


def nng_request(path, body):
    """One REQ0 request over nng's IPC transport: SP handshake, then type-1 frames with a
    64-bit length and the request id. Returns the reply's JSON."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    try:
        s.sendall(b"\0SP\0\0\x30\0\0")
        assert s.recv(8) == b"\0SP\0\0\x31\0\0"
        payload = b"\x80\0\0\x01" + body
        s.sendall(b"\x01" + struct.pack(">Q", len(payload)) + payload)
        head = b""
        while len(head) < 9:
            head += s.recv(9 - len(head))
        n = struct.unpack(">Q", head[1:9])[0]
        data = b""
        while len(data) < n:
            data += s.recv(n - len(data))
        return json.loads(data[4:])
    finally:
        s.close()


def test_the_listener_probe_is_a_valid_request(stack):
    """First in this module: no request has been refused yet but for a bad probe."""
    time.sleep(4.5)  # two probes at least
    with open(stack.pushd_log) as f:
        log = f.read()
    assert log.count("DEBUG ipc: stats") >= 2, log[-2000:]
    assert "refused a request" not in log, log[-2000:]


def test_a_request_pushd_cannot_read_is_refused_and_logged_as_such(stack):
    ipc = stack.rundir + "/pushd.ipc"
    for body, why in [(b'{"v":1,"op":"stats"}', "unsupported wire version (want 2)"),
                      (b'{"v":2,"op":"channel","channel":"bad channel"}', "channel"),
                      (b'not json', "")]:
        r = nng_request(ipc, body)
        assert r.get("error") and why in r["error"]["message"], (body, r)
    time.sleep(0.2)
    with open(stack.pushd_log) as f:
        lines = [ln for ln in f if " ipc: " in ln]
    refused = [ln for ln in lines if "refused a request" in ln]
    assert len(refused) >= 2, lines[-10:]
    bad = [ln for ln in lines if "(bad request)" in ln]
    assert bad and all(ln.rstrip().endswith("ipc: (bad request)") for ln in bad), bad
