"""GoLive behind lighttpd and behind Apache: the configs tools/gen-webconf.sh writes from
conf/lighttpd/golive.conf.in and conf/apache/golive.conf.in, in front of a real golive-pushd and
golive-api. Every test runs once per web server; REST and WebSocket both go through the SAME web
server (its /api/realtime/... FastCGI route and its /api/ws WebSocket proxy).

The stack's rundir is under /tmp with mode 0755, so Apache's workers (User nobody when the tests
run as root) reach pushd.sock and api.sock. On a failure the report shows the web server's
error log (RUNDIR/lighttpd/error.log, RUNDIR/apache/error.log) with the golive logs.
"""

import concurrent.futures
import http.client
import json
import os
import shutil
import signal
import subprocess
import time

import pytest
import requests
import websockets

from conftest import (REPO, http_from, Client, Stack, _UNSET, _json_dumps, can_connect_tcp, channel_path,
                      close_all, expect_error, free_port, is_int, is_message, json_body, run,
                      unique_channel)

GEN_WEBCONF = os.path.join(REPO, "tools", "gen-webconf.sh")
SBIN_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])

SERVERS = {
    # server: (executable, argv after the executable, given CONF)
    "lighttpd": ("lighttpd", lambda conf: ["-D", "-f", conf]),
    "apache": ("apache2", lambda conf: ["-f", conf, "-DFOREGROUND"]),
}


