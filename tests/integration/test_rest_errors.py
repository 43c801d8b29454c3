"""REST errors (docs/api.md, "Errors"): every status of the table, the JSON error shape, the
Allow header of 405s, body limits, SQLite failures, and a fuzz-ish loop: bad input is never a 5xx."""

import collections
import json
import random
import sqlite3
import time
import uuid

import pytest

from conftest import (close_all, expect_error, is_json_response, is_message, json_body,
                      make_token, run, unique_channel)

STACK_API = True

REALTIME = "/api/realtime"


def mod_token(stack):
    return stack.token("u_mod", username="moddy", role="moderator")


def nothing_stored(stack, ch):
    assert stack.db_messages(ch) == [], stack.db_messages(ch)


# ---------------------------------------------------------------------------------------------
# 400


@pytest.mark.parametrize("raw", [
    b"", b"{", b"not json", b'{"data": {"a": 1}', b'{"data": {"a": 1}}}', b"{'data': {}}",
    b'{"data": {"a": 1,}}', b'{"data": {"a": \x01}}', b"\xff\xfe{}",
    b'{"data": {"a": "\xff"}}',  # not UTF-8: not JSON (RFC 8259 section 8.1)
], ids=lambda b: repr(b)[:30])
def test_publish_invalid_json_is_400(stack, raw):
    ch = unique_channel()
    r = stack.rest("POST", ch, "publish", token=stack.token("u_alice"), data=raw,
                   headers={"Content-Type": "application/json"})
    expect_error(r, 400)
    nothing_stored(stack, ch)


def test_invalid_utf8_publish_does_not_break_subscribers(stack):
    """Bytes that are not UTF-8 are not JSON: storing and fanning them out would make every
    WebSocket subscriber's client close the connection (text frames must be UTF-8)."""
    ch = unique_channel()

    async def check():
        sub = await stack.client()
        try:
            await sub.subscribe(ch)
            r = stack.rest("POST", ch, "publish", token=stack.token("u_alice"),
                           data=b'{"data": {"a": "\xc3\x28 \xff"}}',
                           headers={"Content-Type": "application/json"})
            expect_error(r, 400)
            await sub.expect_no_message(within=0.3, pred=is_message(ch))
            await sub.assert_usable()
        finally:
            await sub.close()

    run(check())
    nothing_stored(stack, ch)


@pytest.mark.parametrize("body", [
    {}, {"data": None}, {"data": [1, 2]}, {"data": "hello"}, {"data": 5}, {"data": True},
    {"content": "hi"}, [{"data": {}}], "data", 42, None,
], ids=lambda b: json.dumps(b)[:30])
def test_publish_body_must_be_an_object_with_object_data(stack, body):
    ch = unique_channel()

    async def check():
        sub = await stack.client()
        try:
            await sub.subscribe(ch)
            r = stack.rest("POST", ch, "publish", token=stack.token("u_alice"), json=body)
            err = expect_error(r, 400)
            assert err["message"], err
            await sub.expect_no_message(within=0.2, pred=is_message(ch))
        finally:
            await sub.close()

    run(check())
    nothing_stored(stack, ch)


BAD_NAMES = ["bad%20channel", "a::b", "%3Astart", "end%3A", "public:%C3%A9t%C3%A9", "a" * 256,
             "public:a%2Cb", "public:%22q%22", "public:x%0Ay"]


@pytest.mark.parametrize("name", BAD_NAMES, ids=lambda n: n[:20])
def test_bad_channel_name_is_400(stack, name):
    tok = stack.token("u_alice")
    mod = mod_token(stack)
    base = f"{REALTIME}/channels/{name}"
    expect_error(stack.http("GET", base + "/history"), 400)
    expect_error(stack.http("GET", base), 400)
    expect_error(stack.http("GET", base + "/presence"), 400)
    expect_error(stack.http("POST", base + "/publish", token=tok, json={"data": {}}), 400)
    expect_error(stack.http("POST", base + "/broadcast", token=mod, json={"data": {}}), 400)
    expect_error(stack.http("PUT", base + "/settings", token=mod, json={"private": True}), 400)
    expect_error(stack.http("POST", base + "/users/u_x/ban", token=mod), 400)
    expect_error(stack.http("POST", base + "/access", token=mod, json={"users": ["u"]}), 400)
    assert stack.db_rows("SELECT count(*) AS n FROM messages WHERE channel NOT LIKE '%:%'"
                         " OR channel LIKE '%::%'") == [{"n": 0}]


