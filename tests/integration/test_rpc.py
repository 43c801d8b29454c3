"""rpc: the built-in stats method and methods proxied to an HTTP backend (rpc_proxies)."""

import asyncio
import json
import re
import time

import pytest

from conftest import (DEFAULT_CONFIG, Backend, Stack, close_all, free_port, run,
                      unique_channel)

UPTIME = re.compile(r"^(\d+d)?(\d+h)?(\d+m)?(\d+s)?$")


def test_stats_shape_and_counts(make_stack):
    st = make_stack()

    async def body():
        c1 = await st.client(st.token("u_s1", username="s1"))
        c2 = await st.client()
        c3 = await st.client(st.token("u_s3", username="s3"))
        extra = None
        try:
            ch1, ch2 = unique_channel(), unique_channel()
            await c1.subscribe(ch1)
            await c1.subscribe(ch2)
            await c2.subscribe(ch2)
            await c3.send({"type": "rpc", "id": "s", "data": {"method": "stats"}})
            r = await c3.recv(timeout=5)
            assert set(r) == {"type", "id", "data"}, r
            assert r["type"] == "rpc" and r["id"] == "s", r
            assert set(r["data"]) == {"method", "result"}, r
            assert r["data"]["method"] == "stats", r
            res = r["data"]["result"]
            assert set(res) == {"total_channels", "total_clients", "uptime", "limits",
                                "version"}, res
            assert res["total_channels"] == 2, res
            assert res["total_clients"] == 3, res
            assert isinstance(res["uptime"], str) and res["uptime"], res
            assert UPTIME.match(res["uptime"]), res

            # counts follow the state
            extra = await st.client()
            await extra.subscribe(unique_channel())
            res = await c3.stats()
            assert (res["total_channels"], res["total_clients"]) == (3, 4), res
            await extra.close()
            extra = None
            await c1.ok({"type": "unsubscribe", "channel": ch1})
            deadline = time.monotonic() + 3
            while True:
                res = await c3.stats()
                if (res["total_channels"], res["total_clients"]) == (1, 3):
                    break
                assert time.monotonic() < deadline, f"stats did not settle to (1, 3): {res}"
                await asyncio.sleep(0.05)
            # the stats data for an anonymous caller is the same
            res2 = await c2.stats()
            assert (res2["total_channels"], res2["total_clients"]) == (1, 3), res2
        finally:
            await close_all(c1, c2, c3, extra)

    run(body())


def test_stats_uptime_grows(make_stack):
    st = make_stack()

    async def body():
        c = await st.client()
        try:
            await asyncio.sleep(1.2)
            up = (await c.stats())["uptime"]
            m = re.match(r"^(\d+)s$", up)
            assert m and int(m.group(1)) >= 1, up
        finally:
            await c.close()

    run(body())


# ---------------------------------------------------------------------------------------------
# Proxied methods


def _json(obj, status=200):
    return lambda body: (status, json.dumps(obj).encode(), "application/json")


def _echo(body):
    return 200, json.dumps({"ok": True, "got_params": body.get("params")}).encode(), \
        "application/json"


def _slow(body):
    time.sleep(3)
    return 200, b'{"late":true}', "application/json"


@pytest.fixture(scope="module")
def rpc_env():
    backend = Backend({
        "/rpc": _json({"messages_sent": 12, "badges": ["early"], "nested": {"a": None}}),
        "/echo": _echo,
        "/fail": _json({"error": "boom"}, status=500),
        "/notjson": lambda body: (200, b"this is not json", "text/plain"),
        "/slow": _slow,
    })
    with backend:
        dead_port = free_port()  # nothing listens there
        config = dict(DEFAULT_CONFIG)
        config["rpc_proxies"] = [
            {"method": "user_stats", "url": backend.url("/rpc"), "timeout_ms": 2000},
            {"method": "echo", "url": backend.url("/echo"), "timeout_ms": 2000},
            {"method": "broken", "url": backend.url("/fail"), "timeout_ms": 2000},
            {"method": "notjson", "url": backend.url("/notjson"), "timeout_ms": 2000},
            {"method": "slow", "url": backend.url("/slow"), "timeout_ms": 500},
            {"method": "down", "url": f"http://127.0.0.1:{dead_port}/rpc", "timeout_ms": 1000},
        ]
        st = Stack(config)
        st.start()
        try:
            yield st, backend
        finally:
            st.stop()


