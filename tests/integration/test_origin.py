"""allowed_origins (docs/configuration.md): the Origin check of pushd's WebSocket handshake and
golive-api's CORS, through nginx as browsers reach them. A request without Origin (curl, native
apps) and a same-origin one (Origin's host:port is the Host) always pass; another origin passes
only when listed, or when the list is ["*"]; a SIGHUP moves both binaries to a new list."""

import copy
import json
import signal
import socket

import pytest
import websockets

from conftest import DEFAULT_CONFIG, expect_error, json_body, run, unique_channel, wait_for

STACK_API = True
LISTED = "https://app.example.com"
FOREIGN = "https://evil.example.net"


def config_with(origins):
    cfg = copy.deepcopy(DEFAULT_CONFIG)
    if origins is not None:
        cfg["allowed_origins"] = origins
    return cfg


STACK_CONFIG = config_with([LISTED, "http://localhost:3000"])


def same_origin(st):
    return f"http://127.0.0.1:{st.port}"


def ws_handshake(st, origin=None, host=None):
    """A WebSocket upgrade written by hand through nginx: (status, headers, body) of pushd's
    answer; the body is read only when the answer says how long it is (not after a 101)."""
    head = ["GET /api/ws HTTP/1.1", f"Host: {host or f'127.0.0.1:{st.port}'}",
            "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="]
    if origin is not None:
        head.append(f"Origin: {origin}")
    with socket.create_connection(("127.0.0.1", st.port), timeout=5) as s:
        s.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(4096)
            assert chunk, f"connection closed before an answer: {buf!r}"
            buf += chunk
        raw_head, _, body = buf.partition(b"\r\n\r\n")
        lines = raw_head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in
                   (ln.partition(":") for ln in lines[1:])}
        want = int(headers.get("content-length", "0"))
        while len(body) < want:
            chunk = s.recv(4096)
            if not chunk:
                break
            body += chunk
    return status, headers, body


async def ws_works(st, origin):
    """Connect with this Origin header (None: none) and run one command."""
    ws = await websockets.connect(st.url(), origin=origin, open_timeout=5, compression=None)
    try:
        await ws.send(json.dumps({"type": "rpc", "id": 1, "data": {"method": "stats"}}))
        reply = json.loads(await ws.recv())
        assert reply["type"] == "rpc", reply
    finally:
        await ws.close()


async def ws_refused(st, origin):
    with pytest.raises(websockets.InvalidStatusCode) as e:
        await websockets.connect(st.url(), origin=origin, open_timeout=5)
    assert e.value.status_code == 403


def assert_refused_handshake(st, origin):
    status, headers, body = ws_handshake(st, origin)
    assert status == 403, (status, headers, body)
    assert "sec-websocket-accept" not in headers and headers.get("upgrade") is None, headers
    err = json.loads(body)["error"]
    assert err["code"] == "forbidden" and "allowed_origins" in err["message"], err


def history(st, origin, channel=None):
    headers = {"Origin": origin} if origin is not None else None
    return st.rest("GET", channel or "public:origin", "history", headers=headers)


def preflight(st, path, origin, method="GET"):
    headers = {"Access-Control-Request-Method": method,
               "Access-Control-Request-Headers": "authorization, content-type"}
    if origin is not None:
        headers["Origin"] = origin
    return st.http("OPTIONS", path, headers=headers)


# ---------------------------------------------------------------------------------------------
# WebSocket handshake


def test_ws_listed_same_origin_and_absent_origin_connect(stack):
    async def body():
        await ws_works(stack, LISTED)
        await ws_works(stack, "HTTP://LOCALHOST:3000")  # scheme and host compare in any case
        await ws_works(stack, same_origin(stack))
        await ws_works(stack, None)
    run(body())


def test_ws_foreign_origin_is_refused_with_403_and_no_upgrade(stack):
    assert_refused_handshake(stack, FOREIGN)
    # near misses of listed origins: another scheme, port, or a path are other origins
    for origin in ("http://app.example.com", "https://app.example.com:8443",
                   "https://app.example.com.evil.net", "null"):
        assert_refused_handshake(stack, origin)
    # Origin naming this host but another port: cross-origin
    assert_refused_handshake(stack, f"http://127.0.0.1:{stack.port + 1}")
    run(ws_refused(stack, FOREIGN))
    wait_for(lambda: f"refused a WebSocket handshake from origin {FOREIGN}"
             in stack.read_log("pushd"), what="pushd logging the refused origin")


def test_ws_same_origin_follows_the_host_header(stack):
    # nginx passes the browser's Host on (proxy_set_header Host $http_host)
    status, headers, _ = ws_handshake(stack, "https://chat.example.org", host="chat.example.org")
    assert status == 101, (status, headers)
    status, _, _ = ws_handshake(stack, "https://chat.example.org", host="other.example.org")
    assert status == 403


def test_ws_star_admits_any_origin(make_stack):
    st = make_stack(config=config_with(["*"]), api=True)
    run(ws_works(st, FOREIGN))
    run(ws_works(st, "null"))
    r = history(st, FOREIGN)
    json_body(r, 200)
    assert r.headers["Access-Control-Allow-Origin"] == "*"


def test_default_without_the_key_is_same_origin_only(make_stack):
    st = make_stack(config=config_with(None), api=True)
    run(ws_works(st, same_origin(st)))
    run(ws_works(st, None))
    assert_refused_handshake(st, LISTED)
    expect_error(history(st, LISTED), 403)
    r = history(st, same_origin(st))
    json_body(r, 200)
    assert r.headers["Access-Control-Allow-Origin"] == same_origin(st)


# ---------------------------------------------------------------------------------------------
# REST: CORS on replies