def test_channel_name_of_255_bytes_is_fine(stack):
    name = "public:" + "a" * 248
    assert len(name) == 255
    mid = stack.publish_rest(name, {"n": 1}, stack.token("u_alice"))["id"]
    assert [m["id"] for m in stack.history_rest(name)] == [mid]


@pytest.mark.parametrize("query", [
    "limit=abc", "limit=-1", "limit=1.5", "limit=10abc", "before=xyz", "since=abc",
    "before=1.5", "since=%00", "limit=%20",
])
def test_bad_history_query_is_400(stack, query):
    ch = unique_channel()
    stack.publish_rest(ch, {"n": 1}, stack.token("u_alice"))
    expect_error(stack.http("GET", f"{REALTIME}/channels/{ch}/history?{query}"), 400)


# ---------------------------------------------------------------------------------------------
# 401


def bad_tokens():
    return {
        "wrong_secret": make_token("u_alice", secret="not-the-secret"),
        "alg_none": make_token("u_alice", alg="none"),
        "hs512": make_token("u_alice", alg="HS512"),
        "expired": make_token("u_alice", exp_delta=-120),
        "garbage": "not.a.jwt",
        "staff_forged": make_token("u_evil", role="admin", secret="guessed"),
    }


@pytest.mark.parametrize("kind", list(bad_tokens()))
def test_invalid_token_is_401_even_where_none_is_needed(stack, kind):
    tok = bad_tokens()[kind]
    ch = unique_channel()
    expect_error(stack.http("GET", f"{REALTIME}/channels", token=tok), 401)
    expect_error(stack.rest("GET", ch, "history", token=tok), 401)
    expect_error(stack.rest("GET", ch, token=tok), 401)
    expect_error(stack.rest("GET", ch, "presence", token=tok), 401)
    expect_error(stack.rest("POST", ch, "publish", token=tok, json={"data": {}}), 401)
    expect_error(stack.rest("POST", ch, "broadcast", token=tok, json={"data": {}}), 401)
    nothing_stored(stack, ch)


def test_missing_token_on_writes_is_401(stack):
    ch = unique_channel()
    expect_error(stack.rest("POST", ch, "publish", json={"data": {"a": 1}}), 401)
    expect_error(stack.rest("POST", ch, "broadcast", json={"data": {"a": 1}}), 401)
    expect_error(stack.rest("PUT", ch, "settings", json={"private": True}), 401)
    expect_error(stack.rest("POST", ch, "access", json={"users": ["u"]}), 401)
    expect_error(stack.rest("DELETE", ch, "access", "u"), 401)
    expect_error(stack.rest("POST", ch, "users", "u", "ban"), 401)
    expect_error(stack.rest("DELETE", ch, "users", "u", "ban"), 401)
    expect_error(stack.rest("POST", ch, "users", "u", "timeout", json={"duration": 5}), 401)
    expect_error(stack.rest("DELETE", ch, "messages", 1), 401)
    nothing_stored(stack, ch)


# ---------------------------------------------------------------------------------------------
# 403


def test_plain_user_cannot_moderate(stack):
    ch = unique_channel()
    tok = stack.token("u_alice")
    mid = stack.publish_rest(ch, {"n": 1}, tok)["id"]
    expect_error(stack.rest("POST", ch, "broadcast", token=tok, json={"data": {}}), 403)
    expect_error(stack.rest("DELETE", ch, "messages", mid, token=tok), 403)
    expect_error(stack.rest("PUT", ch, "settings", token=tok, json={"private": True}), 403)
    expect_error(stack.rest("POST", ch, "access", token=tok, json={"users": ["u"]}), 403)
    expect_error(stack.rest("POST", ch, "users", "u_b", "ban", token=tok), 403)
    expect_error(stack.rest("POST", ch, "users", "u_b", "timeout", token=tok,
                            json={"duration": 5}), 403)
    assert [m["id"] for m in stack.history_rest(ch)] == [mid]


# ---------------------------------------------------------------------------------------------
# 404


