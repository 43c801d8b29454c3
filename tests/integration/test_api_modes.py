"""golive-api's ways of being run (fcgi-api/main.c): as a CGI program for one request, on a socket
inherited on fd 0 (spawn-fcgi), on a socket passed by systemd socket activation (LISTEN_FDS,
fd 3), the systemd units in conf/systemd, a clean SIGTERM; and what short-lived golive-api
processes (CGI) and kept FastCGI connections (FCGI_KEEP_CONN) must not break.

FastCGI is spoken here by a small client (FastCGI 1.0: BEGIN_REQUEST, PARAMS, STDIN; STDOUT,
STDERR, END_REQUEST), so golive-api is tested on its own sockets, without a web server.
"""

import json
import os
import re
import shutil
import signal
import socket
import stat
import struct
import subprocess
import time
import urllib.parse

import pytest

from conftest import (API_BIN, PUSHD_BIN, REPO, Stack, api_missing_message,
                      can_connect_unix, close_all, expect_error, is_int, is_message, json_body,
                      run, stop_process, unique_channel, wait_for)

STACK_API = True
SBIN_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])


@pytest.fixture(autouse=True)
def _need_api():
    if not os.path.exists(API_BIN):
        pytest.fail(api_missing_message(), pytrace=False)


# ---------------------------------------------------------------------------------------------
# A minimal FastCGI client

FCGI_BEGIN_REQUEST, FCGI_END_REQUEST, FCGI_PARAMS, FCGI_STDIN = 1, 3, 4, 5
FCGI_STDOUT, FCGI_STDERR = 6, 7
FCGI_RESPONDER = 1
FCGI_KEEP_CONN = 1


def _fcgi_record(typ, rid, content=b""):
    return struct.pack("!BBHHBx", 1, typ, rid, len(content), 0) + content


def _fcgi_stream(typ, rid, data):
    recs = [_fcgi_record(typ, rid, data[i:i + 65535]) for i in range(0, len(data), 65535)]
    return b"".join(recs) + _fcgi_record(typ, rid)  # an empty record ends the stream


def _fcgi_pair(name, value):
    out = b""
    for x in (name, value):
        out += bytes([len(x)]) if len(x) < 128 else struct.pack("!I", len(x) | 0x80000000)
    return out + name + value


def _recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        b = s.recv(n - len(buf))
        if not b:
            raise ConnectionError(f"FastCGI connection closed after {len(buf)} of {n} bytes")
        buf += b
    return buf


def parse_cgi_output(raw):
    """CGI/FastCGI responder output -> (status int, headers {lower name: value}, body bytes)."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    assert sep, f"no blank line after the headers: {raw[:300]!r}"
    headers = {}
    for line in head.split(b"\r\n"):
        k, colon, v = line.partition(b":")
        assert colon, f"bad header line {line!r} in {raw[:300]!r}"
        headers[k.strip().decode().lower()] = v.strip().decode()
    m = re.match(r"^(\d{3})( .*)?$", headers.get("status", ""))
    assert m, f"no 'Status: NNN' header: {raw[:300]!r}"
    return int(m.group(1)), headers, body


def fcgi_params(method, uri, body=b"", token=None, extra=None):
    u = urllib.parse.urlsplit(uri)
    params = {"REQUEST_METHOD": method, "REQUEST_URI": uri, "QUERY_STRING": u.query,
              "SCRIPT_NAME": "", "SERVER_PROTOCOL": "HTTP/1.1", "GATEWAY_INTERFACE": "CGI/1.1",
              "CONTENT_LENGTH": str(len(body)) if body else ""}
    if body:
        params["CONTENT_TYPE"] = "application/json"
    if token is not None:
        params["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    params.update(extra or {})
    return params


def fcgi_exchange(s, params, body=b"", rid=1, keep_conn=False):
    """One request on the connected socket s. Returns (status, headers, JSON body)."""
    pairs = b"".join(_fcgi_pair(k.encode(), v.encode()) for k, v in params.items())
    begin = struct.pack("!HB5x", FCGI_RESPONDER, FCGI_KEEP_CONN if keep_conn else 0)
    s.sendall(_fcgi_record(FCGI_BEGIN_REQUEST, rid, begin)
              + _fcgi_stream(FCGI_PARAMS, rid, pairs) + _fcgi_stream(FCGI_STDIN, rid, body))
    out, err = b"", b""
    while True:
        _, typ, got_rid, clen, plen = struct.unpack("!BBHHBx", _recv_exact(s, 8))
        content = _recv_exact(s, clen + plen)[:clen]
        assert got_rid == rid, f"record for request id {got_rid}, not {rid}"
        if typ == FCGI_STDOUT:
            out += content
        elif typ == FCGI_STDERR:
            err += content
        elif typ == FCGI_END_REQUEST:
            app_status, proto_status = struct.unpack("!IB3x", content)
            assert proto_status == 0, f"FastCGI protocol status {proto_status}"
            break
    status, headers, rbody = parse_cgi_output(out)
    assert headers.get("content-type") == "application/json", headers
    return status, headers, json.loads(rbody)


def fcgi_request(path, method, uri, body=b"", token=None, extra=None, timeout=5):
    """One request on a new connection to the FastCGI socket at path."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        return fcgi_exchange(s, fcgi_params(method, uri, body, token, extra), body)