def test_rest_allowed_origin_gets_acao_and_vary(stack):
    for origin in (LISTED, same_origin(stack)):
        r = history(stack, origin)
        json_body(r, 200)
        assert r.headers["Access-Control-Allow-Origin"] == origin, dict(r.headers)
        assert "Origin" in r.headers.get("Vary", ""), dict(r.headers)
        assert "Access-Control-Allow-Credentials" not in r.headers
    # errors carry it too, so that the page can read them
    r = stack.rest("POST", "public:origin", "publish", json={"data": {}},
                   headers={"Origin": LISTED})
    expect_error(r, 401)
    assert r.headers["Access-Control-Allow-Origin"] == LISTED


def test_rest_without_origin_has_no_acao(stack):
    r = history(stack, None)
    json_body(r, 200)
    assert "Access-Control-Allow-Origin" not in r.headers
    assert "Origin" in r.headers.get("Vary", "")


def test_rest_refused_origin_is_403_json(stack):
    ch = unique_channel()
    tok = stack.token("u_cors", username="cors")
    r = stack.rest("POST", ch, "publish", token=tok, json={"data": {"n": 1}},
                   headers={"Origin": FOREIGN})
    err = expect_error(r, 403)
    assert "allowed_origins" in err["message"], err
    assert "Access-Control-Allow-Origin" not in r.headers
    assert stack.db_messages(ch) == []  # refused before anything was done
    expect_error(history(stack, FOREIGN), 403)
    wait_for(lambda: f"refused a request from origin {FOREIGN}" in stack.read_log("api"),
             what="golive-api logging the refused origin")


# ---------------------------------------------------------------------------------------------
# REST: OPTIONS and preflight

ROUTES = [
    ("/api/realtime/channels/public:origin/history", "GET", "GET"),
    ("/api/realtime/channels/public:origin/publish", "POST", "POST"),
    ("/api/realtime/channels/public:origin/users/u_x/ban", "POST", "POST, DELETE"),
    ("/api/realtime/channels/public:origin/messages/1", "DELETE", "DELETE"),
    ("/api/realtime/channels/public:origin/settings", "PUT", "PUT"),
    ("/api/streaming/keys", "POST", "POST, GET"),
    ("/api/streaming/streams/abc", "GET", "GET"),
]


@pytest.mark.parametrize("path,method,methods", ROUTES)
def test_preflight_from_allowed_origin_is_204_with_cors_headers(stack, path, method, methods):
    r = preflight(stack, path, LISTED, method)
    assert r.status_code == 204, (r.status_code, r.text)
    assert r.content == b""
    h = r.headers
    assert h["Access-Control-Allow-Origin"] == LISTED
    assert h["Access-Control-Allow-Methods"] == methods
    assert h["Access-Control-Allow-Headers"] == "Authorization, Content-Type"
    assert h["Access-Control-Max-Age"] == "600"
    assert "Origin" in h["Vary"]
    assert h["Allow"] == methods + ", OPTIONS"
    assert "Access-Control-Allow-Credentials" not in h


@pytest.mark.parametrize("path,method,methods", ROUTES[:3])
def test_preflight_from_refused_origin_is_403(stack, path, method, methods):
    r = preflight(stack, path, FOREIGN, method)
    expect_error(r, 403)
    assert "Access-Control-Allow-Origin" not in r.headers


@pytest.mark.parametrize("path,method,methods", ROUTES)
def test_options_without_origin_is_204_with_allow(stack, path, method, methods):
    r = stack.http("OPTIONS", path)
    assert r.status_code == 204, (r.status_code, r.text)
    assert r.headers["Allow"] == methods + ", OPTIONS"
    assert "Access-Control-Allow-Origin" not in r.headers
    assert "Access-Control-Allow-Methods" not in r.headers


def test_options_on_an_unknown_route_is_404(stack):
    expect_error(stack.http("OPTIONS", "/api/realtime/nothing/here"), 404)
    r = preflight(stack, "/api/streaming/nope", LISTED)
    expect_error(r, 404)
    assert r.headers["Access-Control-Allow-Origin"] == LISTED


def test_405_allow_lists_options(stack):
    r = stack.http("PATCH", "/api/realtime/channels/public:origin/history")
    expect_error(r, 405)
    assert r.headers["Allow"] == "GET, OPTIONS"


# ---------------------------------------------------------------------------------------------
# Reload


def test_sighup_moves_ws_and_rest_to_the_new_list(make_stack):
    a, b = "https://a.example.com", "https://b.example.com"
    st = make_stack(config=config_with([a]), api=True)

    def state():
        ws = ws_handshake(st, a)[0], ws_handshake(st, b)[0]
        rest = history(st, a).status_code, history(st, b).status_code
        return ws, rest

    assert state() == ((101, 403), (200, 403))
    st.write_config(config_with([b]))
    reloaded = st.read_log("pushd").count("config: reloaded"), st.read_log("api").count(
        "config: reloaded")
    st.signal_pushd(signal.SIGHUP)
    st.api.send_signal(signal.SIGHUP)
    wait_for(lambda: st.read_log("pushd").count("config: reloaded") > reloaded[0]
             and st.read_log("api").count("config: reloaded") > reloaded[1], 5,
             what="pushd and golive-api reloading the YAML")
    assert state() == ((403, 101), (403, 200))

    # a bad list is refused at reload and both keep the running one
    st.write_config(config_with(["https://c.example.com/"]))
    st.signal_pushd(signal.SIGHUP)
    st.api.send_signal(signal.SIGHUP)
    wait_for(lambda: "allowed_origins[0]: only scheme://host[:port]" in st.read_log("pushd")
             and "allowed_origins[0]: only scheme://host[:port]" in st.read_log("api"), 5,
             what="both logging the bad list")
    assert state() == ((403, 101), (403, 200))
