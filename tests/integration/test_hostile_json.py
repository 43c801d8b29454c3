"""Hostile JSON and identifiers: NUL inside names, repeated keys in envelopes and tokens, raw NUL
bytes, blank or foreign Authorization headers (one rule for REST and WebSocket), and recovery
that says when it cannot recover."""
import base64
import hashlib
import hmac
import json
import sqlite3
import time

import pytest

from conftest import MODES_OFF, SECRET, expect_error, json_body, run, unique_channel


def signed_token(payload_text, secret=SECRET, header='{"alg":"HS256","typ":"JWT"}'):
    """An HS256 token over exactly these payload bytes (PyJWT would re-print them)."""
    def enc(b):
        return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    signing = enc(header.encode()) + "." + enc(payload_text.encode())
    sig = hmac.new(secret.encode(), signing.encode(), hashlib.sha256).digest()
    return signing + "." + enc(sig)


def exp():
    return int(time.time()) + 3600


def raw_post(stack, ch, route, body, token):
    return stack.rest("POST", ch, route, token=token, data=body,
                      headers={"Content-Type": "application/json"})


# --- NUL in identifiers --------------------------------------------------------------------

def test_ws_channel_with_nul_is_refused_for_subscribe_and_publish(stack):
    base = unique_channel()

    async def body():
        c = await stack.client(stack.token("u_nul"))
        try:
            for typ in ("subscribe", "publish"):
                await c.ws.send('{"type":"%s","id":1,"channel":"%s\\u0000zzz","data":{"a":1}}'
                                % (typ, base))
                err = await c.recv_until(lambda m: m.get("type") == "error")
                assert err["id"] == 1 and err["error"]["code"] == "bad_request", err
                assert err["error"]["message"] == "channel must not contain NUL (\\u0000)", err
            # Nothing was done on the channel the name was cut to.
            r = await c.ok({"type": "presence", "channel": base})
            assert r["data"]["users"] == [], r
        finally:
            await c.close()
    run(body())
    assert stack.db_messages(base) == []


def test_rest_identifiers_with_nul_are_bad_request(stack):
    ch = unique_channel()
    mod = stack.token("mod_nul", role="moderator")
    user = stack.token("u_nul")
    # in the path (percent-encoded): nginx refuses %00 itself, before golive-api's decoder
    # (which refuses it too) sees it. Either way: 400, nothing done.
    assert stack.http("GET", "/api/realtime/channels/" + ch + "%00zzz/history").status_code == 400
    assert stack.http("POST", f"/api/realtime/channels/{ch}/users/u1%00x/ban", token=mod,
                      json={}).status_code == 400
    # in bodies: reason, access-list user ids, stream name
    r = raw_post(stack, ch, "users/u1/ban", b'{"reason":"spam\\u0000hidden"}', mod)
    expect_error(r, 400, "bad_request")
    assert "reason must not contain NUL" in r.text, r.text
    r = raw_post(stack, ch, "access", b'{"users":["ok","b\\u0000"]}', mod)
    expect_error(r, 400, "bad_request")
    r = stack.http("POST", "/api/streaming/keys", data=b'{"stream_name":"abc\\u0000def"}',
                   token=stack.token("u_str", permissions=["stream.create"]),
                   headers={"Content-Type": "application/json"})
    expect_error(r, 400, "bad_request")
    # data itself may hold NUL: it is kept as written
    r = raw_post(stack, ch, "publish", b'{"data":{"t":"a\\u0000b"}}', user)
    mid = json_body(r, 200)["id"]
    assert stack.db_rows("SELECT data FROM messages WHERE id = ?", (mid,))[0]["data"] == \
        '{"t":"a\\u0000b"}'
    assert stack.db_rows("SELECT COUNT(*) AS n FROM bans WHERE channel = ?", (ch,))[0]["n"] == 0


def test_rest_body_with_a_raw_nul_byte_is_refused(stack):
    ch = unique_channel()
    tok = stack.token("u_nul")
    for body in (b'{"data":{"t":"a\x00b"}}', b'{"data":{"t":"ab"}}\x00', b'\x00'):
        r = raw_post(stack, ch, "publish", body, tok)
        expect_error(r, 400, "bad_request")
    assert stack.db_messages(ch) == []


