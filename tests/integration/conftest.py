"""Fixtures and helpers for GoLive's integration tests.

Each stack is the real thing: golive-pushd (from $GOLIVE_BUILD, default build/release) with its
SQLite file and unix sockets in a fresh temporary folder, and nginx in front of it on a free
loopback port. Clients speak WebSocket to ws://127.0.0.1:PORT/api/ws, as users do.

Run with Debian's Python:
    cd /work/main && GOLIVE_BUILD=build/release /usr/bin/python3 -m pytest -q tests/integration
"""

import asyncio
import base64
import collections
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
import uuid

import jwt
import pytest
import websockets
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(REPO, os.environ.get("GOLIVE_BUILD", "build/release"))
PUSHD_BIN = os.path.join(BUILD, "golive-pushd")
GEN_NGINX = os.path.join(REPO, "tools", "gen-nginx-conf.sh")

SECRET = "integration-test-secret-0123456789"

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


class Stack:
    def __init__(self, config=None, env=None, secret=SECRET):
        self.config = DEFAULT_CONFIG if config is None else config
        self.extra_env = dict(env or {})
        self.secret = secret
        self.rundir = None
        self.port = None
        self.pushd = None
        self.nginx = None
        self.failed = False
        self.started_at = None
        self.terminated_by_test = False

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
    def pushd_log(self):
        return os.path.join(self.rundir, "pushd.log")

    @property
    def nginx_log(self):
        return os.path.join(self.rundir, "nginx.log")

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
            self.start_nginx()
        except BaseException:
            self.failed = True
            try:
                self.stop()
            except AssertionError:
                pass
            raise

    def pushd_env(self):
        env = dict(os.environ)
        # the paths must derive from GOLIVE_RUNDIR: drop overrides inherited from the caller
        for k in ("GOLIVE_DB", "GOLIVE_PUSHD_LISTEN", "GOLIVE_IPC_URL", "GOLIVE_MAX_MESSAGE_BYTES",
                  "GOLIVE_BIND", "NOTIFY_SOCKET"):
            env.pop(k, None)
        env.update({
            "JWT_SECRET": self.secret,
            "REALTIME_CONFIG_PATH": self.config_path,
            "LOG_LEVEL": "debug",
            "GOLIVE_RUNDIR": self.rundir,
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
        while not can_connect_unix(self.sock_path):
            if self.pushd.poll() is not None:
                pytest.fail(f"golive-pushd exited with {self.pushd.returncode} during start-up\n"
                            + self.log_tail())
            if time.monotonic() > deadline:
                pytest.fail("golive-pushd did not listen on pushd.sock within 10 s\n"
                            + self.log_tail())
            time.sleep(0.05)

    def start_nginx(self):
        self.port = free_port()
        out = subprocess.run([GEN_NGINX, self.rundir, str(self.port)], check=True,
                             capture_output=True, text=True, env=self.pushd_env())
        conf = out.stdout.strip()
        prefix = os.path.join(self.rundir, "nginx")
        log = open(self.nginx_log, "ab")
        try:
            self.nginx = subprocess.Popen(["nginx", "-p", prefix, "-c", conf, "-e", "stderr"],
                                          stdin=subprocess.DEVNULL, stdout=log,
                                          stderr=subprocess.STDOUT)
        finally:
            log.close()
        deadline = time.monotonic() + 10
        while not can_connect_tcp(self.port):
            if self.nginx.poll() is not None or time.monotonic() > deadline:
                pytest.fail("nginx did not start\n" + self.log_tail())
            time.sleep(0.05)

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
        if self.pushd is not None:
            rc, _ = self.stop_pushd()
            if rc is not None and rc < 0 and rc != -signal.SIGTERM:
                problems.append(f"golive-pushd ended by signal {-rc}")
        if self.nginx is not None and self.nginx.poll() is None:
            self.nginx.send_signal(signal.SIGTERM)
            try:
                self.nginx.wait(5)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
                self.nginx.wait()
        if self in LIVE_STACKS:
            LIVE_STACKS.remove(self)
        log = self.read_log()
        for marker in SANITIZER_MARKERS:
            if marker in log:
                problems.append(f"sanitizer report in pushd.log ({marker!r})")
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
        path = self.pushd_log if which == "pushd" else self.nginx_log
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
        nginx_lines = self.read_log("nginx").splitlines()[-15:]
        if nginx_lines:
            parts.append("--- nginx.log (last 15 lines) ---")
            parts += nginx_lines
        return "\n".join(parts)

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
    """One stack per test module; the module may set STACK_CONFIG and STACK_ENV."""
    st = Stack(getattr(request.module, "STACK_CONFIG", None),
               getattr(request.module, "STACK_ENV", None))
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
    before = list(LIVE_STACKS)
    yield
    dead = [st for st in before if st in LIVE_STACKS and st.died_unexpectedly()]
    if dead:
        st = dead[0]
        st.failed = True
        pytest.fail(f"golive-pushd died during this test (exit code {st.pushd.returncode})\n"
                    + st.log_tail(), pytrace=False)


@pytest.fixture
def make_stack():
    """Factory for a fresh stack owned by one test: make_stack(config=..., env=...)."""
    made = []

    def factory(config=None, env=None, secret=SECRET):
        st = Stack(config, env, secret)
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
