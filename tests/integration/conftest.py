"""Fixtures and helpers for GoLive's integration tests.

Each stack is the real thing: golive-pushd (from $GOLIVE_BUILD, default build/release) with its
SQLite file and unix sockets in a fresh temporary folder, golive-api (the REST FastCGI responder,
when its binary has been built) on RUNDIR/api.sock, and nginx in front of both on a free loopback
port. Clients speak WebSocket to ws://127.0.0.1:PORT/api/ws and HTTP to
http://127.0.0.1:PORT/api/realtime/..., as users do.

REST test modules set STACK_API = True (or call make_stack(api=True)): their stack then fails,
rather than skips, when golive-api has not been built. Other modules run with golive-api when it
exists and without it otherwise.

Run with Debian's Python:
    cd /work/main && GOLIVE_BUILD=build/release /usr/bin/python3 -m pytest -q tests/integration
"""

import asyncio
import base64
import collections
import datetime
import http.server
import itertools
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
import urllib.parse
import uuid

import jwt
import pytest
import requests
import websockets
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(REPO, os.environ.get("GOLIVE_BUILD", "build/release"))
PUSHD_BIN = os.path.join(BUILD, "golive-pushd")
API_BIN = os.path.join(BUILD, "golive-api")
GEN_WEBCONF = os.path.join(REPO, "tools", "gen-webconf.sh")

SECRET = "integration-test-secret-0123456789"
HOOK_SECRET = "hook-secret-for-tests-0123456789"  # GOLIVE_WEBHOOK_SECRET of every test stack

# A config like the seed's (README, "Configuration YAML").
DEFAULT_CONFIG = {
    "namespaces": [
        {"name": "chat", "max_clients": 1000, "allow_publish": True},
    ],
    "channels": [
        {
            "pattern": "chat:stream_*",
            "namespace": "chat",
            "private": True,
            "allowed_roles": ["streamer", "moderator"],
            "allowed_users": ["user_123"],
            "max_history": 100,
        },
        {"pattern": "public:*", "namespace": "chat", "private": False, "max_history": 50},
    ],
}

# Test stacks lift the rate limits (docs/moderation.md "Rate limits"): many tests publish
# thousands of messages from one user as fast as they can, or open many anonymous sockets. A test of the limits themselves sets
# rate_limits in its config (test_rate_limits.py); test_shipped_config.py runs the shipped
# defaults.
NO_RATE_LIMITS = {"publish": {"burst": 0}, "commands": {"burst": 0},
                  "connections": {"burst": 0}, "anonymous_per_ip": 0}



def with_test_limits(config):
    """config (a dict) with NO_RATE_LIMITS unless it sets rate_limits; YAML text as it is."""
    if isinstance(config, dict) and "rate_limits" not in config:
        return {**config, "rate_limits": NO_RATE_LIMITS}
    return config


ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")

# Stacks alive right now: a failing test gets their log tails in its report.
LIVE_STACKS = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for st in list(LIVE_STACKS):
            st.failed = True
            rep.sections.append((f"golive logs ({st.rundir})", st.log_tail()))


# --------------------------------------------------------------------------------------------
# Small utilities


def push_test_pattern(url, seconds, size="320x240", stderr=subprocess.DEVNULL):
    """ffmpeg publishing a test pattern with a tone for `seconds` (real time) to the RTMP url, as
    OBS would: H.264 with a keyframe every second, AAC, FLV. Returns the Popen."""
    cmd = [shutil.which("ffmpeg") or "ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin",
           "-re", "-f", "lavfi", "-i", f"testsrc=size={size}:rate=25:duration={seconds}",
           "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=44100:duration={seconds}",
           "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "25",
           "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", "-f", "flv", url]
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=stderr)



def stop_process(proc, timeout=5.0):
    """SIGTERM proc if it still runs and wait; SIGKILL after timeout. Returns its exit code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def unique_channel(prefix="public"):
    return f"{prefix}:t{uuid.uuid4().hex[:12]}"


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def make_token(sub, username=None, role="user", permissions=None, exp_delta=3600,
               secret=SECRET, alg="HS256", extra=None):
    """An HS256 JWT like the platform mints. permissions=None: no permissions claim."""
    claims = {"sub": sub, "username": username or sub, "role": role,
              "exp": int(time.time()) + exp_delta}
    if permissions is not None:
        claims["permissions"] = list(permissions)
    if extra:
        claims.update(extra)
    if alg == "none":
        header = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
        payload = b64url(json.dumps(claims).encode())
        return f"{header}.{payload}."
    return jwt.encode(claims, secret, algorithm=alg)


def run(coro, timeout=40):
    """Run one test's async body, bounded."""
    async def bounded():
        return await asyncio.wait_for(coro, timeout)
    return asyncio.run(bounded())


