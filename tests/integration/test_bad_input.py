"""Bad input gets bad_request (or the documented error) and never closes the connection;
frames over GOLIVE_MAX_MESSAGE_BYTES close with 1009."""

import json

import pytest

from conftest import close_all, is_message, run, unique_channel

MAX_BYTES = 4096
STACK_ENV = {"GOLIVE_MAX_MESSAGE_BYTES": str(MAX_BYTES)}

CH = "public:bad_input"

# (name, raw text frame); each must get an error frame with code bad_request.
BAD_FRAMES = [
    ("invalid_json", '{"type":"subscribe",'),
    ("not_json_at_all", "hello"),
    ("json_array", '[{"type":"rpc","data":{"method":"stats"}}]'),
    ("json_string", '"subscribe"'),
    ("json_number", "42"),
    ("json_null", "null"),
    ("empty_frame", ""),
    ("unknown_type", json.dumps({"type": "dance", "id": 1})),
    ("missing_type", json.dumps({"id": 1, "channel": CH})),
    ("type_not_string", json.dumps({"type": 7, "id": 1})),
    ("subscribe_missing_channel", json.dumps({"type": "subscribe", "id": 1})),
    ("subscribe_channel_not_string", json.dumps({"type": "subscribe", "id": 1, "channel": 42})),
    ("subscribe_channel_null", json.dumps({"type": "subscribe", "id": 1, "channel": None})),
    ("bad_channel_chars", json.dumps({"type": "subscribe", "id": 1, "channel": "bad channel!"})),
    ("bad_channel_empty_segment", json.dumps({"type": "subscribe", "id": 1, "channel": "a::b"})),
    ("bad_channel_leading_colon", json.dumps({"type": "subscribe", "id": 1, "channel": ":a"})),
    ("bad_channel_trailing_colon", json.dumps({"type": "subscribe", "id": 1,
                                               "channel": "public:"})),
    ("bad_channel_empty", json.dumps({"type": "subscribe", "id": 1, "channel": ""})),
    ("bad_channel_300_bytes", json.dumps({"type": "subscribe", "id": 1,
                                          "channel": "public:" + "a" * 293})),
    ("bad_channel_256_bytes", json.dumps({"type": "subscribe", "id": 1,
                                          "channel": "public:" + "a" * 249})),
    ("bad_channel_non_ascii", json.dumps({"type": "subscribe", "id": 1, "channel": "public:é"})),
    ("publish_bad_channel", json.dumps({"type": "publish", "id": 1, "channel": "a b",
                                        "data": {"x": 1}})),
    ("publish_data_string", json.dumps({"type": "publish", "id": 1, "channel": CH,
                                        "data": "hello"})),
    ("publish_data_array", json.dumps({"type": "publish", "id": 1, "channel": CH,
                                       "data": [1, 2]})),
    ("publish_data_number", json.dumps({"type": "publish", "id": 1, "channel": CH,
                                        "data": 5})),
    ("publish_data_null", json.dumps({"type": "publish", "id": 1, "channel": CH,
                                      "data": None})),
    ("publish_data_missing", json.dumps({"type": "publish", "id": 1, "channel": CH})),
    ("publish_missing_channel", json.dumps({"type": "publish", "id": 1, "data": {"x": 1}})),
    ("id_object", json.dumps({"type": "rpc", "id": {"a": 1}, "data": {"method": "stats"}})),
    ("id_array", json.dumps({"type": "rpc", "id": [1], "data": {"method": "stats"}})),
    ("id_bool", json.dumps({"type": "rpc", "id": True, "data": {"method": "stats"}})),
    ("id_string_65_bytes", json.dumps({"type": "rpc", "id": "x" * 65,
                                       "data": {"method": "stats"}})),
    ("rpc_data_missing", json.dumps({"type": "rpc", "id": 1})),
    ("rpc_method_missing", json.dumps({"type": "rpc", "id": 1, "data": {}})),
    ("rpc_method_not_string", json.dumps({"type": "rpc", "id": 1, "data": {"method": 3}})),
    ("history_limit_not_number", json.dumps({"type": "history", "id": 1, "channel": CH,
                                             "limit": "ten"})),
    ("history_since_not_number", json.dumps({"type": "history", "id": 1, "channel": CH,
                                             "since": "5"})),
    ("subscribe_since_not_number", json.dumps({"type": "subscribe", "id": 1, "channel": CH,
                                               "since": "abc"})),
]