@pytest.mark.parametrize("method,path", [
    ("GET", "/api/realtime"), ("GET", "/api/realtime/"), ("GET", "/api/realtime/nope"),
    ("GET", "/api/nope"), ("GET", "/api/streaming/nope"),
    ("GET", "/api/realtime/channel"), ("GET", "/api/realtime/channels/public:x/nope"),
    ("GET", "/api/realtime/channels/public:x/history/more"),
    ("POST", "/api/realtime/channels/public:x/messages"),
    ("DELETE", "/api/realtime/channels/public:x/messages"),
    ("POST", "/api/realtime/channels/public:x/users/u1"),
    ("POST", "/api/realtime/channels/public:x/users/u1/kick"),
    ("POST", "/api/realtime/channels/public:x/publish/again"),
    ("GET", "/api/realtime/channels/public:x/settings/private"),
    ("GET", "/api/realtime/users"),
])
def test_unknown_route_is_404(stack, method, path):
    kw = {"json": {"data": {}}} if method == "POST" else {}
    expect_error(stack.http(method, path, token=mod_token(stack), **kw), 404)


def test_unknown_message_is_404(stack):
    ch = unique_channel()
    mod = mod_token(stack)
    expect_error(stack.rest("DELETE", ch, "messages", 2 ** 62, token=mod), 404)
    expect_error(stack.rest("DELETE", ch, "messages", 1, token=mod), 404)
    expect_error(stack.rest("DELETE", ch, "messages", 2 ** 63 - 1, token=mod), 404)
    # not an id at all, or past SQLite's largest rowid (never clamped to it): 400
    for bad in ("0", "-1", "abc", "1.5", "+5", " 5", "05", str(2 ** 63), "9" * 30):
        expect_error(stack.rest("DELETE", ch, "messages", bad, token=mod), 400)


# ---------------------------------------------------------------------------------------------
# 405


@pytest.mark.parametrize("method,suffix,allowed", [
    ("GET", "/channels/{ch}/publish", {"POST"}),
    ("PUT", "/channels/{ch}/publish", {"POST"}),
    ("GET", "/channels/{ch}/broadcast", {"POST"}),
    ("PUT", "/channels", {"GET"}),
    ("POST", "/channels", {"GET"}),
    ("DELETE", "/channels/{ch}", {"GET"}),
    ("POST", "/channels/{ch}/history", {"GET"}),
    ("DELETE", "/channels/{ch}/presence", {"GET"}),
    ("GET", "/channels/{ch}/settings", {"PUT"}),
    ("POST", "/channels/{ch}/settings", {"PUT"}),
    ("GET", "/channels/{ch}/messages/1", {"DELETE"}),
    ("GET", "/channels/{ch}/users/u_x/ban", {"POST", "DELETE"}),
    ("PUT", "/channels/{ch}/users/u_x/ban", {"POST", "DELETE"}),
    ("GET", "/channels/{ch}/users/u_x/timeout", {"POST"}),
    ("GET", "/channels/{ch}/access", {"POST"}),
    ("GET", "/channels/{ch}/access/u_x", {"DELETE"}),
    ("PATCH", "/channels/{ch}/settings", {"PUT"}),
])
def test_wrong_method_is_405_with_allow(stack, method, suffix, allowed):
    ch = unique_channel()
    path = REALTIME + suffix.format(ch=ch)
    kw = {"json": {"data": {}}} if method in ("POST", "PUT", "PATCH") else {}
    r = stack.http(method, path, token=mod_token(stack), **kw)
    expect_error(r, 405)
    allow = r.headers.get("Allow")
    assert allow, f"405 without an Allow header: {dict(r.headers)}"
    got = {m.strip().upper() for m in allow.split(",") if m.strip()}
    assert got - {"HEAD", "OPTIONS"} == allowed, f"Allow: {allow!r}, expected {allowed}"
    nothing_stored(stack, ch)


# ---------------------------------------------------------------------------------------------
# 413


def padded_publish_body(size):
    """A valid publish body of exactly `size` bytes."""
    base = b'{"data":{"p":""}}'
    pad = size - len(base)
    assert pad >= 0
    body = b'{"data":{"p":"' + b"x" * pad + b'"}}'
    assert len(body) == size
    return body


def test_body_over_the_default_limit_is_413(stack):
    ch = unique_channel()
    tok = stack.token("u_alice")
    hdr = {"Content-Type": "application/json"}
    expect_error(stack.rest("POST", ch, "publish", token=tok, data=padded_publish_body(65537),
                            headers=hdr), 413)
    expect_error(stack.rest("POST", ch, "publish", token=tok, data=padded_publish_body(300000),
                            headers=hdr), 413)
    nothing_stored(stack, ch)
    r = stack.rest("POST", ch, "publish", token=tok, data=padded_publish_body(65536),
                   headers=hdr)
    json_body(r, 200)
    assert len(stack.db_messages(ch)) == 1


