"""RFC 6455 framing that a server must fail, and with which code (7.4.1): client frames not
masked (5.1) or a control frame over 125 bytes (5.5): 1002; a Close payload of one byte
(5.5.1): 1002; a Close reason that is not UTF-8 (5.5.1, 8.1): 1007; a header announcing a
message over GOLIVE_MAX_MESSAGE_BYTES: 1009 as soon as the header arrives, before any of its
payload. Each through a raw socket (a WebSocket library will not send such frames), directly to
pushd and through the shipped nginx; the client then sees the Close and the end of the
connection at once, and pushd goes on serving everyone else."""
import json
import struct

import pytest

from conftest import close_all, run, unique_channel
from rawws import RawWS

MAX_BYTES = 4096
STACK_ENV = {"GOLIVE_MAX_MESSAGE_BYTES": str(MAX_BYTES)}

OP_TEXT, OP_CONT, OP_CLOSE, OP_PING = 0x1, 0x0, 0x8, 0x9


def publish_frame(ch):
    return json.dumps({"id": 1, "type": "publish", "channel": ch,
                       "data": {"content": "x"}}).encode()


@pytest.fixture(params=["pushd", "nginx"])
def raw(request, stack):
    """A factory of raw connections, straight to pushd's socket or through nginx."""
    opened = []

    def connect():
        ws = RawWS(stack.sock_path) if request.param == "pushd" else RawWS(port=stack.port)
        opened.append(ws)
        return ws

    yield connect
    for ws in opened:
        ws.close()


def assert_failed_with(ws, code, reason, answer=True, within=1.0):
    """The server's Close carries code and reason; then the connection ends: right after the
    client's answering Close (answer), or without one within pushd's linger of 1 s."""
    got, why = ws.close_frame(timeout=3)
    assert (got, why) == (code, reason.encode()), (got, why)
    if answer:
        try:
            ws.send(OP_CLOSE, struct.pack(">H", code))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server had closed already
    took = ws.wait_eof(timeout=5)
    assert took < within, f"the connection ended {took:.2f} s after the Close"


def assert_still_serving(stack):
    async def body():
        c = await stack.client()
        try:
            await c.assert_usable()
        finally:
            await close_all(c)
    run(body())


def test_unmasked_client_frame_fails_with_1002_and_is_not_acted_on(stack, raw):
    ws = raw()
    ch = unique_channel()
    ws.send(OP_TEXT, publish_frame(ch), masked=False)
    assert_failed_with(ws, 1002, "client frames must be masked")
    assert stack.db_messages(ch) == []
    assert_still_serving(stack)


def test_a_client_that_does_not_answer_the_close_is_cut_after_a_second(stack, raw):
    ws = raw()
    ws.send(OP_TEXT, b"{}", masked=False)
    assert_failed_with(ws, 1002, "client frames must be masked", answer=False, within=2.5)


def test_masked_frames_are_served(stack, raw):
    """The control case: the same publish, masked, is answered (so the test above can fail)."""
    ws = raw()
    ch = unique_channel()
    ws.send(OP_TEXT, json.dumps({"id": 1, "type": "subscribe", "channel": ch}).encode())
    op, payload = ws.frame(timeout=3)
    assert op == OP_TEXT and json.loads(payload)["type"] == "subscribe", payload
    ws.send(OP_CLOSE, struct.pack(">H", 1000) + "bye ✓".encode())
    code, reason = ws.close_frame()
    assert code == 1000 and reason == "bye ✓".encode(), (code, reason)


def test_one_byte_close_payload_fails_with_1002(stack, raw):
    ws = raw()
    ws.send(OP_CLOSE, b"\x03")
    assert_failed_with(ws, 1002, "Close payload of 1 byte", answer=False)


@pytest.mark.parametrize("reason", [b"bad \xc3\x28 utf-8", b"\xff", b"x" * 60 + b"\xed\xa0\x80"])
def test_close_reason_not_utf8_fails_with_1007(stack, raw, reason):
    """pushd answers in the Close handshake (the client has closed already): 1007, a reason
    of the client's length (lws echoes in place), then the end of the connection."""
    ws = raw()
    ws.send(OP_CLOSE, struct.pack(">H", 1000) + reason)
    got, why = ws.close_frame(timeout=3)
    assert got == 1007, (got, why)
    assert len(why) == len(reason) and why.decode().strip() in "Close reason is not UTF-8", why
    assert ws.wait_eof(timeout=3) < 1


def test_control_frame_over_125_bytes_fails_with_1002(stack, raw):
    ws = raw()
    ws.send_raw(RawWS.header(OP_PING, 126) + b"p" * 126)
    assert_failed_with(ws, 1002, "control frame payload over 125 bytes")


@pytest.mark.parametrize("announced", [MAX_BYTES + 1, 1 << 20, 1 << 40])
def test_header_over_the_limit_fails_with_1009_before_its_payload(stack, raw, announced):
    ws = raw()
    ws.send_raw(RawWS.header(OP_TEXT, announced))  # and not one byte of the payload
    # the client's Close is taken for the payload it announced: pushd lingers 1 s, then ends
    assert_failed_with(ws, 1009, "message too big", within=2.5)
    assert_still_serving(stack)


def test_fragments_adding_up_over_the_limit_fail_with_1009_at_the_header(stack, raw):
    ws = raw()
    half = MAX_BYTES // 2 + 8
    ws.send(OP_TEXT, b"[" + b" " * (half - 1), fin=False)
    ws.send_raw(RawWS.header(OP_CONT, half))  # the second half's header only
    assert_failed_with(ws, 1009, "message too big", within=2.5)


def test_length_with_top_bit_set_fails_with_1002(stack, raw):
    ws = raw()
    ws.send_raw(bytes([0x81, 0x80 | 127]) + struct.pack(">Q", 1 << 63) + b"\0\0\0\0")
    assert_failed_with(ws, 1002, "frame length has its top bit set", within=2.5)


def test_what_follows_a_fault_is_not_acted_on(stack, raw):
    """Valid frames right behind the fault (in the same write) are not executed."""
    ws = raw()
    ch = unique_channel()
    ws.send_raw(RawWS.header(OP_CLOSE, 1) + b"\x03" +
                b"".join(RawWS.header(OP_TEXT, len(f)) + f for f in [publish_frame(ch)] * 20))
    assert_failed_with(ws, 1002, "Close payload of 1 byte", answer=False)
    assert stack.db_messages(ch) == []


def test_text_that_is_not_utf8_is_a_bad_request_not_a_close(stack, raw):
    """Invalid UTF-8 in a text frame is refused by the JSON reader; the connection stays."""
    ws = raw()
    ch = unique_channel()
    ws.send(OP_TEXT, b'{"id":7,"type":"subscribe","channel":"' + ch.encode() + b'\xc3\x28"}')
    op, payload = ws.frame(timeout=3)
    m = json.loads(payload)
    assert op == OP_TEXT and m["type"] == "error" and m["error"]["code"] == "bad_request", m
    ws.send(OP_TEXT, json.dumps({"id": 8, "type": "subscribe", "channel": ch}).encode())
    op, payload = ws.frame(timeout=3)
    assert json.loads(payload)["type"] == "subscribe", payload