@pytest.mark.parametrize("name,frame", BAD_FRAMES, ids=[n for n, _ in BAD_FRAMES])
def test_bad_frame_gets_bad_request_and_connection_stays(stack, name, frame):
    async def body():
        # authenticated, so that publish errors are about the input and not about auth
        c = await stack.client(stack.token("u_bad", username="bad"))
        try:
            await c.send_raw(frame)
            r = await c.recv_until(lambda m: m.get("type") == "error",
                                   what=f"an error frame for {name}")
            assert r["error"]["code"] == "bad_request", r
            assert isinstance(r["error"]["message"], str) and r["error"]["message"], r
            await c.assert_usable()
            # nothing else came back (no reply as if the command had worked)
            await c.expect_no_message(within=0.1, pred=lambda m: m.get("type") != "rpc")
        finally:
            await c.close()

    run(body())


def test_channel_name_of_255_bytes_is_fine(stack):
    async def body():
        c = await stack.client()
        try:
            ch = "public:" + "a" * (255 - len("public:"))
            assert len(ch) == 255
            await c.subscribe(ch)
            ch2 = "public:A-z_0.9@x=y:seg"
            await c.subscribe(ch2)
        finally:
            await c.close()

    run(body())


def test_binary_frame_gets_error_and_connection_stays(stack):
    async def body():
        c = await stack.client()
        try:
            await c.send_raw(b'{"type":"rpc","data":{"method":"stats"}}')
            r = await c.recv(timeout=5)
            assert r["type"] == "error", r
            assert isinstance(r["error"]["code"], str) and r["error"]["message"], r
            await c.assert_usable()
        finally:
            await c.close()

    run(body())


def test_subscribe_twice_conflict_and_unsubscribe_not_subscribed(stack):
    ch = unique_channel()

    async def body():
        c = await stack.client()
        try:
            await c.subscribe(ch)
            await c.error({"type": "subscribe", "channel": ch}, "conflict")
            await c.error({"type": "unsubscribe", "channel": unique_channel()}, "not_found")
            await c.ok({"type": "unsubscribe", "channel": ch})
            await c.error({"type": "unsubscribe", "channel": ch}, "not_found")
            await c.error({"type": "unsubscribe", "channel": "a::b"}, "bad_request")
            await c.assert_usable()
        finally:
            await c.close()

    run(body())


def test_unknown_rpc_method_not_found(stack):
    async def body():
        c = await stack.client(stack.token("u_rpc", username="rpc"))
        try:
            await c.error({"type": "rpc", "data": {"method": "no_such_method"}}, "not_found")
            await c.assert_usable()
        finally:
            await c.close()

    run(body())


def _publish_frame(ch, size):
    """A publish command whose JSON text is exactly `size` bytes."""
    base = {"type": "publish", "id": 1, "channel": ch, "data": {"content": ""}}
    pad = size - len(json.dumps(base))
    assert pad > 0
    base["data"]["content"] = "x" * pad
    text = json.dumps(base)
    assert len(text.encode()) == size
    return text, base["data"]


def test_frame_just_under_limit_is_fine(stack):
    ch = unique_channel()

    async def body():
        c = await stack.client(stack.token("u_big", username="big"))
        try:
            await c.subscribe(ch)
            text, data = _publish_frame(ch, MAX_BYTES - 96)
            await c.send_raw(text)
            r = await c.recv_until(lambda m: m.get("id") == 1 and m.get("type") != "message")
            assert r["type"] == "publish", r
            ev = await c.recv_until(is_message(ch, r["data"]["message_id"]))
            assert ev["data"] == data
        finally:
            await c.close()

    run(body())


@pytest.mark.parametrize("size", [MAX_BYTES + 512, 4 * MAX_BYTES, 200_000])
def test_frame_over_limit_closes_1009(stack, size):
    ch = unique_channel()

    async def body():
        c = await stack.client(stack.token("u_big", username="big"))
        other = await stack.client()
        try:
            await other.subscribe(ch)
            text, _ = _publish_frame(ch, size)
            await c.send_raw(text)
            code, frames = await c.wait_closed(timeout=5)
            assert code == 1009, (code, frames)
            # not published, and the server still serves others
            await other.expect_no_message(within=0.2, pred=is_message(ch))
            await other.assert_usable()
            assert stack.db_messages(ch) == []
        finally:
            await close_all(c, other)

    run(body())


def test_many_bad_frames_in_a_row(stack):
    async def body():
        c = await stack.client(stack.token("u_bad", username="bad"))
        try:
            for i in range(200):
                await c.send_raw('{"type":' if i % 2 else '[]')
            for _ in range(200):
                r = await c.recv(timeout=5)
                assert r["type"] == "error" and r["error"]["code"] == "bad_request", r
            await c.assert_usable()
        finally:
            await c.close()

    run(body())