def test_golive_max_body_bytes(make_stack):
    st = make_stack(api=True, env={"GOLIVE_MAX_BODY_BYTES": "1024"})
    ch = unique_channel()
    tok = st.token("u_alice")
    mod = st.token("u_mod", role="moderator")
    hdr = {"Content-Type": "application/json"}
    expect_error(st.rest("POST", ch, "publish", token=tok, data=padded_publish_body(1025),
                         headers=hdr), 413)
    expect_error(st.rest("POST", ch, "broadcast", token=mod, data=padded_publish_body(2000),
                         headers=hdr), 413)
    big_access = json.dumps({"users": [f"user_{i:05d}" for i in range(200)]}).encode()
    expect_error(st.rest("POST", ch, "access", token=mod, data=big_access, headers=hdr), 413)
    nothing_stored(st, ch)
    json_body(st.rest("POST", ch, "publish", token=tok, data=padded_publish_body(1024),
                      headers=hdr), 200)
    assert len(st.db_messages(ch)) == 1


def test_a_message_too_big_for_ipc_is_stored_but_not_pushed(make_stack):
    """GOLIVE_MAX_BODY_BYTES may allow bodies as big as what one nng message to pushd can carry
    (docs/wire.md, 1 MiB) or bigger. A message whose event does not fit is stored and answered
    with pushed false (clients get it from history), and the connection to pushd survives: the
    next message is pushed. nginx (client_max_body_size 1m) takes bodies up to 1 MiB."""
    st = make_stack(api=True, env={"GOLIVE_MAX_BODY_BYTES": "2000000"})
    ch = unique_channel()
    tok = st.token("u_alice")
    hdr = {"Content-Type": "application/json"}
    envelope = len('{"data":{"p":""}}')

    def publish(size):
        return json_body(st.rest("POST", ch, "publish", token=tok, data=padded_publish_body(size),
                                 headers=hdr), 200)

    async def body():
        sub = await st.client()
        try:
            await sub.subscribe(ch)
            large = publish(1000000)
            assert large["pushed"] is True, large
            m = await sub.recv_until(lambda m: m.get("type") == "message", what="1 MB")
            assert m["id"] == large["id"] and len(m["data"]["p"]) == 1000000 - envelope
            huge = publish(1 << 20)
            assert huge["pushed"] is False, huge
            small = st.publish_rest(ch, {"n": 1}, tok)
            assert small["pushed"] is True, small
            m = await sub.recv_until(lambda m: m.get("type") == "message", what="the small one")
            assert m["id"] == small["id"], m
            hist = st.history_rest(ch)
            assert [h["id"] for h in hist] == [large["id"], huge["id"], small["id"]]
            assert len(hist[1]["data"]["p"]) == (1 << 20) - envelope
        finally:
            await close_all(sub)

    run(body())


# ---------------------------------------------------------------------------------------------
# 503


def test_database_locked_is_503_in_bounded_time(make_stack):
    """Another process holds SQLite's write lock for longer than golive-api's busy timeout."""
    st = make_stack(api=True)
    ch = unique_channel()
    tok = st.token("u_alice")
    first = st.publish_rest(ch, {"n": 1}, tok)

    async def body():
        sub = await st.client()
        try:
            await sub.subscribe(ch)
            locker = sqlite3.connect(st.db_path, timeout=5, isolation_level=None)
            try:
                locker.execute("BEGIN EXCLUSIVE")
                t0 = time.monotonic()
                r = st.rest("POST", ch, "publish", token=tok, json={"data": {"n": 2}},
                            timeout=30)
                took = time.monotonic() - t0
                expect_error(r, 503)
                assert took < 9, f"503 after {took:.1f}s: the wait must be bounded"
            finally:
                locker.execute("ROLLBACK")
                locker.close()
            await sub.expect_no_message(within=0.2, pred=is_message(ch))
            assert [m["id"] for m in st.db_messages(ch)] == [first["id"]]
            # and it recovers at once
            again = st.publish_rest(ch, {"n": 3}, tok)
            m = await sub.recv_until(is_message(ch))
            assert m["id"] == again["id"], m
        finally:
            await sub.close()

    run(body(), timeout=60)