class Front:
    """A lighttpd or Apache started from gen-webconf.sh's config in front of a Stack."""

    def __init__(self, server, stack):
        self.server = server
        self.stack = stack
        self.port = None
        self.proc = None
        self.conf = None

    @property
    def error_log(self):
        return os.path.join(self.stack.rundir, self.server, "error.log")

    @property
    def out_log(self):
        return os.path.join(self.stack.rundir, f"{self.server}.out")

    def read_error_log(self):
        text = []
        for path in (self.error_log, self.out_log):
            try:
                with open(path, "rb") as f:
                    text.append(f"--- {path} ---\n" + f.read().decode("utf-8", "replace"))
            except OSError:
                pass
        return "\n".join(text)

    def start(self):
        exe_name, argv = SERVERS[self.server]
        exe = shutil.which(exe_name, path=SBIN_PATH)
        if exe is None:
            pytest.skip(f"{exe_name} is not installed (tools/install-deps.sh installs it)")
        self.port = free_port()
        out = subprocess.run([GEN_WEBCONF, self.server, self.stack.rundir, str(self.port)],
                             check=True, capture_output=True, text=True,
                             env=self.stack.pushd_env())
        self.conf = out.stdout.strip()
        assert self.conf == os.path.join(self.stack.rundir, self.server, f"{self.server}.conf")
        self.stack.extra_logs += [(f"{self.server} error log", self.error_log),
                                  (f"{self.server} stdout/stderr", self.out_log)]
        log = open(self.out_log, "ab")
        try:
            # its own process group: Apache's children go with it if it has to be killed
            self.proc = subprocess.Popen([exe] + argv(self.conf), stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        finally:
            log.close()
        deadline = time.monotonic() + 10
        while not can_connect_tcp(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stack.failed = True
                pytest.fail(f"{self.server} did not start (exit code {self.proc.poll()})\n"
                            + self.read_error_log(), pytrace=False)
            time.sleep(0.05)

    def stop(self, timeout=5.0):
        """SIGTERM, wait; after timeout SIGKILL to the server's process group. Returns
        (exit code, whether it had to be killed)."""
        if self.proc is None:
            return None, False
        killed = False
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                killed = True
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        return self.proc.returncode, killed

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    # clients, all through this web server
    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}"

    def http(self, method, path, token=None, json=_UNSET, data=None, headers=None, params=None,
             timeout=10):
        hdrs = {}
        if token is not None:
            hdrs["Authorization"] = f"Bearer {token}"
        if json is not _UNSET:
            data = _json_dumps(json).encode()
            hdrs["Content-Type"] = "application/json"
        if headers:
            hdrs.update(headers)
        return requests.request(method, self.base_url + path, data=data, headers=hdrs,
                                params=params, timeout=timeout, allow_redirects=False)

    def rest(self, method, channel, *parts, encode=False, **kw):
        return self.http(method, channel_path(channel, *parts, encode=encode), **kw)

    async def client(self, token=None):
        """A WebSocket client on ws://127.0.0.1:PORT/api/ws of this web server (token in an
        Authorization header)."""
        return await Client.open(f"ws://127.0.0.1:{self.port}/api/ws", token=token)


@pytest.fixture(scope="module", params=sorted(SERVERS))
def front(request):
    st = Stack(api=True)
    st.start()
    fr = Front(request.param, st)
    try:
        fr.start()
    except BaseException:
        st.stop()
        raise
    yield fr
    rc, killed = fr.stop()
    if killed:
        # not a failure of its own: it happens when a test left requests hanging in it
        print(f"note: {fr.server} did not stop within 5 s of SIGTERM; killed")
    # lighttpd 1.4.69 exits 1 when a connection (a client's keep-alive one) was still open at
    # SIGTERM (server.c main: "if (NULL == srv->conns) rc = 0"): a clean stop all the same.
    clean = (0, 1) if fr.server == "lighttpd" else (0,)
    if st.failed or (rc not in clean and not killed):
        print(f"{fr.server} exited with {rc}; its logs:\n{fr.read_error_log()}")
    st.extra_logs = []
    st.stop()
    assert killed or rc in clean, f"{fr.server} exited with {rc} after SIGTERM"


@pytest.fixture(autouse=True)
def _front_alive(front):
    assert front.alive(), (f"{front.server} is not running (exit code {front.proc.returncode})\n"
                           + front.read_error_log())
    yield
    if not front.alive():
        front.stack.failed = True
        pytest.fail(f"{front.server} died during this test (exit code {front.proc.returncode})"
                    f"\n{front.read_error_log()}", pytrace=False)


def mod_token(front):
    return front.stack.token("u_mod", username="moddy", role="moderator")


# ---------------------------------------------------------------------------------------------


def test_publish_reaches_ws_subscriber_through_the_same_server(front):
    """REST publish (channel raw and URL-encoded) through the web server's FastCGI route; the
    message reaches a WebSocket subscriber connected through the web server's /api/ws, with the
    id REST answered; history (both spellings) lists both."""
    ch = unique_channel()
    alice = front.stack.token("u_alice", username="alice")
    sub_t = front.stack.token("u_sub", username="sub")

    async def body():
        sub = await front.client(sub_t)
        try:
            await sub.subscribe(ch)
            ids = []
            for n, encode in enumerate((False, True)):
                r = front.rest("POST", ch, "publish", token=alice, encode=encode,
                               json={"data": {"n": n, "text": "héllo"}})
                reply = json_body(r, 200)
                assert reply["channel"] == ch, reply
                assert is_int(reply["id"]) and reply["pushed"] is True, reply
                msg = await sub.recv_until(is_message(ch, reply["id"]),
                                           what=f"message {reply['id']} (encode={encode})")
                assert msg["data"] == {"n": n, "text": "héllo"}, msg
                assert msg["user"] == {"id": "u_alice", "username": "alice"}, msg
                assert msg["created_at"] == reply["created_at"], (msg, reply)
                ids.append(reply["id"])
            assert ids[0] < ids[1], ids

            for encode in (False, True):
                r = front.rest("GET", ch, "history", encode=encode)
                msgs = json_body(r, 200)["messages"]
                assert [m["id"] for m in msgs] == ids, msgs
                assert [m["data"]["n"] for m in msgs] == [0, 1], msgs
            rows = front.stack.db_messages(ch)
            assert [(r["id"], r["user_id"]) for r in rows] == [(i, "u_alice") for i in ids]
        finally:
            await close_all(sub)

    run(body())


def test_ban_unsubscribes_ws_subscriber_and_refuses_rest_publish(front):
    ch = unique_channel()
    bob_t = front.stack.token("u_bob", username="bob")

    async def body():
        bob = await front.client(bob_t)
        try:
            await bob.subscribe(ch)
            before = json_body(front.rest("POST", ch, "publish", token=bob_t,
                                          json={"data": {"n": "before"}}), 200)
            await bob.recv_until(is_message(ch, before["id"]))

            r = front.rest("POST", ch, "users", "u_bob", "ban", token=mod_token(front),
                           encode=True, json={"reason": "spam"})
            assert json_body(r, 200) == {"channel": ch, "user_id": "u_bob", "banned": True,
                                         "pushed": True}
            ev = await bob.recv_until(lambda m: m.get("type") == "unsubscribed",
                                      what="unsubscribed")
            assert ev == {"type": "unsubscribed", "channel": ch, "reason": "banned"}, ev

            expect_error(front.rest("POST", ch, "publish", token=bob_t,
                                    json={"data": {"n": "after"}}), 403)
            await bob.error({"type": "subscribe", "channel": ch}, "forbidden")
            assert [r["id"] for r in front.stack.db_messages(ch)] == [before["id"]]
        finally:
            await close_all(bob)

    run(body())


def test_unknown_routes_are_json_404(front):
    ch = unique_channel()
    for path in ("/api/realtime/nope", "/api/realtime/channels/" + ch + "/nope",
                 "/api/realtime/", "/api/nope"):
        expect_error(front.http("GET", path), 404)
    # outside /api/ the web server answers by itself (its own 404 page, unlike nginx's JSON)
    assert front.http("GET", "/nope").status_code == 404
    # a known route with another method: 405 and the app's Allow header passes through
    r = front.http("DELETE", "/api/realtime/channels")
    expect_error(r, 405)
    assert r.headers.get("Allow") == "GET, OPTIONS", dict(r.headers)


def test_authorization_header_reaches_the_app(front):
    ch = unique_channel()
    carol = front.stack.token("u_carol", username="carol")

    # with a token: 200, and the stored author is the token's subject
    reply = json_body(front.rest("POST", ch, "publish", token=carol,
                                 json={"data": {"n": 1}}), 200)
    rows = front.stack.db_messages(ch)
    assert [(r["id"], r["user_id"], r["username"]) for r in rows] == [
        (reply["id"], "u_carol", "carol")]

    # without: 401
    expect_error(front.rest("POST", ch, "publish", json={"data": {"n": 2}}), 401)
    # a GET needs no token, but a bad one is refused: so the header reaches GET routes too
    json_body(front.rest("GET", ch, "history"), 200)
    bad = front.stack.token("u_carol", secret="another-secret-another-secret-0123")
    expect_error(front.rest("GET", ch, "history", token=bad), 401)
    expect_error(front.rest("POST", ch, "publish", token=bad, json={"data": {"n": 3}}), 401)
    assert len(front.stack.db_messages(ch)) == 1


def test_concurrent_requests_are_all_answered(front):
    """Rounds of 24 parallel requests, each on a fresh connection: every one is answered within
    3 s. (A web server that keeps idle FastCGI connections open to golive-api, FCGI_KEEP_CONN,
    holds its worker threads, one per connection: requests beyond them then hang.)"""
    ch = unique_channel()
    json_body(front.rest("POST", ch, "publish", token=front.stack.token("u_dan"),
                         json={"data": {"n": 0}}), 200)
    path = channel_path(ch, "history")

    def one(i):
        t0 = time.monotonic()
        try:
            r = front.http("GET", path, timeout=3)
            return i, r.status_code, round(time.monotonic() - t0, 2)
        except requests.RequestException as e:
            return i, type(e).__name__, round(time.monotonic() - t0, 2)

    with concurrent.futures.ThreadPoolExecutor(24) as ex:
        for rnd in range(4):
            results = list(ex.map(one, range(24)))
            bad = [r for r in results if r[1] != 200]
            assert not bad, (f"round {rnd}: {len(bad)} of 24 parallel requests through "
                             f"{front.server} not answered with 200 within 3 s "
                             f"(index, outcome, seconds): {bad}")


def test_a_burst_of_concurrent_publishes_is_stored_and_pushed(front):
    """16 publishers, each on one kept-alive HTTP connection, publish 60 messages as fast as
    they are answered: the group commit and the exchanges with pushd overlap under load (batches
    in flight while others are stored). Every publish is answered 200 with its own id and
    "pushed": true, every message is stored, and golive-api is still running."""
    ch = unique_channel("free")  # no rule: max_history 1000 keeps all 960
    host, port = front.base_url.split("//")[1].split(":")
    token = front.stack.token("u_burst", username="burst")
    path = channel_path(ch, "publish")

    def publisher(k):
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        out = []
        try:
            for n in range(60):
                conn.request("POST", path, body=json.dumps({"data": {"k": k, "n": n}}),
                             headers={"Authorization": f"Bearer {token}",
                                      "Content-Type": "application/json"})
                r = conn.getresponse()
                body = r.read()
                out.append((r.status, json.loads(body) if r.status == 200 else body[:200]))
        finally:
            conn.close()
        return out

    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        replies = [r for rs in ex.map(publisher, range(16)) for r in rs]
    bad = [r for r in replies if r[0] != 200 or r[1].get("pushed") is not True]
    assert not bad, f"{len(bad)} of {len(replies)} publishes through {front.server}: {bad[:5]}"
    ids = {r[1]["id"] for r in replies}
    assert len(ids) == len(replies) == 960
    assert front.stack.api_alive(), front.stack.log_tail()
    assert {m["id"] for m in front.stack.db_messages(ch)} == ids


def test_same_origin_pages_pass_and_foreign_ones_are_refused(front):
    """The web server hands the browser's Host (with its port) on to pushd and golive-api, so
    that a page of this very origin may open a socket and read history (allowed_origins absent:
    same origin only), and a page of another origin may not."""
    own, foreign = front.base_url, "https://evil.example.net"

    async def ws_status(origin):
        try:
            ws = await websockets.connect(f"ws://127.0.0.1:{front.port}/api/ws", origin=origin,
                                          open_timeout=5)
        except websockets.InvalidStatusCode as e:
            return e.status_code
        await ws.close()
        return 101

    assert run(ws_status(own)) == 101
    assert run(ws_status(foreign)) == 403
    ch = unique_channel()
    r = front.rest("GET", ch, "history", headers={"Origin": own})
    json_body(r, 200)
    assert r.headers.get("Access-Control-Allow-Origin") == own, dict(r.headers)
    expect_error(front.rest("GET", ch, "history", headers={"Origin": foreign}), 403)
    r = front.http("OPTIONS", channel_path(ch, "publish"),
                   headers={"Origin": own, "Access-Control-Request-Method": "POST"})
    assert r.status_code == 204, (r.status_code, r.text)
    assert r.headers.get("Access-Control-Allow-Methods") == "POST", dict(r.headers)


def test_web_app_pages_are_served(front):
    """The web app (web/) at / through this web server: /watch/<name>, /stream,
    /embed/chat/<channel> and /docs/api give their pages, the scripts come as JavaScript (module
    scripts need a JavaScript type), the API's description as JSON."""
    for path, marker in (("/", "Live now"), ("/watch/x", 'src="/app/watch.js"'),
                         ("/watch/x?token=abc", 'src="/app/watch.js"'),
                         ("/stream", 'src="/app/stream-page.js"'),
                         ("/stream?token=abc", 'src="/app/stream-page.js"'),
                         ("/embed/chat/public:lobby", 'src="/app/embed-chat.js"'),
                         ("/docs/api", 'src="/app/api-docs.js"'),
                         ("/docs/api/", 'src="/app/api-docs.js"')):
        r = front.http("GET", path)
        assert r.status_code == 200 and marker in r.text, (path, r.status_code, r.text[:300])
        assert r.headers["Content-Type"].startswith("text/html"), (path, dict(r.headers))
    for path in ("/golive.js", "/app/chat-panel.js", "/app/stream-page.js", "/vendor/hls.js/hls.min.js"):
        r = front.http("GET", path)
        assert r.status_code == 200, (path, r.status_code)
        assert "javascript" in r.headers["Content-Type"], (path, dict(r.headers))
    assert front.http("GET", "/app/nope.js").status_code == 404
    r = front.http("GET", "/openapi.json")
    assert r.status_code == 200 and r.json()["openapi"].startswith("3.1"), r.text[:200]
    assert r.headers["Content-Type"].startswith("application/json"), dict(r.headers)


def test_golive_apis_ops_routes_answer_this_host_only(front):
    r = front.http("GET", "/api/ops/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4"), r.headers
    assert "golive_api_requests_total{" in r.text and "golive_api_build_info" in r.text
    assert front.http("GET", "/api/ops/healthz").text == "ok\n"
    r = front.http("GET", "/api/ops/readyz")
    assert (r.status_code, r.text) == (200, "ready\n"), r.text
    # another client (another loopback address, as the web server sees it) is refused
    status, _ = http_from("127.0.0.5", front.port, "/api/ops/metrics")
    assert status == 403, status
    status, _ = http_from("127.0.0.5", front.port, "/api/realtime/channels")
    assert status == 200, status  # the rest of the API is not restricted