# --- repeated keys ---------------------------------------------------------------------------

def test_repeated_keys_in_a_rest_body_are_refused(stack):
    ch = unique_channel()
    tok = stack.token("u_dup")
    r = raw_post(stack, ch, "publish", b'{"data":{"a":1},"data":{"b":2}}', tok)
    expect_error(r, 400, "bad_request")
    assert 'duplicate key \\"data\\"' in r.text or 'duplicate key "data"' in json.loads(
        r.text)["error"]["message"], r.text
    mod = stack.token("mod_dup", role="moderator")
    r = raw_post(stack, ch, "users/u1/timeout", b'{"duration":60,"duration":1}', mod)
    expect_error(r, 400, "bad_request")
    assert stack.db_messages(ch) == []


def test_repeated_keys_in_a_ws_command_are_refused(stack):
    a, b = unique_channel(), unique_channel()

    async def body():
        c = await stack.client(stack.token("u_dup"))
        try:
            await c.ws.send('{"type":"publish","id":5,"channel":"%s","channel":"%s",'
                            '"data":{"x":1}}' % (a, b))
            err = await c.recv_until(lambda m: m.get("id") == 5)
            assert err["type"] == "error" and err["error"]["code"] == "bad_request", err
            assert err["error"]["message"] == 'duplicate key "channel"', err
            # Repeated keys inside data are the client's own bytes: kept.
            await c.ws.send('{"type":"publish","id":6,"channel":"%s","data":{"x":1,"x":2}}' % a)
            ok = await c.recv_until(lambda m: m.get("id") == 6)
            assert ok["type"] == "publish", ok
        finally:
            await c.close()
    run(body())
    assert [m["data"] for m in stack.db_messages(a)] == ['{"x":1,"x":2}']
    assert stack.db_messages(b) == []


def test_a_validly_signed_token_with_repeated_claims_is_refused_everywhere(stack):
    ch = unique_channel()
    tok = signed_token('{"sub":"u","sub":"admin","role":"viewer","role":"admin","exp":%d}'
                       % exp())
    # The same bytes without repeats verify: the signature itself is right.
    good = signed_token('{"sub":"u","role":"viewer","exp":%d}' % exp())
    json_body(stack.rest("GET", ch, "history", token=good), 200)
    r = stack.rest("GET", ch, "history", token=tok)
    expect_error(r, 401, "unauthorized")
    assert "duplicate key" in r.json()["error"]["message"], r.text
    r = stack.rest("POST", ch, "broadcast", token=tok, json={"data": {"a": 1}})
    expect_error(r, 401, "unauthorized")

    async def body():
        c = await stack.client(tok)
        code, frames = await c.wait_closed()
        assert code == 4001, (code, frames)
        assert any("duplicate key" in f.get("error", {}).get("message", "") for f in frames), \
            frames
    run(body())


def test_numeric_sub_says_it_must_be_a_string(stack):
    tok = signed_token('{"sub":42,"exp":%d}' % exp())
    r = stack.rest("GET", unique_channel(), "history", token=tok)
    expect_error(r, 401, "unauthorized")
    assert r.json()["error"]["message"] == "token sub claim must be a string (the user id)"


# --- one rule for Authorization --------------------------------------------------------------

@pytest.mark.parametrize("header", ["Bearer ", "Bearer", "Basic dXNlcjpwYXNz", "Token abc"])
def test_an_authorization_header_that_is_not_a_bearer_token_is_refused_on_both(stack, header):
    ch = unique_channel()
    r = stack.rest("GET", ch, "history", headers={"Authorization": header})
    expect_error(r, 401, "unauthorized")

    async def body():
        import websockets
        ws = await websockets.connect(stack.url(), extra_headers={"Authorization": header},
                                      compression=None, ping_interval=None, open_timeout=5)
        try:
            frames = []
            try:
                while True:
                    frames.append(json.loads(await ws.recv()))
            except websockets.ConnectionClosed:
                pass
            assert ws.close_code == 4001, (ws.close_code, frames)
            assert frames and frames[0]["error"]["code"] == "unauthorized", frames
        finally:
            await ws.close()
    run(body())