def wait_for(pred, timeout=5.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def can_connect_unix(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(0.5)
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def can_connect_tcp(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


# --------------------------------------------------------------------------------------------
# The stack


_UNSET = object()

# error code per HTTP status (docs/api.md, "Errors")
STATUS_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                405: "method_not_allowed", 409: "conflict", 413: "too_large",
                429: "rate_limited", 503: "unavailable"}


def api_missing_message():
    return (f"golive-api is not built: {API_BIN} does not exist. REST tests need it "
            f"(cd {REPO} && make {os.path.relpath(API_BIN, REPO)})")


class Stack:
    def __init__(self, config=None, env=None, secret=SECRET, api=None, media=False):
        """api: None = start golive-api when its binary exists; True = REST tests: the stack's
        http() fails when golive-api is missing or did not start; False = never start it.
        media: also start nginx-rtmp (media/nginx-rtmp) on free RTMP and HLS ports."""
        self.config = with_test_limits(DEFAULT_CONFIG if config is None else config)
        self.extra_env = dict(env or {})
        self.secret = secret
        self.want_api = api
        self.rundir = None
        self.port = None
        self.pushd = None
        self.api = None
        self.api_error = None  # why golive-api is not running, when it is not
        self.nginx = None
        self.want_media = media
        self.media = None  # the nginx-rtmp process
        self.metrics_port = free_port()  # pushd's /metrics, /healthz, /readyz
        self.rtmp_port = free_port() if media else None
        self.hls_port = free_port() if media else None
        self.failed = False
        self.started_at = None
        self.terminated_by_test = False
        self.api_terminated_by_test = False
        # (title, path) of more logs for log_tail(), e.g. a lighttpd/Apache in front of the stack
        self.extra_logs = []

    # paths
    @property
    def config_path(self):
        return os.path.join(self.rundir, "realtime.yaml")

    @property
    def db_path(self):
        return os.path.join(self.rundir, "golive.db")

    @property
    def sock_path(self):
        return os.path.join(self.rundir, "pushd.sock")

    @property
    def pushd_tcp_port(self):
        """pushd's TCP port when the test set GOLIVE_PUSHD_LISTEN=127.0.0.1:PORT, else None."""
        listen = self.extra_env.get("GOLIVE_PUSHD_LISTEN", "")
        return None if listen.startswith("unix:") or ":" not in listen else int(
            listen.rsplit(":", 1)[1])

    @property
    def pushd_log(self):
        return os.path.join(self.rundir, "pushd.log")

    @property
    def nginx_log(self):
        return os.path.join(self.rundir, "nginx.log")

    @property
    def api_sock_path(self):
        return os.path.join(self.rundir, "api.sock")

    @property
    def api_log_path(self):
        return os.path.join(self.rundir, "api.log")

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}"

    def url(self, token=None):
        u = f"ws://127.0.0.1:{self.port}/api/ws"
        if token is not None:
            u += "?token=" + token
        return u

    def token(self, sub, **kw):
        kw.setdefault("secret", self.secret)
        return make_token(sub, **kw)

    # lifecycle
    def write_config(self, config):
        config = with_test_limits(config)
        text = config if isinstance(config, str) else yaml.safe_dump(config, sort_keys=False)
        with open(self.config_path + ".tmp", "w") as f:
            f.write(text)
        os.replace(self.config_path + ".tmp", self.config_path)

    def start(self):
        if not os.path.exists(PUSHD_BIN):
            pytest.fail(f"{PUSHD_BIN} does not exist: build it first "
                        f"(cd {REPO} && make {os.path.relpath(PUSHD_BIN, REPO)})")
        self.rundir = tempfile.mkdtemp(prefix="golive-test-")
        os.chmod(self.rundir, 0o755)
        LIVE_STACKS.append(self)
        try:
            self.write_config(self.config)
            self.start_pushd()
            if self.want_api is not False:
                if os.path.exists(API_BIN):
                    try:
                        self.start_api()
                    except pytest.fail.Exception as e:
                        # WebSocket-only modules go on without it; REST tests fail in http()
                        self.api_error = str(e)
                        print(f"note: golive-api did not start; going on without it\n{e}")
                else:
                    self.api_error = api_missing_message()
            self.start_nginx()
            if self.api is not None and self.api_error is None:
                self.wait_api_reaches_pushd()
            if self.want_media:
                self.start_media()
        except BaseException:
            self.failed = True
            try:
                self.stop()
            except AssertionError:
                pass
            raise

    def wait_api_reaches_pushd(self, timeout=15):
        """Ready means a REST request reaches pushd in time: golive-api's nng socket dials
        pushd in the background, and on a loaded machine its first exchange can take longer
        than GOLIVE_IPC_TIMEOUT_MS (a publish would then answer "pushed": false)."""
        admin = self.token("u_stack_ready", role="admin")
        url = f"{self.base_url}/api/realtime/channels/public:stack_ready/presence"
        deadline = time.monotonic() + timeout
        while True:
            try:
                if requests.get(url, headers={"Authorization": f"Bearer {admin}"},
                                timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"golive-api did not reach golive-pushd within {timeout}s")
            time.sleep(0.05)

    def pushd_env(self):
        env = dict(os.environ)
        # the paths must derive from GOLIVE_RUNDIR: drop overrides inherited from the caller
        for k in ("GOLIVE_DB", "GOLIVE_STORE", "GOLIVE_PUSHD_LISTEN", "GOLIVE_IPC_URL", "GOLIVE_MAX_MESSAGE_BYTES",
                  "GOLIVE_PUSHD_METRICS_LISTEN",
                  "GOLIVE_BIND", "NOTIFY_SOCKET", "GOLIVE_MAX_BODY_BYTES",
                  "GOLIVE_IPC_TIMEOUT_MS", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES",
                  "GOLIVE_WEBHOOK_SECRET", "GOLIVE_HLS_URL", "GOLIVE_RTMP_URL", "RTMP_PORT",
                  "HLS_PORT"):
            env.pop(k, None)
        if self.want_media:
            env.update({"RTMP_PORT": str(self.rtmp_port), "HLS_PORT": str(self.hls_port),
                        "GOLIVE_HLS_URL": f"http://127.0.0.1:{self.hls_port}/live",
                        "GOLIVE_RTMP_URL": f"rtmp://127.0.0.1:{self.rtmp_port}/live"})
        env.update({
            "GOLIVE_WEBHOOK_SECRET": HOOK_SECRET,
            "JWT_SECRET": self.secret,
            "REALTIME_CONFIG_PATH": self.config_path,
            "LOG_LEVEL": "debug",
            "GOLIVE_RUNDIR": self.rundir,
            "GOLIVE_PUSHD_METRICS_LISTEN": f"127.0.0.1:{self.metrics_port}",
        })
        env.update(self.extra_env)
        return env

    def start_pushd(self):
        log = open(self.pushd_log, "ab")
        try:
            self.pushd = subprocess.Popen([PUSHD_BIN], env=self.pushd_env(), cwd=REPO,
                                          stdin=subprocess.DEVNULL, stdout=log,
                                          stderr=subprocess.STDOUT)
        finally:
            log.close()
        self.started_at = time.monotonic()
        self.terminated_by_test = False
        deadline = time.monotonic() + 10
        tcp = self.pushd_tcp_port
        while not (can_connect_tcp(tcp) if tcp else can_connect_unix(self.sock_path)):
            if self.pushd.poll() is not None:
                pytest.fail(f"golive-pushd exited with {self.pushd.returncode} during start-up\n"
                            + self.log_tail())
            if time.monotonic() > deadline:
                pytest.fail(f"golive-pushd did not listen on {tcp or 'pushd.sock'} within 10 s\n"
                            + self.log_tail())
            time.sleep(0.05)

    def start_api(self):
        """Start golive-api on RUNDIR/api.sock; ready when the socket accepts a connection."""
        if not os.path.exists(API_BIN):
            pytest.fail(api_missing_message())
        log = open(self.api_log_path, "ab")
        try:
            self.api = subprocess.Popen([API_BIN, "--listen", self.api_sock_path],
                                        env=self.pushd_env(), cwd=REPO,
                                        stdin=subprocess.DEVNULL, stdout=log,
                                        stderr=subprocess.STDOUT)
        finally:
            log.close()
        self.api_terminated_by_test = False
        self.api_error = None
        deadline = time.monotonic() + 10
        while not can_connect_unix(self.api_sock_path):
            if self.api.poll() is not None:
                rc = self.api.returncode
                self.api_terminated_by_test = True  # reported here, not again by the fixtures
                pytest.fail(f"golive-api exited with {rc} during start-up\n" + self.log_tail())
            if time.monotonic() > deadline:
                self.api_terminated_by_test = True
                self.api.kill()
                self.api.wait()
                pytest.fail("golive-api did not listen on api.sock within 10 s\n"
                            + self.log_tail())
            time.sleep(0.05)

    def stop_api(self, timeout=5.0):
        """SIGTERM golive-api, wait; SIGKILL after timeout. Returns (exit code, seconds taken)."""
        if self.api is None:
            return None, 0.0
        t0 = time.monotonic()
        self.api_terminated_by_test = True
        if self.api.poll() is None:
            self.api.send_signal(signal.SIGTERM)
            try:
                self.api.wait(timeout)
            except subprocess.TimeoutExpired:
                self.api.kill()
                self.api.wait()
        return self.api.returncode, time.monotonic() - t0

    def restart_api(self):
        self.stop_api()
        self.start_api()

    def api_alive(self):
        return self.api is not None and self.api.poll() is None

    def api_died_unexpectedly(self):
        return (self.api is not None and self.api.poll() is not None
                and not self.api_terminated_by_test)

    def _start_nginx(self, kind, log_path, ports):
        """nginx with tools/gen-webconf.sh's config for kind (nginx or nginx-rtmp), as make run
        starts it; ready when every port in ports accepts a connection."""
        out = subprocess.run([GEN_WEBCONF, kind, self.rundir, str(self.port)], check=True,
                             capture_output=True, text=True, env=self.pushd_env())
        conf = out.stdout.strip()
        prefix = os.path.join(self.rundir, kind)
        log = open(log_path, "ab")
        try:
            proc = subprocess.Popen(["nginx", "-p", prefix, "-c", conf, "-e", "stderr"],
                                    stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT)
        finally:
            log.close()
        deadline = time.monotonic() + 10
        while not all(can_connect_tcp(p) for p in ports):
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                pytest.fail(f"{kind} did not start\n" + self.log_tail())
            time.sleep(0.05)
        return proc

    def start_nginx(self):
        self.port = free_port()
        self.nginx = self._start_nginx("nginx", self.nginx_log, [self.port])

    @property
    def media_log(self):
        return os.path.join(self.rundir, "nginx-rtmp.log")

    def start_media(self):
        """nginx-rtmp from media/nginx-rtmp, configured by tools/gen-webconf.sh like make run."""
        self.extra_logs.append(("nginx-rtmp", self.media_log))
        self.media = self._start_nginx("nginx-rtmp", self.media_log,
                                       [self.rtmp_port, self.hls_port])

    @property
    def rtmp_url(self):
        return f"rtmp://127.0.0.1:{self.rtmp_port}/live"

    def hls(self, path, timeout=5):
        """GET http://127.0.0.1:HLS_PORT/live/<path> from nginx-rtmp's HTTP side."""
        return requests.get(f"http://127.0.0.1:{self.hls_port}/live/{path}", timeout=timeout)

    def signal_pushd(self, sig):
        if sig in (signal.SIGTERM, signal.SIGINT, signal.SIGKILL):
            self.terminated_by_test = True
        self.pushd.send_signal(sig)

    def died_unexpectedly(self):
        return (self.pushd is not None and self.pushd.poll() is not None
                and not self.terminated_by_test)

    def stop_pushd(self, timeout=5.0):
        """SIGTERM pushd, wait; SIGKILL after timeout. Returns (exit code, seconds taken)."""
        if self.pushd is None:
            return None, 0.0
        t0 = time.monotonic()
        self.terminated_by_test = True
        if self.pushd.poll() is None:
            self.pushd.send_signal(signal.SIGTERM)
            try:
                self.pushd.wait(timeout)
            except subprocess.TimeoutExpired:
                self.pushd.kill()
                self.pushd.wait()
        return self.pushd.returncode, time.monotonic() - t0

    def restart_pushd(self):
        self.stop_pushd()
        self.start_pushd()

    def stop(self):
        problems = []
        if self.api is not None:
            died = self.api_died_unexpectedly()
            rc, took = self.stop_api()
            if died:
                problems.append(f"golive-api had died (exit code {rc})")
            elif rc is not None and rc < 0 and rc != -signal.SIGTERM:
                problems.append(f"golive-api ended by signal {-rc}"
                                + (" (did not stop within 5 s of SIGTERM)" if took >= 5 else ""))
        if self.pushd is not None:
            rc, _ = self.stop_pushd()
            if rc is not None and rc < 0 and rc != -signal.SIGTERM:
                problems.append(f"golive-pushd ended by signal {-rc}")
        for proc in (self.nginx, self.media):
            if proc is not None:
                stop_process(proc)
        if self in LIVE_STACKS:
            LIVE_STACKS.remove(self)
        for which in ("pushd", "api"):
            log = self.read_log(which)
            for marker in SANITIZER_MARKERS:
                if marker in log:
                    problems.append(f"sanitizer report in {which}.log ({marker!r})")
        if problems:
            self.failed = True
            raise AssertionError("; ".join(problems) + f"\n(rundir kept: {self.rundir})\n"
                                 + self.log_tail(120))
        if self.failed:
            print(f"golive rundir kept for inspection: {self.rundir}")
        else:
            shutil.rmtree(self.rundir, ignore_errors=True)

    def pushd_alive(self):
        return self.pushd is not None and self.pushd.poll() is None

    # logs
    def read_log(self, which="pushd"):
        path = {"pushd": self.pushd_log, "nginx": self.nginx_log, "api": self.api_log_path}[which]
        try:
            with open(path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, n=60):
        parts = []
        if self.pushd is not None:
            state = "running" if self.pushd.poll() is None else f"exited {self.pushd.returncode}"
            parts.append(f"--- golive-pushd ({state}), last {n} lines of pushd.log ---")
        else:
            parts.append("--- pushd.log ---")
        parts += self.read_log("pushd").splitlines()[-n:]
        if self.api is not None:
            state = "running" if self.api.poll() is None else f"exited {self.api.returncode}"
            parts.append(f"--- golive-api ({state}), last {n} lines of api.log ---")
            parts += self.read_log("api").splitlines()[-n:]
        elif self.api_error:
            parts.append(f"--- golive-api not running: {self.api_error.splitlines()[0]} ---")
        nginx_lines = self.read_log("nginx").splitlines()[-15:]
        if nginx_lines:
            parts.append("--- nginx.log (last 15 lines) ---")
            parts += nginx_lines
        for title, path in self.extra_logs:
            try:
                with open(path, "rb") as f:
                    lines = f.read().decode("utf-8", "replace").splitlines()[-30:]
            except OSError:
                lines = ["(not readable)"]
            parts.append(f"--- {title} ({path}, last 30 lines) ---")
            parts += lines
        return "\n".join(parts)

    def api_log(self):
        """golive-api's stdout/stderr so far."""
        return self.read_log("api")

    # REST
    def http(self, method, path, token=None, json=_UNSET, data=None, headers=None, params=None,
             timeout=15):
        """One HTTP request through nginx: http://127.0.0.1:PORT + path. json= sends a JSON body
        (json=None sends `null`); data= sends raw bytes. Returns the requests.Response."""
        if self.api is None or not self.api_alive():
            if self.api_error or self.api is None:
                pytest.fail(self.api_error or api_missing_message(), pytrace=False)
            pytest.fail(f"golive-api is not running (exit code {self.api.returncode})\n"
                        + self.log_tail(), pytrace=False)
        hdrs = {}
        if token is not None:
            hdrs["Authorization"] = f"Bearer {token}"
        if json is not _UNSET:
            assert data is None, "json= or data=, not both"
            data = _json_dumps(json).encode()
            hdrs["Content-Type"] = "application/json"
        if headers:
            hdrs.update(headers)
        return requests.request(method, self.base_url + path, data=data, headers=hdrs,
                                params=params, timeout=timeout, allow_redirects=False)

    def raw_http(self, head, body=b"", timeout=15):
        """Send bytes as they are (no URL clean-up): head is the request line and headers without
        the final blank line, e.g. b"GET /api/x%zz HTTP/1.1". Returns (status, headers, body)."""
        if isinstance(head, str):
            head = head.encode()
        lines = head.split(b"\r\n") if b"\r\n" in head else head.split(b"\n")
        names = {ln.split(b":", 1)[0].strip().lower() for ln in lines[1:]}
        if b"host" not in names:
            lines.append(f"Host: 127.0.0.1:{self.port}".encode())
        if b"connection" not in names:
            lines.append(b"Connection: close")
        if body and b"content-length" not in names and b"transfer-encoding" not in names:
            lines.append(f"Content-Length: {len(body)}".encode())
        req = b"\r\n".join(lines) + b"\r\n\r\n" + body
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as s:
            s.sendall(req)
            chunks = []
            while True:
                try:
                    b = s.recv(65536)
                except ConnectionResetError:
                    break
                if not b:
                    break
                chunks.append(b)
        resp = b"".join(chunks)
        head_b, _, rbody = resp.partition(b"\r\n\r\n")
        hlines = head_b.split(b"\r\n")
        m = re.match(rb"HTTP/1\.[01] (\d{3})", hlines[0]) if hlines else None
        if not m:
            raise AssertionError(f"not an HTTP response: {resp[:200]!r}")
        rh = {}
        for ln in hlines[1:]:
            k, _, v = ln.partition(b":")
            rh[k.strip().decode("latin-1").lower()] = v.strip().decode("latin-1")
        if rh.get("transfer-encoding", "").lower() == "chunked":
            rbody = _dechunk(rbody)
        return int(m.group(1)), rh, rbody

    def rest(self, method, channel, *parts, encode=False, **kw):
        """http() on /api/realtime/channels/{channel}/{parts...}."""
        return self.http(method, channel_path(channel, *parts, encode=encode), **kw)

    def publish_rest(self, channel, data, token, **kw):
        """REST publish that must succeed; returns the reply body."""
        r = self.rest("POST", channel, "publish", token=token, json={"data": data}, **kw)
        return json_body(r, 200)

    def history_rest(self, channel, token=None, **params):
        r = self.rest("GET", channel, "history", token=token, params=params or None)
        return json_body(r, 200)["messages"]

    # database
    def db_rows(self, sql, params=()):
        conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=5)
        try:
            conn.row_factory = sqlite3.Row
            return [dict(r) for r in conn.execute(sql, params).fetchall()]
        finally:
            conn.close()

    def db_messages(self, channel):
        return self.db_rows("SELECT * FROM messages WHERE channel = ? ORDER BY id", (channel,))

    # clients
    async def client(self, token=None, how="header", **kw):
        """Connect through nginx. how: 'header' (Authorization: Bearer), 'query' (?token=)."""
        if token is not None and how == "header":
            return await Client.open(self.url(), token=token, **kw)
        if token is not None and how == "query":
            return await Client.open(self.url(token), **kw)
        return await Client.open(self.url(), **kw)

    async def unix_client(self, token=None, **kw):
        """Connect straight to pushd's unix socket (bypassing nginx)."""
        return await Client.open("ws://localhost/api/ws", token=token, unix=self.sock_path, **kw)


