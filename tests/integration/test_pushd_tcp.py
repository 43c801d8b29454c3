"""pushd on TCP (GOLIVE_PUSHD_LISTEN=127.0.0.1:PORT): tools/gen-webconf.sh points each web
server's /api/ws at that address instead of RUNDIR/pushd.sock, and chat works through it."""

import os

import pytest

from conftest import Client, Stack, close_all, free_port, is_message, json_body, run, unique_channel
from test_webservers import Front


@pytest.mark.parametrize("server", ["nginx", "lighttpd", "apache"])
def test_websocket_chat_through_web_server_to_pushd_on_tcp(server):
    st = Stack(env={"GOLIVE_PUSHD_LISTEN": f"127.0.0.1:{free_port()}"}, api=True)
    st.start()
    front = None
    try:
        assert not os.path.exists(st.sock_path), "pushd should listen on TCP only"
        if server == "nginx":
            url, http = st.url(), st.rest  # the stack's own nginx
        else:
            front = Front(server, st)
            front.start()
            url, http = f"ws://127.0.0.1:{front.port}/api/ws", front.rest
        ch = unique_channel()
        alice = st.token("u_alice", username="alice")
        bob = st.token("u_bob", username="bob")

        async def body():
            a = await Client.open(url, token=alice)
            b = await Client.open(url, token=bob)
            try:
                await a.subscribe(ch)
                await b.subscribe(ch)
                mid = await a.publish(ch, {"text": "over tcp"})
                msg = await b.recv_until(is_message(ch, mid), what="alice's message")
                assert msg["data"] == {"text": "over tcp"}, msg
                assert msg["user"] == {"id": "u_alice", "username": "alice"}, msg
                reply = json_body(http("POST", ch, "publish", token=bob,
                                       json={"data": {"text": "rest"}}), 200)
                assert reply["pushed"] is True, reply
                await a.recv_until(is_message(ch, reply["id"]), what="bob's REST message")
            finally:
                await close_all(a, b)

        run(body())
    finally:
        if front is not None:
            front.stop()
        st.extra_logs = []
        st.stop()