def test_a_blank_authorization_header_is_anonymous_on_both(stack):
    ch = unique_channel()
    status, _, body = stack.raw_http(f"GET /api/realtime/channels/{ch}/history HTTP/1.1\r\n"
                                     "Authorization:    ")
    assert status == 200, body

    async def body():
        from conftest import Client
        import websockets
        ws = await websockets.connect(stack.url(), extra_headers={"Authorization": "  "},
                                      compression=None, ping_interval=None, open_timeout=5)
        c = Client(ws)
        try:
            r = await c.ok({"type": "connect"})
            assert r["data"]["user"] is None, r
        finally:
            await c.close()
    run(body())


# --- errors name their channel; recovery says when it cannot recover ---------------------------

def test_an_error_without_id_names_the_channel(stack):
    ch = unique_channel()

    async def body():
        c = await stack.client(stack.token("u_err"))
        try:
            await c.send({"type": "publish", "channel": ch, "data": 5})
            err = await c.recv_until(lambda m: m.get("type") == "error")
            assert err.get("channel") == ch and "id" not in err, err
            assert err["error"]["message"] == "data must be a JSON object", err
            await c.send({"type": "rpc", "data": {"method": "stats"}, "x": "\u0000"})
            err = await c.recv_until(lambda m: m.get("type") == "error")
            assert "channel" not in err, err
        finally:
            await c.close()
    run(body())


def test_a_refused_command_still_echoes_its_id(stack):
    async def body():
        c = await stack.client(stack.token("u_err"))
        try:
            await c.ws.send('{"type":"subscribe","id":"s1","channel":"public:a\\u0000b"}')
            err = await c.recv_until(lambda m: m.get("type") == "error")
            assert err["id"] == "s1" and "channel" not in err, err
            await c.ws.send('{"type":"subscribe","id":77,"type":"publish"}')
            err = await c.recv_until(lambda m: m.get("type") == "error")
            assert err["id"] == 77 and err["error"]["message"] == 'duplicate key "type"', err
        finally:
            await c.close()
    run(body())


def test_subscribe_since_says_whether_history_still_covers_the_gap(stack):
    ch = unique_channel()
    mod = stack.token("mod_hist", role="moderator")
    json_body(stack.rest("PUT", ch, "settings", token=mod, json={"max_history": 3}), 200)
    tok = stack.token("u_hist")
    ids = [stack.publish_rest(ch, {"n": i}, tok)["id"] for i in range(6)]

    async def resume(since):
        c = await stack.client(tok)
        try:
            r = await c.ok({"type": "subscribe", "channel": ch, "since": since})
            got = [(await c.recv_until(lambda m: m.get("type") == "message"))["id"]
                   for _ in range(r["data"]["recovered"])]
            return r["data"], got
        finally:
            await c.close()

    # ids[0..2] were pruned: a client that saw only ids[0] missed ids[1] and ids[2] for good.
    data, got = run(resume(ids[0]))
    assert data["complete"] is False and got == ids[3:], (data, got)
    # One that saw ids[2] missed nothing that history lost.
    data, got = run(resume(ids[2]))
    assert data["complete"] is True and got == ids[3:], (data, got)
    data, got = run(resume(ids[-1]))
    assert data == {"channel": ch, "recovered": 0, "complete": True,
                    "chat_modes": MODES_OFF}, data
    # Without since there is nothing to recover, and no flag.
    assert "complete" not in run(subscribe_plain(stack, ch, tok))
    # An operator's DELETE by hand is a gap too.
    conn = sqlite3.connect(stack.db_path, timeout=5)
    with conn:
        conn.execute("DELETE FROM messages WHERE id = ?", (ids[4],))
    conn.close()
    data, got = run(resume(ids[3]))
    assert data["complete"] is False and got == [ids[5]], (data, got)


async def subscribe_plain(stack, ch, tok):
    c = await stack.client(tok)
    try:
        return (await c.ok({"type": "subscribe", "channel": ch}))["data"]
    finally:
        await c.close()