def chan_uri(channel, *parts, query=""):
    path = "/".join(["/api/realtime/channels", channel] + [str(p) for p in parts])
    return path + ("?" + query if query else "")


def wait_log(path, text, proc, timeout=5):
    def seen():
        if proc.poll() is not None:
            raise AssertionError(f"golive-api exited with {proc.returncode}:\n" + read(path))
        return text in read(path)
    wait_for(seen, timeout, what=f"{text!r} in {path}")


def wait_live(path, timeout=5):
    """Until GET /channels says live: golive-api's nng connection to pushd is up, so that a
    write right after start is pushed rather than left to catch-up."""
    def live():
        status, _, body = fcgi_request(path, "GET", "/api/realtime/channels")
        assert status == 200, body
        return body.get("live") is True
    wait_for(live, timeout, interval=0.05, what="GET /channels with live: true")


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def terminate(proc, timeout=2.0):
    """SIGTERM; returns (exit code or None when it did not exit in time, seconds)."""
    t0 = time.monotonic()
    rc = stop_process(proc, timeout)
    return (None if rc == -signal.SIGKILL else rc), time.monotonic() - t0


# ---------------------------------------------------------------------------------------------
# CGI


def run_cgi(stack, method, uri, body=b"", token=None):
    """golive-api as a CGI program, with the environment a web server gives one."""
    u = urllib.parse.urlsplit(uri)
    env = {"PATH": "/usr/bin:/bin", "GATEWAY_INTERFACE": "CGI/1.1",
           "SERVER_PROTOCOL": "HTTP/1.1", "REQUEST_METHOD": method, "REQUEST_URI": uri,
           "QUERY_STRING": u.query, "CONTENT_LENGTH": str(len(body)) if body else "",
           "GOLIVE_RUNDIR": stack.rundir, "JWT_SECRET": stack.secret,
           "REALTIME_CONFIG_PATH": stack.config_path,
           # a CGI process dials pushd anew each time: on a loaded machine (an ASan build
           # beside other work) dial and answer can take longer than the default 100 ms
           "GOLIVE_IPC_TIMEOUT_MS": "2000"}
    if body:
        env["CONTENT_TYPE"] = "application/json"
    if token is not None:
        env["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    p = subprocess.run([API_BIN], input=body, env=env, capture_output=True, timeout=10)
    assert p.returncode == 0, (f"CGI {method} {uri} exited with {p.returncode}; "
                               f"stderr {p.stderr.decode(errors='replace')[-1000:]}")
    status, headers, rbody = parse_cgi_output(p.stdout)
    assert headers.get("content-type") == "application/json", headers
    return status, headers, json.loads(rbody)


def test_cgi_publish_history_and_bad_body(make_stack):
    # a stack of its own: short-lived CGI processes can cut pushd's nng listener off (below)
    stack = make_stack(api=True)
    ch = unique_channel()
    tok = stack.token("u_cgi", username="cgi")

    async def body():
        sub = await stack.client()
        try:
            await sub.subscribe(ch)
            status, headers, reply = run_cgi(stack, "POST", chan_uri(ch, "publish"),
                                             b'{"data":{"text":"via CGI"}}', token=tok)
            assert status == 200, reply
            assert is_int(reply["id"]) and reply["channel"] == ch, reply
            rows = stack.db_messages(ch)
            assert [(r["id"], r["user_id"], r["username"], json.loads(r["data"]))
                    for r in rows] == [(reply["id"], "u_cgi", "cgi", {"text": "via CGI"})]
            # "pushed": true claims pushd took it: the live subscriber has it then
            if reply["pushed"]:
                msg = await sub.recv_until(is_message(ch, reply["id"]))
                assert msg["data"] == {"text": "via CGI"}, msg
            return reply
        finally:
            await close_all(sub)

    reply = run(body())

    # history, the channel URL-encoded in the path and a query string
    status, _, hist = run_cgi(stack, "GET", chan_uri(urllib.parse.quote(ch, safe=""), "history",
                                                     query="limit=10"))
    assert status == 200, hist
    assert hist["channel"] == ch, hist
    assert [(m["id"], m["data"], m["user"]) for m in hist["messages"]] == [
        (reply["id"], {"text": "via CGI"}, {"id": "u_cgi", "username": "cgi"})], hist

    # a bad body: Status 400 and the JSON error; nothing stored
    for bad in (b'{"data":', b'{"data":5}', b"[]"):
        status, _, err = run_cgi(stack, "POST", chan_uri(ch, "publish"), bad, token=tok)
        assert status == 400, (bad, err)
        assert err["error"]["code"] == "bad_request" and err["error"]["message"], err
    # no token: 401
    status, _, err = run_cgi(stack, "POST", chan_uri(ch, "publish"), b'{"data":{}}')
    assert (status, err["error"]["code"]) == (401, "unauthorized"), err
    assert len(stack.db_messages(ch)) == 1


# ---------------------------------------------------------------------------------------------
# golive-api processes that come and go must not cut later ones off pushd. Each golive-api dials
# pushd's nng socket (ipc://RUNDIR/pushd.ipc) when it starts; a CGI process that answers without
# talking to pushd (a read, an error) may exit while that dial is still in its SP handshake, and
# nng 1.5.2 (Debian 12) then stops accepting on pushd's listener (nng issue #1518).


def test_cgi_publishes_keep_reaching_pushd(make_stack):
    """CGI reads (and a 404) and CGI publishes in turn: every publish is pushed and delivered
    live."""
    stack = make_stack(api=True)
    ch = unique_channel()
    tok = stack.token("u_cgi", username="cgi")

    async def body():
        sub = await stack.client()
        try:
            await sub.subscribe(ch)
            outcomes = []
            for n in range(15):
                status, _, hist = run_cgi(stack, "GET", chan_uri(ch, "history"))
                assert status == 200, hist
                status, _, err = run_cgi(stack, "GET", "/api/realtime/nope")
                assert status == 404, err
                status, _, reply = run_cgi(stack, "POST", chan_uri(ch, "publish"),
                                           json.dumps({"data": {"n": n}}).encode(), token=tok)
                assert status == 200, reply
                outcomes.append(reply["pushed"])
                if reply["pushed"]:
                    await sub.recv_until(is_message(ch, reply["id"]))
            assert all(outcomes), (f"CGI publishes after CGI reads not pushed to pushd: "
                                   f"pushed = {outcomes}")
        finally:
            await close_all(sub)

    run(body())


def test_aborted_ipc_handshake_does_not_cut_off_new_golive_api(make_stack):
    """Peers that connect to pushd.ipc and leave during the SP handshake (what a golive-api
    killed or finished right after start does): a golive-api started afterwards still reaches
    pushd. nng keeps the stuck listener's half-negotiated pipes when pushd replaces it; under
    ASan that memory is reported at exit from inside libnng, so this stack alone suppresses it
    (lsan-nng1518.supp)."""
    supp = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lsan-nng1518.supp")
    stack = make_stack(api=True, env={"LSAN_OPTIONS": f"suppressions={supp}"})
    ipc = os.path.join(stack.rundir, "pushd.ipc")
    for _ in range(5):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(ipc)
            s.sendall(b"\x00SP\x00\x00\x30\x00\x00")  # SP header of a REQ0 peer, then gone
        time.sleep(0.02)
    time.sleep(0.2)
    stack.restart_api()

    def live():
        return json_body(stack.http("GET", "/api/realtime/channels"), 200)["live"] is True
    try:
        wait_for(live, 8, interval=0.1, what="live: true")
    except AssertionError:
        raise AssertionError("a golive-api started after 5 aborted nng handshakes on "
                             "pushd.ipc does not reach pushd (GET /channels live: false for 8 s)"
                             "\n" + stack.api_log()[-1500:]) from None


# ---------------------------------------------------------------------------------------------
# An inherited socket on fd 0: spawn-fcgi -n (it binds, then execs golive-api in its place)


class SpawnFcgiStack(Stack):
    """A complete stack whose golive-api runs under `spawn-fcgi -n -s RUNDIR/api.sock -M 0666`,
    behind the stack's own nginx."""

    def start_api(self):
        log = open(self.api_log_path, "ab")
        try:
            self.api = subprocess.Popen(
                [self.spawn_fcgi, "-n", "-s", self.api_sock_path, "-M", "0666", "--", API_BIN],
                env=self.pushd_env(), cwd=REPO, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT)
        finally:
            log.close()
        self.api_terminated_by_test = False
        self.api_error = None
        try:
            wait_log(self.api_log_path, "serving inherited socket fd 0", self.api, timeout=10)
        except AssertionError as e:
            self.api_terminated_by_test = True
            if self.api.poll() is None:
                self.api.kill()
                self.api.wait()
            pytest.fail(f"golive-api under spawn-fcgi did not start: {e}\n" + self.log_tail())


@pytest.fixture
def spawn_stack():
    exe = shutil.which("spawn-fcgi", path=SBIN_PATH)
    if exe is None:
        pytest.skip("spawn-fcgi is not installed (tools/install-deps.sh installs it)")
    st = SpawnFcgiStack(api=True)
    st.spawn_fcgi = exe
    st.start()
    yield st
    st.stop()


def test_spawn_fcgi_inherited_socket(spawn_stack):
    st = spawn_stack
    assert st.api_alive(), st.log_tail()
    # -n: spawn-fcgi became golive-api; the socket has spawn-fcgi's -M mode
    assert os.readlink(f"/proc/{st.api.pid}/exe") == os.path.realpath(API_BIN)
    assert stat.S_IMODE(os.stat(st.api_sock_path).st_mode) == 0o666
    assert "listening on" not in st.api_log(), st.api_log()  # it did not open its own socket

    wait_for(lambda: json_body(st.http("GET", "/api/realtime/channels"), 200)["live"] is True,
             5, what="GET /channels with live: true")
    ch = unique_channel()
    tok = st.token("u_spawn", username="spawn")

    async def body():
        sub = await st.client(tok)
        try:
            await sub.subscribe(ch)
            reply = json_body(st.rest("POST", ch, "publish", token=tok,
                                      json={"data": {"text": "spawned"}}), 200)
            assert reply["pushed"] is True, reply
            msg = await sub.recv_until(is_message(ch, reply["id"]))
            assert msg["user"] == {"id": "u_spawn", "username": "spawn"}, msg
            return reply
        finally:
            await close_all(sub)

    reply = run(body())
    hist = st.history_rest(ch)
    assert [(m["id"], m["data"]) for m in hist] == [(reply["id"], {"text": "spawned"})], hist
    expect_error(st.rest("POST", ch, "publish", json={"data": {}}), 401)

    rc, took = st.stop_api(timeout=2)
    assert rc == 0 and took < 2, f"SIGTERM: exit code {rc} after {took:.2f} s\n{st.api_log()}"


# ---------------------------------------------------------------------------------------------
# systemd socket activation, emulated: the listening socket on fd 3, LISTEN_FDS=1, LISTEN_PID


def start_with_fd3(listener, env, log_path, threads=4, listen_pid="$$"):
    """Start golive-api with listener as fd 3, through sh so that LISTEN_PID can be the pid
    golive-api will have ($$ of the shell that execs it)."""
    fd = listener.fileno()
    assert fd != 3
    script = f'export LISTEN_PID={listen_pid} LISTEN_FDS=1; exec "$0" --threads {threads}'
    log = open(log_path, "ab")
    try:
        # close_fds=False: Python's own fds are not inheritable anyway; dup2 makes fd 3 so
        return subprocess.Popen(["sh", "-c", script, API_BIN], env=env, close_fds=False,
                                preexec_fn=lambda: os.dup2(fd, 3), stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT)
    finally:
        log.close()


def unix_listener(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(64)
    if s.fileno() == 3:  # dup2(3, 3) would leave it close-on-exec: use another number
        s2 = socket.socket(fileno=os.dup(3))
        s.detach()
        os.close(3)
        s = s2
    return s


def api_env(stack, **extra):
    env = stack.pushd_env()  # GOLIVE_RUNDIR etc. of the stack; LISTEN_* removed
    env.update(extra)
    return env


def test_systemd_socket_activation(stack):
    path = os.path.join(stack.rundir, "sd-api.sock")
    log_path = os.path.join(stack.rundir, "sd-api.log")
    listener = unix_listener(path)
    try:
        proc = start_with_fd3(listener, api_env(stack), log_path)
    finally:
        listener.close()  # golive-api holds it now
    try:
        wait_log(log_path, "serving inherited socket fd 3 with 4 threads", proc)
        wait_live(path)
        ch = unique_channel()
        tok = stack.token("u_sd", username="sd")

        async def body():
            sub = await stack.client()
            try:
                await sub.subscribe(ch)
                status, _, reply = fcgi_request(path, "POST", chan_uri(ch, "publish"),
                                                b'{"data":{"text":"activated"}}', token=tok)
                assert status == 200, reply
                assert is_int(reply["id"]) and reply["pushed"] is True, reply
                await sub.recv_until(is_message(ch, reply["id"]))
                return reply
            finally:
                await close_all(sub)

        reply = run(body())
        status, _, hist = fcgi_request(path, "GET", chan_uri(urllib.parse.quote(ch, safe=""),
                                                             "history", query="limit=5"))
        assert status == 200, hist
        assert [(m["id"], m["data"]) for m in hist["messages"]] == [
            (reply["id"], {"text": "activated"})], hist
        status, _, err = fcgi_request(path, "POST", chan_uri(ch, "publish"), b'{"data":}',
                                      token=tok)
        assert (status, err["error"]["code"]) == (400, "bad_request"), err
        status, _, err = fcgi_request(path, "GET", "/api/realtime/nope")
        assert (status, err["error"]["code"]) == (404, "not_found"), err
        assert [r["id"] for r in stack.db_messages(ch)] == [reply["id"]]

        rc, took = terminate(proc)
        assert rc == 0 and took < 2, (f"SIGTERM: exit code {rc} after {took:.2f} s\n"
                                      + read(log_path))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_systemd_listen_pid_of_another_process_is_ignored(stack, tmp_path):
    """LISTEN_FDS meant for another pid (inherited from a parent) must not be used: golive-api
    then listens on $GOLIVE_RUNDIR/api.sock as usual."""
    rundir = tmp_path / "rd"
    rundir.mkdir()
    path = os.path.join(stack.rundir, "sd-other.sock")
    log_path = os.path.join(stack.rundir, "sd-other.log")
    listener = unix_listener(path)
    env = api_env(stack, GOLIVE_RUNDIR=str(rundir), GOLIVE_DB=stack.db_path,
                  GOLIVE_IPC_URL=f"ipc://{stack.rundir}/pushd.ipc")
    try:
        proc = start_with_fd3(listener, env, log_path, threads=2, listen_pid=str(os.getpid()))
    finally:
        listener.close()
    try:
        own = str(rundir / "api.sock")
        wait_log(log_path, f"listening on {own}", proc)
        assert "inherited" not in read(log_path), read(log_path)
        wait_live(own)  # (also lets the nng dial finish before SIGTERM: see above)
        rc, took = terminate(proc)
        assert rc == 0 and took < 2, f"SIGTERM: exit code {rc} after {took:.2f} s"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------------------------------------
# The systemd units


UNITS = ("golive-api.service", "golive-api.socket", "golive-pushd.service")


def test_systemd_units_verify(tmp_path):
    exe = shutil.which("systemd-analyze", path=SBIN_PATH)
    if exe is None:
        pytest.skip("systemd-analyze is not installed (Debian: apt-get install systemd)")
    src = os.path.join(REPO, "conf", "systemd")
    binaries = {"golive-api": API_BIN, "golive-pushd": PUSHD_BIN}
    paths = []
    for name in UNITS:
        with open(os.path.join(src, name)) as f:
            text = f.read()
        execs = re.findall(r"^ExecStart=(\S+)(.*)$", text, re.M)
        if name.endswith(".service"):
            assert len(execs) == 1, f"{name}: ExecStart lines {execs}"
            prog, args = execs[0]
            assert os.path.basename(prog) in binaries, f"{name}: ExecStart={prog}"
            text = re.sub(r"^ExecStart=\S+", "ExecStart=" + binaries[os.path.basename(prog)],
                          text, flags=re.M)
            if name == "golive-api.service":
                # socket activation: no --listen, or the socket systemd passes is ignored
                assert "--listen" not in args, args
        out = tmp_path / name
        out.write_text(text)
        paths.append(str(out))
    api_unit = (tmp_path / "golive-api.service").read_text()
    assert f"ExecStart={API_BIN} --threads 16" in api_unit  # arguments kept

    p = subprocess.run([exe, "verify"] + paths, capture_output=True, text=True, timeout=60,
                       cwd=str(tmp_path))
    output = (p.stdout + p.stderr).splitlines()
    mentions = [ln for ln in output if str(tmp_path) in ln or any(u in ln for u in UNITS)]
    assert p.returncode == 0 and not mentions, (
        f"systemd-analyze verify exited with {p.returncode}:\n" + "\n".join(output))

    # systemd-analyze does check here: a broken copy is refused
    bad = tmp_path / "bad" / "golive-api.service"
    bad.parent.mkdir()
    bad.write_text(api_unit.replace(API_BIN, API_BIN + "-missing"))
    p = subprocess.run([exe, "verify", str(bad), str(tmp_path / "golive-api.socket")],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode != 0 and "not executable" in p.stdout + p.stderr, (p.returncode,
                                                                            p.stdout, p.stderr)


def test_systemd_units_agree_with_each_other():
    """golive-api.service and golive-pushd.service share the database folder and the nng
    address (or REST writes never reach pushd); the sockets live in pushd's RuntimeDirectory."""
    def read_unit(name):
        with open(os.path.join(REPO, "conf", "systemd", name)) as f:
            return f.read()

    def env_of(text):
        return dict(re.findall(r"^Environment=(\w+)=(\S+)$", text, re.M))

    api, sock, pushd = (read_unit(n) for n in UNITS)
    assert re.search(r"^Requires=golive-api\.socket$", api, re.M)
    listen = re.findall(r"^ListenStream=(\S+)$", sock, re.M)
    assert listen == ["/run/golive/api.sock"], listen
    a, p = env_of(api), env_of(pushd)
    assert a["GOLIVE_RUNDIR"] == p["GOLIVE_RUNDIR"], (a, p)
    assert a["GOLIVE_IPC_URL"] == p["GOLIVE_IPC_URL"], (a, p)
    # pushd's WebSocket socket sits beside the api socket in its RuntimeDirectory
    assert p["GOLIVE_PUSHD_LISTEN"] == "unix:/run/golive/pushd.sock", p
    assert re.search(r"^RuntimeDirectory=golive$", pushd, re.M)


# ---------------------------------------------------------------------------------------------
# SIGTERM


def test_sigterm_with_idle_workers(stack):
    path = os.path.join(stack.rundir, "term.sock")
    log_path = os.path.join(stack.rundir, "term.log")
    log = open(log_path, "ab")
    try:
        proc = subprocess.Popen([API_BIN, "--listen", path, "--threads", "4"],
                                env=api_env(stack), stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT)
    finally:
        log.close()
    try:
        wait_log(log_path, "with 4 threads", proc)
        wait_for(lambda: can_connect_unix(path), 5, what="term.sock")
        wait_live(path)  # served a request; its nng dial to pushd is complete
        time.sleep(0.2)  # every worker back in accept()
        rc, took = terminate(proc)
        assert rc == 0, f"exit code {rc} after SIGTERM ({took:.2f} s)\n{read(log_path)}"
        assert took < 2, f"took {took:.2f} s to exit after SIGTERM"
        assert "stopped" in read(log_path), read(log_path)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def closed_by_peer(s, within=0.3):
    """True when the other side closed s (EOF) within `within` s."""
    s.settimeout(within)
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except OSError:
        return True


def test_a_body_left_unread_does_not_spoil_a_kept_connection(stack):
    """A request answered before its body is read (a publish without a token: 401) leaves the
    body's records on a kept connection; golive-api drops them, so the next request on that
    connection is read from its first byte. (nginx caches the connection once the request is
    sent, and does not retry a POST on a connection that then fails: a 502.)"""
    body = json.dumps({"data": {"text": "x" * 60000}}).encode()
    uri = chan_uri("public:unread", "publish")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(stack.api_sock_path)
        for i in range(3):
            status, _, _ = fcgi_exchange(s, fcgi_params("POST", uri, body), body, keep_conn=True)
            assert status == 401, (i, status)
        status, _, out = fcgi_exchange(s, fcgi_params("POST", uri, body, stack.token("u_read")),
                                       body, keep_conn=True)
        assert status == 200 and out["pushed"] is True, (status, out)
        assert not closed_by_peer(s)


def test_kept_connections_do_not_hold_the_workers(stack):
    """Web servers may ask to keep a FastCGI connection (FCGI_KEEP_CONN: Apache's enablereuse,
    nginx's fastcgi_keep_conn) and leave it idle in a pool. golive-api keeps each such connection
    open after its reply, idle in its epoll set rather than in a worker thread: with 4 worker
    threads, 5 connections that send nothing and 6 kept connections, a new connection is
    answered, every kept one answers its next request, one the web server closes is let go,
    and SIGTERM still stops golive-api."""
    path = os.path.join(stack.rundir, "keep.sock")
    log_path = os.path.join(stack.rundir, "keep.log")
    log = open(log_path, "ab")
    try:
        proc = subprocess.Popen([API_BIN, "--listen", path, "--threads", "4"],
                                env=api_env(stack), stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT)
    finally:
        log.close()
    pool = []

    def on(s):
        try:
            return fcgi_exchange(s, fcgi_params("GET", "/api/realtime/channels"),
                                 keep_conn=True)[0]
        except (OSError, ConnectionError) as e:
            return type(e).__name__

    silent = []
    try:
        wait_log(log_path, "with 4 threads", proc)
        wait_live(path)
        for i in range(5):  # more than the threads: each must wait in epoll, not in a read
            silent.append(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
            silent[-1].connect(path)
        outcomes = []
        for i in range(6):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(2)
            s.connect(path)
            pool.append(s)
            outcomes.append(on(s))
        kept = [not closed_by_peer(s) for s in pool]
        try:
            outcomes.append(fcgi_request(path, "GET", "/api/realtime/channels", timeout=2)[0])
        except (OSError, ConnectionError) as e:
            outcomes.append(type(e).__name__)
        pool.pop().close()  # the web server lets one go
        outcomes += [on(s) for s in reversed(pool)]
        assert outcomes == [200] * 12 and all(kept), (
            f"6 requests on kept connections, one on a new connection, then 5 again on the kept "
            f"ones (4 worker threads): {outcomes}; kept open by golive-api: {kept}")
        assert proc.poll() is None and "epoll" not in read(log_path), read(log_path)
        rc, took = terminate(proc)
        assert rc == 0 and took < 2, (f"SIGTERM with {len(pool)} idle kept connections: exit "
                                      f"code {rc} after {took:.2f} s")
    finally:
        for s in pool + silent:
            s.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
