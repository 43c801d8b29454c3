"""Subscriptions named in the upgrade's URL: ws://HOST/api/ws?channel=NAME (docs/protocol.md,
"Subscribing in the URL"). Each channel= argument is subscribed as if it were the client's
first subscribe command: the same reply, the same checks, the same errors."""

import statistics
import time
import urllib.parse

from conftest import (ANON_PRIVATE, MODES_OFF, Client, close_all, free_port, is_event, is_message,
                      run, unique_channel)


def url(stack, *channels, token=None, extra=()):
    args = [("channel", ch) for ch in channels] + list(extra)
    if token is not None:
        args.append(("token", token))
    return f"ws://127.0.0.1:{stack.port}/api/ws?" + urllib.parse.urlencode(args)


def is_reply(channel):
    return lambda m: m.get("type") == "subscribe" and m["data"]["channel"] == channel


def is_error(m):
    return m.get("type") == "error"


def test_a_url_channel_is_subscribed_and_receives_messages(stack):
    ch = unique_channel()

    async def body():
        c = await Client.open(url(stack, ch))
        try:
            r = await c.recv_until(lambda m: m.get("type") in ("subscribe", "error"))
            assert r == {"type": "subscribe",
                         "data": {"channel": ch, "recovered": 0, "chat_modes": MODES_OFF}}, r
            res = stack.publish_rest(ch, {"text": "via the url"},
                                     stack.token("u_pub", username="pub"))
            assert res["pushed"] is True, res
            m = await c.recv_until(is_message(ch), what="the published message")
            assert m["data"] == {"text": "via the url"}, m
            # the connection takes commands as usual, and knows it is subscribed
            e = await c.error({"type": "subscribe", "channel": ch}, "conflict")
            assert "already" in e["error"]["message"], e
        finally:
            await c.close()

    run(body())


def test_several_url_channels_and_other_arguments(stack):
    a, b = unique_channel(), unique_channel()

    async def body():
        c = await Client.open(url(stack, a, b, extra=[("x", "1")]))
        try:
            await c.recv_until(is_reply(a), what=f"the reply for {a}")
            await c.recv_until(is_reply(b), what=f"the reply for {b}")
            for ch in (a, b):
                stack.publish_rest(ch, {"to": ch}, stack.token("u_pub", username="pub"))
                m = await c.recv_until(is_message(ch), what=f"the message of {ch}")
                assert m["data"] == {"to": ch}, m
        finally:
            await c.close()

    run(body())


def test_a_percent_encoded_name_is_decoded(stack):
    ch = unique_channel()

    async def body():
        raw = f"ws://127.0.0.1:{stack.port}/api/ws?channel=" + ch.replace(":", "%3A")
        c = await Client.open(raw)
        try:
            await c.recv_until(is_reply(ch), what="the reply for the decoded name")
        finally:
            await c.close()

    run(body())


def test_url_channels_follow_the_token_and_the_acl(stack):
    """Anonymous: a private channel is refused with the command's error, and the connection
    stays. With ?token=, the same channel is subscribed as that user, and others see the join."""
    private = "chat:stream_" + unique_channel("x").split(":")[1]
    public = unique_channel()

    async def body():
        anon = await Client.open(url(stack, private, public))
        watcher = member = None
        try:
            e = await anon.recv_until(is_error, what="the refusal")
            assert e["error"]["code"] in ANON_PRIVATE, e
            await anon.recv_until(is_reply(public), what="the public channel's reply")

            watcher = await stack.client(stack.token("user_123", username="owner"))
            await watcher.subscribe(private)
            await watcher.settle()
            member = await Client.open(url(stack, private, token=stack.token(
                "u_mod", username="mod", role="moderator")))
            await member.recv_until(is_reply(private), what="the member's reply")
            j = await watcher.recv_until(is_event("join", private, "u_mod"), what="the join")
            assert j["user"]["username"] == "mod", j
        finally:
            await close_all(anon, watcher, member)

    run(body())


def test_bad_url_channels_get_the_commands_errors(stack):
    """Names no command would accept get its errors, including bytes that are not UTF-8 (which
    no JSON command could even carry) and a name past 255 bytes."""
    async def body():
        bad = url(stack, "no spaces allowed", "", "x" * 300) + "&channel=public:%FF"
        c = await Client.open(bad)
        try:
            want = ["outside", "empty", "longer than 255", "outside"]
            for word in want:
                e = await c.recv_until(is_error, what="an error")
                assert e["error"]["code"] == "bad_request", e
                assert word in e["error"]["message"], (word, e)
            # still open, and usable
            ch = unique_channel()
            await c.ok({"type": "subscribe", "channel": ch})
        finally:
            await c.close()

    run(body())


def test_at_most_sixteen_url_channels(stack):
    chans = [unique_channel() for _ in range(17)]

    async def body():
        c = await Client.open(url(stack, *chans))
        try:
            for ch in chans[:16]:
                await c.recv_until(is_reply(ch), what=f"the reply for {ch}")
            e = await c.recv_until(is_error, what="the refusal")
            assert e["error"]["code"] == "bad_request" and "16" in e["error"]["message"], e
            await c.expect_no_message(pred=is_reply(chans[16]))
        finally:
            await c.close()

    run(body())


def test_a_bad_token_in_the_url_subscribes_nothing(stack):
    ch = unique_channel()

    async def body():
        c = await Client.open(url(stack, ch, token="not.a.jwt"))
        code, frames = await c.wait_closed(timeout=5)
        assert code == 4001, (code, frames)
        assert not [f for f in frames if f.get("type") == "subscribe"], frames

    run(body())


def test_straight_to_pushd_on_tcp_the_replies_come_at_once(make_stack):
    """On TCP, pushd corks the socket from the upgrade until the subscribe replies are written,
    so that the 101 and they leave in one segment. Linux would send corked bytes only after
    200 ms: every reply must come well before that, refused channels and bad tokens too."""
    st = make_stack(env={"GOLIVE_PUSHD_LISTEN": f"127.0.0.1:{free_port()}"})
    base = f"ws://127.0.0.1:{st.pushd_tcp_port}/api/ws"

    async def timed(query, pred):
        t0 = time.monotonic()
        c = await Client.open(base + "?" + query)
        try:
            await c.recv_until(pred, what=f"the first frame for {query}")
            return time.monotonic() - t0
        finally:
            await c.close()

    async def body():
        private = "chat:stream_" + unique_channel("x").split(":")[1]

        def case(what):
            """A fresh (query, first frame expected) for each connection of a case."""
            ch = unique_channel()
            return {"subscribed": (f"channel={ch}", is_reply(ch)),
                    "refused": (f"channel={private}", is_error),
                    "bad name": ("channel=bad+name", is_error),
                    "bad token": (f"channel={ch}&token=not.a.jwt", is_error)}[what]

        # A stuck cork costs every connection 200 ms; a median of three ignores one slow
        # handshake on a busy machine.
        for what in ("subscribed", "refused", "bad name", "bad token"):
            waits = [await timed(*case(what)) for _ in range(3)]
            assert statistics.median(waits) < 0.15, (what, waits)

    run(body())