@pytest.fixture(scope="module")
def stack(request):
    """One stack per test module; the module may set STACK_CONFIG, STACK_ENV and STACK_API."""
    st = Stack(getattr(request.module, "STACK_CONFIG", None),
               getattr(request.module, "STACK_ENV", None),
               api=getattr(request.module, "STACK_API", None),
               media=getattr(request.module, "STACK_MEDIA", False))
    st.start()
    yield st
    st.stop()


@pytest.fixture(autouse=True)
def _pushd_health():
    """A pushd that crashed in an earlier test is restarted (so that one crash does not fail the
    whole module); one that dies during this test fails it, with its exit code."""
    for st in list(LIVE_STACKS):
        if st.died_unexpectedly():
            st.failed = True
            print(f"note: golive-pushd had died (exit code {st.pushd.returncode}); restarted")
            st.start_pushd()
        if st.api_died_unexpectedly():
            st.failed = True
            print(f"note: golive-api had died (exit code {st.api.returncode}); restarted")
            try:
                st.start_api()
            except pytest.fail.Exception as e:
                st.api_error = str(e)
    before = list(LIVE_STACKS)
    yield
    dead = [st for st in before if st in LIVE_STACKS and st.died_unexpectedly()]
    if dead:
        st = dead[0]
        st.failed = True
        pytest.fail(f"golive-pushd died during this test (exit code {st.pushd.returncode})\n"
                    + st.log_tail(), pytrace=False)
    dead = [st for st in before if st in LIVE_STACKS and st.api_died_unexpectedly()]
    if dead:
        st = dead[0]
        st.failed = True
        pytest.fail(f"golive-api died during this test (exit code {st.api.returncode})\n"
                    + st.log_tail(), pytrace=False)