# ---------------------------------------------------------------------------------------------
# Shapes


def test_success_and_error_replies_are_json(stack):
    ch = unique_channel()
    for r in (stack.http("GET", f"{REALTIME}/channels"), stack.rest("GET", ch),
              stack.rest("GET", ch, "history"), stack.rest("GET", ch, "presence"),
              stack.http("GET", f"{REALTIME}/nope"),
              stack.rest("POST", ch, "publish", json={"data": {}})):
        assert is_json_response(r), (r.request.url, r.status_code, r.headers)
        assert isinstance(r.json(), dict)


# ---------------------------------------------------------------------------------------------
# Never a 5xx for bad input


def fuzz_cases(n, seed, tokens):
    rng = random.Random(seed)
    fz = "public:fz" + uuid.uuid4().hex[:8]
    names = [fz, fz, "", "%", "%zz", "%00", "%2F", "a%2Fb", "..", ".", "a" * 300, "%C3%A9",
             "%FF", "chat%3A", "%3A", "a::b", fz + "%20x", fz + "%3Fx", fz + ";x", "%25",
             "+", fz + "%0Ax", "chat:stream_%2A", fz + "%E2%9C%93", "public%3A" + fz[7:],
             "chat:stream_abc", "%%%", "public:" + "b" * 255]
    ids = ["1", "0", "-1", "abc", "9" * 30, "1e3", "0x10", "%00", "", "1.5", "%201",
           "18446744073709551616", "-9223372036854775809", "u_x", "user%40x", "%FF%FE",
           "x" * 200]
    # suffix -> its method (routes of docs/api.md), used three times out of four
    suffixes = {"": "GET", "/": "GET", "/history": "GET", "/publish": "POST",
                "/broadcast": "POST", "/presence": "GET", "/settings": "PUT", "/access": "POST",
                "/access/{id}": "DELETE", "/messages/{id}": "DELETE", "/users/{id}/ban": "POST",
                "/users/{id}/timeout": "POST", "/users//ban": "POST", "/messages/": "DELETE",
                "/messages/{id}/x": "DELETE", "//history": "GET", "/history/": "GET",
                "/HISTORY": "GET", "/users/{id}/ban/{id}": "DELETE", "/publish/": "POST"}
    queries = ["", "", "?limit=", "?limit=abc", "?limit=-1", "?limit=0",
               "?limit=99999999999999999999", "?before=x", "?since=", "?limit=1&limit=2",
               "?%zz=1", "?limit=%00", "?since=1&before=2", "?since=-5", "?before=0",
               "?limit=2&since=0", "?=&&=", "?limit=1e2", "?" + "a=1&" * 300]
    bodies = [b"", b"{", b"}", b"null", b"[]", b"0", b'"str"', b'{"data":null}',
              b'{"data":[]}', b'{"data":{"a":', b"[" * 5000, b'{"data":' * 3000,
              b"\xff\xfe\xfd", b'{"data":{"x":"\\ud800"}}', b'{"data":{}, "data":{}}',
              b'{"data":{"\\u0000":1}}', b'{"data":{"a":1e99999}}',
              b'{"reason":"' + b"x" * 10000 + b'"}', b'{"duration":1e308}',
              b'{"duration":-1e308,"reason":null}', b'{"duration":9223372036854775808}',
              b'{"users":[' + b'"u",' * 1500 + b'"u"]}', b'{"users":["' + b"u" * 5000 + b'"]}',
              b'{"users":[""]}', b'{"users":["a\\u0000b"]}',
              b'{"private":null,"max_history":null}', b'{"allowed_roles":[""]}',
              b'{"allowed_roles":["' + b"r" * 3000 + b'"]}', b'{"max_history":-0}',
              b'{"data":{"a":"\x00"}}', b'{"data":' + b'{"a":' * 900 + b"1" + b"}" * 901,
              b"\x00" * 100, bytes(rng.randrange(256) for _ in range(300)),
              b'{"data":{"p":"' + b"y" * 60000 + b'"}}']
    methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "POST", "PUT"]
    for i in range(n):
        name = rng.choice(names)
        suffix, method = rng.choice(sorted(suffixes.items()))
        if suffix == "/users/{id}/ban" and rng.random() < 0.3:
            method = "DELETE"
        suffix = suffix.replace("{id}", rng.choice(ids))
        if rng.random() < 0.25:
            method = rng.choice(methods)
        if i % 10 == 0:
            path = rng.choice(["/api/realtime", "/api/realtime/channels" + rng.choice(queries),
                               "/api/realtime/channels/", "/api//realtime/channels",
                               "/api/realtime/channels/%", "/api/realtime/../realtime/channels",
                               "/api/realtime/channels?limit=-1", "/api/" + "z" * 3000])
        else:
            path = f"/api/realtime/channels/{name}{suffix}{rng.choice(queries)}"
        body = rng.choice(bodies) if method not in ("GET", "HEAD") or rng.random() < 0.2 else b""
        tok = rng.choice(tokens)
        headers = []
        if tok is not None:
            headers.append(f"Authorization: {tok}")
        r = rng.random()
        if r < 0.7:
            headers.append("Content-Type: application/json")
        elif r < 0.8:
            headers.append("Content-Type: text/plain")
        chunked = body and rng.random() < 0.1
        if chunked:
            headers.append("Transfer-Encoding: chunked")
            cut = len(body) // 2
            parts = [p for p in (body[:cut], body[cut:]) if p]
            body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"
        yield method, path, headers, body


