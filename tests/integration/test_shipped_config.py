"""The configurations in conf/ as shipped: the default lets signed-in viewers chat in every
stream's chat and anyone read it; the seed's example still loads and keeps viewers out."""
import os

from conftest import REPO, expect_error, json_body, run

STREAM_CHAT = "chat:stream_shipped"


def shipped(name):
    with open(os.path.join(REPO, "conf", name)) as f:
        return f.read()


def test_default_config_lets_signed_in_viewers_chat_in_a_stream(make_stack):
    st = make_stack(config=shipped("realtime.yaml"))
    viewer = st.token("u_viewer", username="viewer", role="viewer")
    out = st.publish_rest(STREAM_CHAT, {"content": "hi from REST"}, viewer)
    assert out["pushed"] is True, out
    # anonymous: reads, may not write
    assert [m["id"] for m in st.history_rest(STREAM_CHAT)] == [out["id"]]
    expect_error(st.rest("POST", STREAM_CHAT, "publish", json={"data": {"content": "x"}}), 401)

    async def body():
        c = await st.client(viewer)
        anon = await st.client()
        try:
            await c.subscribe(STREAM_CHAT)
            await anon.subscribe(STREAM_CHAT)
            mid = await c.publish(STREAM_CHAT, {"content": "hi from WS"})
            got = await anon.recv_until(lambda m: m.get("type") == "message" and m["id"] == mid)
            assert got["user"]["id"] == "u_viewer", got
            await anon.error({"type": "publish", "channel": STREAM_CHAT, "data": {"c": 1}},
                             "unauthorized")
        finally:
            await c.close()
            await anon.close()
    run(body())
    # a token whose permissions list lacks chat.publish may read but not write
    reader = st.token("u_reader", permissions=["stream.create"])
    expect_error(st.rest("POST", STREAM_CHAT, "publish", token=reader,
                         json={"data": {"content": "x"}}), 403)


def test_seed_example_loads_and_keeps_ordinary_viewers_out(make_stack):
    st = make_stack(config=shipped("realtime-seed-example.yaml"))
    viewer = st.token("u_viewer", role="viewer")
    expect_error(st.rest("GET", STREAM_CHAT, "history", token=viewer), 403)
    streamer = st.token("u_streamer", role="streamer")
    json_body(st.rest("GET", STREAM_CHAT, "history", token=streamer), 200)