# The chat modes of a channel that sets none: every subscribe reply and channel info shows them.
MODES_OFF = {"slow_mode": 0, "members_only": False, "unique_chat": False,
             "max_message_length": 0, "max_message_bytes": 0, "blocked_terms_action": "refuse"}


def http_from(source, port, path, timeout=10):
    """GET http://127.0.0.1:port + path from the loopback address source (say 127.0.0.5): what
    a web server's "this host only" rule sees as another client. Returns (status, body)."""
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout,
                                      source_address=(source, 0))
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read().decode(errors="replace")
    finally:
        conn.close()


def schema_v4():
    """schema.sql as of schema version 4 (kept in tests/integration/schema_v4.sql), from which
    the upgrade tests derive the older versions too."""
    with open(os.path.join(REPO, "tests", "integration", "schema_v4.sql")) as f:
        return f.read()


def old_database(tmp_path, schema, *rows):
    """A database file made by an earlier schema (schema: its SQL), holding rows (INSERT
    statements), for a stack to upgrade: GOLIVE_DB=<the returned path>."""
    path = str(tmp_path / "old.db")
    conn = sqlite3.connect(path)
    try:
        conn.executescript(schema)
        for sql in rows:
            conn.execute(sql)
        conn.commit()
    finally:
        conn.close()
    os.chmod(tmp_path, 0o755)  # pushd and golive-api run as this user, nginx's workers need x
    return path