def test_bad_input_is_never_a_5xx(stack):
    tokens = [None, "Bearer " + stack.token("u_alice"), "Bearer " + mod_token(stack),
              "Bearer " + mod_token(stack), "Bearer " + mod_token(stack),
              "Bearer " + stack.token("u_adm", role="admin"), "Bearer garbage", "Bearer ",
              "Basic dXNlcjpwYXNz", "Bearer " + stack.token("u_perm", permissions=[]),
              "bearer " + stack.token("u_lower"), "Bearer " + "x" * 5000]
    problems = []
    statuses = collections.Counter()  # statuses golive-api answered (not nginx on its own)
    n = 0
    t0 = time.monotonic()
    for method, path, headers, body in fuzz_cases(240, 20261124, tokens):
        n += 1
        head = "\r\n".join([f"{method} {path} HTTP/1.1"] + headers)
        try:
            status, rh, rbody = stack.raw_http(head.encode("latin-1"), body, timeout=15)
        except Exception as e:  # noqa: BLE001 - any failure is a finding
            problems.append(f"{method} {path[:120]}: no answer ({e!r})")
            if not stack.api_alive():
                break
            continue
        desc = f"{method} {path[:120]} body={body[:60]!r}"
        if status >= 500:
            problems.append(f"{desc}: {status} {rbody[:200]!r}")
            if not stack.api_alive():
                problems.append("golive-api died")
                break
            continue
        if b"<center>nginx" in rbody:
            continue  # nginx's own 400 for URIs it refuses before FastCGI
        statuses[status] += 1
        if method == "HEAD" or status == 204:
            continue  # no body (204: OPTIONS on a route, docs/api.md "CORS")
        ctype = rh.get("content-type", "").split(";")[0].strip()
        try:
            doc = json.loads(rbody)
        except ValueError:
            problems.append(f"{desc}: {status} with a body that is not JSON: {rbody[:200]!r}")
            continue
        if ctype != "application/json":
            problems.append(f"{desc}: Content-Type {ctype!r}")
        if status >= 400:
            err = doc.get("error") if isinstance(doc, dict) else None
            if not (isinstance(err, dict) and isinstance(err.get("code"), str)
                    and isinstance(err.get("message"), str)):
                problems.append(f"{desc}: {status} without error.code/message: {doc!r:.200}")
    took = time.monotonic() - t0
    print(f"fuzz: {n} requests in {took:.1f}s; golive-api answered {dict(sorted(statuses.items()))}")
    assert not problems, f"{len(problems)} of {n} requests went wrong:\n" + "\n".join(
        problems[:40])
    assert stack.api_alive(), "golive-api died during the fuzz loop"
    # the loop reached the handlers, not only the router
    assert sum(statuses.values()) >= n // 2, statuses
    assert {400, 404, 405} <= set(statuses), statuses
    # still serving
    ch = unique_channel()
    stack.publish_rest(ch, {"n": 1}, stack.token("u_alice"))
    assert len(stack.history_rest(ch)) == 1
    assert took < 60, f"the fuzz loop took {took:.1f}s"