def test_proxied_method_returns_backend_json(rpc_env):
    st, backend = rpc_env

    async def body():
        c = await st.client(st.token("u_rpcuser", username="rpcuser", role="streamer"))
        try:
            before = len(backend.requests)
            r = await c.ok({"type": "rpc", "id": 5, "data": {"method": "user_stats"}})
            assert r == {"type": "rpc", "id": 5, "data": {"method": "user_stats", "result": {
                "messages_sent": 12, "badges": ["early"], "nested": {"a": None}}}}, r
            reqs = backend.requests[before:]
            assert len(reqs) == 1, reqs
            sent = reqs[0]["body"]
            assert reqs[0]["path"] == "/rpc"
            assert sent["method"] == "user_stats", sent
            assert sent["params"] is None, sent
            assert sent["user"]["id"] == "u_rpcuser", sent
            assert sent["user"]["username"] == "rpcuser", sent
            assert sent["user"]["role"] == "streamer", sent
            assert set(sent) == {"method", "params", "user"}, sent

            params = {"range": "7d", "list": [1, 2], "s": "é"}
            r = await c.ok({"type": "rpc", "data": {"method": "echo", "params": params}})
            assert r["data"]["result"] == {"ok": True, "got_params": params}, r
            assert backend.requests[-1]["body"]["params"] == params
            assert backend.requests[-1]["body"]["method"] == "echo"
        finally:
            await c.close()

    run(body())


@pytest.mark.parametrize("method", ["broken", "notjson", "down"])
def test_proxied_method_backend_failure_is_unavailable(rpc_env, method):
    st, _ = rpc_env

    async def body():
        c = await st.client(st.token("u_rpcuser", username="rpcuser"))
        try:
            t0 = time.monotonic()
            await c.error({"type": "rpc", "data": {"method": method}}, "unavailable")
            assert time.monotonic() - t0 < 3
            await c.assert_usable()
        finally:
            await c.close()

    run(body())


def test_proxied_method_timeout_does_not_block_others(rpc_env):
    st, _ = rpc_env

    async def body():
        a = await st.client(st.token("u_slow", username="slow"))
        b = await st.client()
        try:
            t0 = time.monotonic()
            await a.send({"type": "rpc", "id": "slow-1", "data": {"method": "slow"}})
            await asyncio.sleep(0.1)
            # while pushd waits for the backend, another client is answered promptly
            t1 = time.monotonic()
            await b.stats(timeout=1)
            assert time.monotonic() - t1 < 0.4, "rpc stats waited behind a proxied call"
            ch = unique_channel()
            await b.subscribe(ch)
            r = await a.recv_until(lambda m: m.get("id") == "slow-1", timeout=3)
            took = time.monotonic() - t0
            assert r["type"] == "error" and r["error"]["code"] == "unavailable", r
            assert 0.4 <= took < 2.0, f"timeout_ms 500 answered after {took:.2f}s"
            await a.assert_usable()
            # the late answer (3 s) must not show up afterwards
        finally:
            await close_all(a, b)

    run(body())


def test_proxied_method_needs_authentication(rpc_env):
    st, backend = rpc_env

    async def body():
        c = await st.client()
        try:
            before = len(backend.requests)
            await c.error({"type": "rpc", "data": {"method": "user_stats"}}, "unauthorized")
            assert len(backend.requests) == before, "the backend was called for an anonymous"
            await c.error({"type": "rpc", "data": {"method": "nope"}}, "not_found")
            await c.assert_usable()  # stats is fine for anonymous
        finally:
            await c.close()

    run(body())


def test_many_concurrent_proxied_calls(rpc_env):
    st, _ = rpc_env

    async def body():
        clients = [await st.client(st.token(f"u_cc{i}", username=f"cc{i}")) for i in range(5)]
        try:
            for i, c in enumerate(clients):
                for j in range(4):
                    await c.send({"type": "rpc", "id": j,
                                  "data": {"method": "echo", "params": {"i": i, "j": j}}})
            for i, c in enumerate(clients):
                got = {}
                while len(got) < 4:
                    m = await c.recv(timeout=5)
                    got[m["id"]] = m
                for j, m in got.items():
                    assert m["type"] == "rpc", m
                    assert m["data"]["result"]["got_params"] == {"i": i, "j": j}, m
        finally:
            await close_all(*clients)

    run(body())