@pytest.fixture
def make_stack():
    """Factory for a fresh stack owned by one test: make_stack(config=..., env=..., api=...)."""
    made = []

    def factory(config=None, env=None, secret=SECRET, api=None, media=False):
        st = Stack(config, env, secret, api=api, media=media)
        made.append(st)
        st.start()
        return st

    yield factory
    errors = []
    for st in made:
        try:
            st.stop()
        except AssertionError as e:
            errors.append(str(e))
    if errors:
        raise AssertionError("\n".join(errors))


# --------------------------------------------------------------------------------------------
# REST helpers


def _json_dumps(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _dechunk(b):
    out = []
    while b:
        size_line, _, rest = b.partition(b"\r\n")
        try:
            n = int(size_line.split(b";")[0], 16)
        except ValueError:
            return b
        if n == 0:
            break
        out.append(rest[:n])
        b = rest[n + 2:]
    return b"".join(out)


def channel_path(channel, *parts, encode=False):
    """/api/realtime/channels/{channel}[/part...]; encode=True URL-encodes the channel name
    (chat%3Astream_abc)."""
    ch = urllib.parse.quote(channel, safe="") if encode else channel
    return "/".join(["/api/realtime/channels", ch] + [str(p) for p in parts])


def is_json_response(r):
    ctype = r.headers.get("Content-Type", "")
    return ctype.split(";")[0].strip().lower() == "application/json"


def json_body(r, status=200):
    """Assert r has this status and a JSON object body (Content-Type: application/json); return
    the body."""
    assert r.status_code == status, (f"{r.request.method} {r.request.url}: expected {status}, "
                                     f"got {r.status_code}: {r.text[:500]!r}")
    assert is_json_response(r), (f"{r.request.method} {r.request.url}: Content-Type "
                                 f"{r.headers.get('Content-Type')!r}, body {r.text[:200]!r}")
    try:
        body = r.json()
    except ValueError:
        raise AssertionError(f"{r.request.method} {r.request.url}: body is not JSON: "
                             f"{r.text[:300]!r}") from None
    assert isinstance(body, dict), f"body is not a JSON object: {body!r}"
    return body


def expect_error(r, status, code=None):
    """Assert an error reply: this status, JSON {"error":{"code":..,"message":..}} with the code of
    the status (docs/api.md) unless code is given. Returns the error object."""
    body = json_body(r, status)
    err = body.get("error")
    assert isinstance(err, dict), f"error reply without an error object: {body}"
    want = code or STATUS_CODES.get(status)
    assert err.get("code") == want, f"expected error code {want!r}, got {body}"
    assert isinstance(err.get("message"), str) and err["message"], f"no error message: {body}"
    return err


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def parse_iso(ts):
    """ISO-8601 UTC text ("2026-11-24T10:30:00.123Z") to epoch seconds."""
    assert isinstance(ts, str) and ISO_Z.match(ts), f"not an ISO-8601 UTC timestamp: {ts!r}"
    base, _, frac = ts[:-1].partition(".")
    t = datetime.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc).timestamp()
    return t + (float("0." + frac) if frac else 0.0)


