"""Data exactly as published: a client's `data` bytes come out byte for byte on every path.

Each payload of the matrix is sent as raw text (never through Python's json, which would re-print
it) over WebSocket publish, REST publish and REST broadcast; a live subscriber, the REST history,
the WebSocket history command, a `since` replay and the SQLite row must all hold the same bytes.
"""
import asyncio
import json

import pytest

from conftest import json_body, run, unique_channel

DEPTH_MAX = 64  # GL_JSON_DEPTH_MAX: the envelope is one level, so data may nest 63 more


def nested(levels):
    return "[" * levels + "1" + "]" * levels


MATRIX = [
    # big and small integers: past 2^53, µs timestamps, past 2^64, a double's extremes, past it
    '{"a":9007199254740993,"b":1764698123456780,"c":12345678901234567890,'
    '"d":1.7976931348623157e308,"e":1e400,"f":-9223372036854775809,"g":5e-324,"h":1e-400}',
    '{"big":' + "9" * 5000 + "}",
    # +-0, decimals as written, exponents
    '{"z":0,"nz":-0,"nzf":-0.0,"f":0.1,"g":1.10,"h":100.000,"i":0.30000000000000004}',
    '{"e1":1e5,"e2":1E-5,"e3":-2.5e+10,"e4":1E+2}',
    # escapes, NUL, emoji as UTF-8 and as a surrogate pair, other planes
    r'{"s":"q\"b\\s\/n\n\t\r\b\f","u":"\u0041\u00e9\u2713","nul":"a\u0000b","n2":"\u0000"}',
    '{"emoji":"\U0001F600 é ✓ 中文","pair":"\\ud83d\\ude00","max":"\\udbff\\udfff"}',
    # whitespace and key order as written, repeated keys inside data
    '{ "b" : [ 1 , { "a" : null } ] ,\n\t"a" : true , "a":false }',
    # deep nesting at the limit
    '{"deep":' + nested(DEPTH_MAX - 2) + "}",
]

IDS = ["integers", "5000-digits", "zeros-decimals", "exponents", "escapes-nul", "unicode",
       "whitespace-order-dups", "deep-at-limit"]


def data_in(frame_text, data):
    """Whether data's exact bytes are the value of a "data" member in frame_text."""
    return f'"data":{data},' in frame_text or f'"data":{data}}}' in frame_text


async def recv_text_until(ws, pred, timeout=5.0):
    """Raw text frames until one satisfies pred; returns it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        left = deadline - loop.time()
        assert left > 0, "timed out waiting for a frame"
        text = await asyncio.wait_for(ws.recv(), left)
        if pred(text):
            return text


def assert_everywhere(stack, ch, mid, data, tok):
    """History over REST, the database row, WS history and a since replay: the same bytes."""
    rows = stack.db_rows("SELECT data FROM messages WHERE id = ?", (mid,))
    assert rows and rows[0]["data"] == data, rows
    r = stack.rest("GET", ch, "history", token=tok, params={"since": mid - 1})
    assert r.status_code == 200, r.text
    assert data_in(r.text, data), r.text[:300]

    async def ws_paths():
        c = await stack.client(tok)
        try:
            await c.ws.send(json.dumps({"type": "history", "id": "h", "channel": ch,
                                        "since": mid - 1}))
            text = await recv_text_until(c.ws, lambda t: '"type":"history"' in t)
            assert data_in(text, data), text[:300]
            await c.ws.send(json.dumps({"type": "subscribe", "id": "s", "channel": ch,
                                        "since": mid - 1}))
            text = await recv_text_until(
                c.ws, lambda t: '"type":"message"' in t and f'"id":{mid},' in t)
            assert data_in(text, data), text[:300]
        finally:
            await c.close()
    run(ws_paths())


@pytest.mark.parametrize("data", MATRIX, ids=IDS)
def test_ws_publish_keeps_data_byte_for_byte(stack, data):
    ch = unique_channel()
    tok = stack.token("u_fid", username="fid")

    async def body():
        sub = await stack.client(stack.token("u_sub"))
        pub = await stack.client(tok)
        try:
            await sub.subscribe(ch)
            await pub.ws.send('{"type":"publish","id":7,"channel":"%s","data":%s}' % (ch, data))
            reply = await recv_text_until(pub.ws, lambda t: '"type":"publish"' in t
                                          or '"type":"error"' in t)
            assert '"type":"publish"' in reply, reply
            mid = json.loads(reply)["data"]["message_id"]
            live = await recv_text_until(sub.ws, lambda t: '"type":"message"' in t)
            assert f'"id":{mid},' in live and data_in(live, data), live[:300]
            return mid
        finally:
            await sub.close()
            await pub.close()
    mid = run(body())
    assert_everywhere(stack, ch, mid, data, tok)


@pytest.mark.parametrize("route", ["publish", "broadcast"])
@pytest.mark.parametrize("data", MATRIX, ids=IDS)
def test_rest_publish_and_broadcast_keep_data_byte_for_byte(stack, data, route):
    ch = unique_channel()
    tok = stack.token("u_fid", username="fid", role="admin" if route == "broadcast" else "user")

    async def body():
        sub = await stack.client(stack.token("u_sub"))
        try:
            await sub.subscribe(ch)
            r = stack.rest("POST", ch, route, token=tok,
                           data=('{"data": %s}' % data).encode(),
                           headers={"Content-Type": "application/json"})
            out = json_body(r, 200)
            assert out["pushed"] is True, out
            live = await recv_text_until(sub.ws, lambda t: '"type":"message"' in t)
            assert f'"id":{out["id"]},' in live and data_in(live, data), live[:300]
            return out["id"]
        finally:
            await sub.close()
    mid = run(body())
    assert_everywhere(stack, ch, mid, data, tok)


def test_data_one_level_past_the_limit_is_refused_on_both_paths(stack):
    ch = unique_channel()
    tok = stack.token("u_fid")
    too_deep = '{"deep":' + nested(DEPTH_MAX - 1) + "}"
    r = stack.rest("POST", ch, "publish", token=tok, data=('{"data": %s}' % too_deep).encode(),
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "nested deeper than 64" in r.text, r.text

    async def body():
        c = await stack.client(tok)
        try:
            await c.ws.send('{"type":"publish","id":1,"channel":"%s","data":%s}' % (ch, too_deep))
            err = json.loads(await recv_text_until(c.ws, lambda t: '"type":"error"' in t))
            assert err["error"]["code"] == "bad_request", err
            assert "nested deeper than 64" in err["error"]["message"], err
        finally:
            await c.close()
    run(body())
    assert stack.db_messages(ch) == []


def test_command_id_is_echoed_as_written(stack):
    ch = unique_channel()

    async def body():
        c = await stack.client(stack.token("u_fid"))
        try:
            for raw_id in ("9007199254740993", "1.50", "-0", '"a\\u0000b"', '"\\u00e9"'):
                await c.ws.send('{"type":"subscribe","id":%s,"channel":"%s"}' % (raw_id, ch))
                text = await recv_text_until(c.ws, lambda t: '"type":"subscribe"' in t)
                assert f'"id":{raw_id},' in text, (raw_id, text)
                await c.ws.send('{"type":"unsubscribe","channel":"%s"}' % ch)
                await recv_text_until(c.ws, lambda t: '"type":"unsubscribe"' in t)
        finally:
            await c.close()
    run(body())