# --------------------------------------------------------------------------------------------
# The WebSocket client

# Anonymous access to a private channel: protocol.md lists `forbidden` for "private channel without
# access"; `unauthorized` ("needs an authenticated user") is defensible too. Either is accepted.
ANON_PRIVATE = ("forbidden", "unauthorized")


class Closed(Exception):
    def __init__(self, code, reason=""):
        super().__init__(f"connection closed with code {code} {reason!r}")
        self.code = code
        self.reason = reason


class Client:
    """A JSON WebSocket client. Frames read but not yet consumed wait in self.pending, so that
    recv_until() can look for one frame without losing others. self.seen keeps every frame."""

    _ids = itertools.count(1)

    def __init__(self, ws):
        self.ws = ws
        self.pending = collections.deque()
        self.seen = []

    @classmethod
    async def open(cls, url, token=None, unix=None, **kw):
        kw.setdefault("compression", None)
        kw.setdefault("ping_interval", None)
        kw.setdefault("open_timeout", 5)
        kw.setdefault("close_timeout", 2)
        headers = {"Authorization": f"Bearer {token}"} if token is not None else None
        if unix:
            ws = await websockets.unix_connect(unix, url, extra_headers=headers, **kw)
        else:
            ws = await websockets.connect(url, extra_headers=headers, **kw)
        return cls(ws)

    async def send(self, obj):
        await self.send_raw(json.dumps(obj))

    async def send_raw(self, data):
        try:
            await self.ws.send(data)
        except websockets.ConnectionClosed:
            raise Closed(self.ws.close_code, self.ws.close_reason) from None

    async def _read(self, timeout):
        try:
            raw = await asyncio.wait_for(self.ws.recv(), timeout)
        except websockets.ConnectionClosed:
            raise Closed(self.ws.close_code, self.ws.close_reason) from None
        if isinstance(raw, bytes):
            raise AssertionError(f"server sent a binary frame: {raw[:80]!r}")
        try:
            msg = json.loads(raw)
        except ValueError:
            raise AssertionError(f"server sent a frame that is not JSON: {raw[:200]!r}") from None
        self.seen.append(msg)
        return msg

    async def recv(self, timeout=5):
        """The next frame, parsed."""
        if self.pending:
            return self.pending.popleft()
        try:
            return await self._read(timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"no frame within {timeout}s") from None

    async def recv_until(self, pred, timeout=5, what=None):
        """The first frame (pending ones first) for which pred is true; others stay pending."""
        for i, m in enumerate(self.pending):
            if pred(m):
                del self.pending[i]
                return m
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out after {timeout}s waiting for "
                                     f"{what or 'a frame'}; unconsumed: {list(self.pending)[-10:]}")
            try:
                m = await self._read(left)
            except asyncio.TimeoutError:
                continue
            if pred(m):
                return m
            self.pending.append(m)

    async def expect_no_message(self, within=0.3, pred=None):
        """Fail if a frame (matching pred, if given) is pending or arrives within `within` s."""
        pred = pred or (lambda m: True)
        bad = [m for m in self.pending if pred(m)]
        assert not bad, f"unexpected frame(s): {bad}"
        deadline = time.monotonic() + within
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:
                m = await self._read(left)
            except asyncio.TimeoutError:
                return
            assert not pred(m), f"unexpected frame: {m}"
            self.pending.append(m)

    async def settle(self, within=0.2):
        """Read whatever arrives within `within` s and forget it and all pending frames."""
        await self.expect_no_message(within, pred=lambda m: False)
        return self.drain_pending()

    def drain_pending(self):
        out = list(self.pending)
        self.pending.clear()
        return out

    async def request(self, obj, timeout=5):
        """Send a command with a fresh id (unless it has one); return its reply or error frame."""
        obj = dict(obj)
        obj.setdefault("id", next(self._ids))
        cid = obj["id"]
        await self.send(obj)
        return await self.recv_until(
            lambda m: m.get("id") == cid and m.get("type") in (obj.get("type"), "error"),
            timeout, what=f"the reply to {obj}")

    async def ok(self, obj, timeout=5):
        """request() that must succeed; returns the reply."""
        r = await self.request(obj, timeout)
        assert r.get("type") == obj["type"], f"{obj} failed: {r}"
        assert isinstance(r.get("data"), dict), f"reply without a data object: {r}"
        return r

    async def error(self, obj, code, timeout=5):
        """request() that must fail with `code` (or one of a tuple of codes); returns the error."""
        codes = code if isinstance(code, tuple) else (code,)
        r = await self.request(obj, timeout)
        assert r.get("type") == "error", f"{obj} should fail with {code}, got {r}"
        assert r["error"]["code"] in codes, f"{obj}: expected {code}, got {r}"
        assert isinstance(r["error"].get("message"), str) and r["error"]["message"], r
        return r

    async def subscribe(self, channel, **extra):
        return await self.ok({"type": "subscribe", "channel": channel, **extra})

    async def publish(self, channel, data):
        r = await self.ok({"type": "publish", "channel": channel, "data": data})
        return r["data"]["message_id"]

    async def stats(self, timeout=5):
        r = await self.ok({"type": "rpc", "data": {"method": "stats"}}, timeout)
        return r["data"]["result"]

    async def assert_usable(self):
        """The connection still answers commands."""
        res = await self.stats()
        assert "total_clients" in res, res

    async def wait_closed(self, timeout=5):
        """Read until the server closes; returns (close code, frames read before the close)."""
        frames = list(self.pending)
        self.pending.clear()
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"connection not closed within {timeout}s; frames: "
                                     f"{frames[-10:]}")
            try:
                frames.append(await self._read(left))
            except Closed as c:
                return c.code, frames
            except asyncio.TimeoutError:
                continue

    async def close(self):
        try:
            await asyncio.wait_for(self.ws.close(), 3)
        except Exception:
            pass


def is_message(channel=None, mid=None):
    def pred(m):
        return (m.get("type") == "message" and (channel is None or m.get("channel") == channel)
                and (mid is None or m.get("id") == mid))
    return pred


def is_event(typ, channel=None, user_id=None):
    def pred(m):
        if m.get("type") != typ or (channel is not None and m.get("channel") != channel):
            return False
        return user_id is None or (m.get("user") or {}).get("id") == user_id
    return pred


async def close_all(*clients):
    await asyncio.gather(*(c.close() for c in clients if c is not None))


# --------------------------------------------------------------------------------------------
# A tiny HTTP backend for rpc_proxies


class Backend:
    """http.server in a thread. routes: path -> handler(body_dict) -> (status, body_bytes)."""

    def __init__(self, routes):
        self.routes = routes
        self.requests = []
        backend = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = {"_unparsed": raw.decode("utf-8", "replace")}
                backend.requests.append({"path": self.path, "body": body,
                                         "headers": dict(self.headers)})
                route = backend.routes.get(self.path)
                if route is None:
                    status, out, ctype = 404, b'{"error":"no route"}', "application/json"
                else:
                    status, out, ctype = route(body)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(out)))
                    self.end_headers()
                    self.wfile.write(out)
                except OSError:
                    pass

        class Server(http.server.ThreadingHTTPServer):
            request_queue_size = 128  # the default listen backlog of 5 drops concurrent calls
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
