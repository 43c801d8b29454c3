"""A pushd node without the database (GOLIVE_STORE=nats, docs/cluster.md "Nodes without the
database"), as on another machine than the SQLite file: it stores its clients' messages, reads
history and `since`, and loads bans and settings through the nodes that have the file, over
NATS. Node 3 runs so, with a GOLIVE_DB it could not open; nodes 1 and 2 have the file."""

import asyncio
import os
import socket
import subprocess
import time

import pytest
import requests

from cluster import (Cluster, NatsServer, Node, ban_ends_the_subscription, connected, metric,
                     nats_env)
from conftest import (PUSHD_BIN, close_all, free_port, is_event, is_message, json_body, run,
                      stop_process, unique_channel, wait_for)
from test_cluster import assert_once_in_order, ids_until

STACK_API = True
NATS_PORTS = [free_port() for _ in range(3)]
STACK_ENV = nats_env(NATS_PORTS)


@pytest.fixture(scope="module")
def cluster(stack):
    c = Cluster(stack, NATS_PORTS, remote_store=("n3",))
    try:
        c.start()
        yield c
    finally:
        c.stop()


def opens_the_database(node, stack):
    """Whether node's process holds any file of the database open (its -wal and -shm too)."""
    fd_dir = f"/proc/{node.proc.pid}/fd"
    links = [os.readlink(os.path.join(fd_dir, fd)) for fd in os.listdir(fd_dir)]
    return any(link.startswith(stack.db_path) for link in links)


def test_the_node_without_the_database_stores_and_chats_with_the_others(stack, cluster):
    ch = unique_channel("chat")
    remote = cluster.nodes[2]
    assert not opens_the_database(remote, stack)

    async def body():
        alice = await remote.client(stack.token("u_al_rs", username="alice"))
        bob = await cluster.nodes[0].client(stack.token("u_bo_rs", username="bob"))
        try:
            await alice.subscribe(ch)
            await bob.subscribe(ch)
            ids = []
            for i in range(3):
                ids.append(await alice.publish(ch, {"content": f"from n3 {i}"}))
                ids.append(await bob.publish(ch, {"content": f"from n1 {i}"}))
            for c in (alice, bob):
                assert_once_in_order(await ids_until(c, ch, ids), ids)
                await c.expect_no_message(0.3, pred=is_message(ch))
            return ids
        finally:
            await close_all(alice, bob)
    ids = run(body())
    # stored in the one file, by the nodes that have it, with the author's name
    rows = stack.db_rows("SELECT id, username FROM messages WHERE channel = ? ORDER BY id", (ch,))
    assert [r["id"] for r in rows] == ids
    assert [r["username"] for r in rows] == ["alice", "bob"] * 3
    assert not opens_the_database(remote, stack)
    assert metric(remote, "golive_pushd_store_remote_requests_total") > 0
    assert metric(remote, "golive_pushd_store_remote_failures_total") == 0
    # ready: its store answers (the readiness read goes over NATS too)
    r = requests.get(f"http://127.0.0.1:{remote.metrics_port}/readyz", timeout=5)
    assert r.status_code == 200, r.text


def test_a_burst_of_big_messages_is_stored_whole_and_in_order(stack, cluster):
    """40 messages of 60 KB sent at once from the node without the database (2.4 MB through its
    writer's batches and the store over NATS): each is stored, answered and delivered in the
    order sent."""
    ch = unique_channel("chat")
    pad = "x" * 60000

    async def body():
        pub = await cluster.nodes[2].client(stack.token("u_burst", username="burst",
                                                        role="admin"))
        watcher = await cluster.nodes[0].client()
        try:
            await watcher.subscribe(ch)
            await asyncio.sleep(0.3)  # the watcher's node hears the channel
            for i in range(40):
                await pub.send({"type": "publish", "channel": ch, "id": 1000 + i,
                                "data": {"n": i, "pad": pad}})
            replies = [await pub.recv_until(lambda m, i=i: m.get("id") == 1000 + i, timeout=15,
                                            what=f"publish {i}'s reply") for i in range(40)]
            ids = [r["data"]["message_id"] for r in replies]
            assert ids == sorted(ids), ids
            got = [(await watcher.recv_until(is_message(ch), timeout=15))["data"]["n"]
                   for _ in range(40)]
            assert got == list(range(40)), got
            return ids
        finally:
            await close_all(pub, watcher)
    ids = run(body(), timeout=60)
    rows = stack.db_rows("SELECT id FROM messages WHERE channel = ? ORDER BY id", (ch,))
    assert [r["id"] for r in rows] == ids


def test_history_and_since_on_the_node_without_the_database(stack, cluster):
    ch = unique_channel("chat")
    tok = stack.token("u_hist_rs", username="backend")
    ids = [stack.publish_rest(ch, {"content": f"m{i}"}, tok)["id"] for i in range(6)]

    async def body():
        c = await cluster.nodes[2].client()
        try:
            r = await c.ok({"type": "history", "channel": ch, "limit": 4})
            assert [m["id"] for m in r["data"]["messages"]] == ids[2:]
            r = await c.ok({"type": "history", "channel": ch, "before": ids[2]})
            assert [m["id"] for m in r["data"]["messages"]] == ids[:2]
            assert r["data"]["messages"][0]["data"] == {"content": "m0"}
            r = await c.subscribe(ch, since=ids[1])
            assert r["data"]["recovered"] == 4 and r["data"]["complete"] is True, r
            got = [(await c.recv_until(is_message(ch)))["id"] for _ in range(4)]
            assert got == ids[2:]
        finally:
            await close_all(c)
    run(body())


def test_a_ban_ends_the_subscription_on_the_node_without_the_database(stack, cluster):
    ch = unique_channel("chat")

    async def body():
        carl = await cluster.nodes[2].client(stack.token("u_carl_rs", username="carl"))
        try:
            await carl.subscribe(ch)
            await ban_ends_the_subscription(stack, carl, ch, "u_carl_rs")
        finally:
            await close_all(carl)
    run(body())


def test_a_held_message_from_the_node_without_the_database_waits_for_review(stack, cluster):
    """Settings (blocked terms, hold) reach the remote node; its held message is stored in
    held_messages through the store, and its moderators on every node are told."""
    ch = unique_channel("chat")
    staff = stack.token("u_staff_rs", role="moderator")
    json_body(stack.http("PUT", f"/api/realtime/channels/{ch}/settings", token=staff,
                         json={"blocked_terms": ["free*followers"],
                               "blocked_terms_action": "hold"}))

    async def body():
        sam = await cluster.nodes[2].client(stack.token("u_sam_rs", username="sam"))
        mod = await cluster.nodes[0].client(staff)
        try:
            await sam.subscribe(ch)
            await mod.subscribe(ch)
            r = await sam.ok({"type": "publish", "channel": ch,
                              "data": {"content": "get FREE real followers"}})
            assert r["data"].get("held") is True, r
            ev = await mod.recv_until(is_event("message_held", ch), timeout=10,
                                      what="the held message on node 1")
            assert ev["held"]["username"] == "sam", ev
            await sam.expect_no_message(0.3, pred=is_message(ch))
        finally:
            await close_all(sam, mod)
    run(body())
    rows = stack.db_rows("SELECT username, term, status FROM held_messages WHERE channel = ?",
                         (ch,))
    assert [(r["username"], r["term"], r["status"]) for r in rows] == \
        [("sam", "free*followers", "pending")]


def test_a_node_without_the_database_restores_bans_when_it_starts(stack, cluster):
    ch = unique_channel("chat")
    mod = stack.token("u_mod_rs2", username="mod", role="moderator")
    r = stack.rest("POST", ch, "users", "u_dan_rs", "ban", token=mod, json={"reason": "spam"})
    assert r.status_code == 200, r.text
    late = Node(stack, "n4", ",".join(s.url for s in cluster.nats), cluster.workdir,
                remote_store=True)
    late.start()

    async def body():
        dan = await late.client(stack.token("u_dan_rs", username="dan"))
        try:
            await dan.error({"type": "subscribe", "channel": ch}, "forbidden")
        finally:
            await close_all(dan)
    try:
        run(body())
        assert not opens_the_database(late, stack)
    finally:
        late.stop()


def nats_publish(port, subject, payload):
    """One message on a NATS server, in NATS's text protocol (no client library needed)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.recv(4096)  # INFO
        s.sendall(b'CONNECT {"verbose":false}\r\nPUB ' + subject.encode() +
                  b" %d\r\n" % len(payload) + payload + b"\r\nPING\r\n")
        assert b"PONG" in s.recv(4096)


def test_a_node_without_the_database_waits_for_the_store_and_says_so(stack, cluster, tmp_path):
    """On a NATS of its own, where no node has the file, a remote node does not serve (it cannot
    know who is banned): it says why and does not listen. The other nodes' heartbeats reach it
    meanwhile, before its loop runs, and it takes them. SIGTERM still stops it."""
    nats = NatsServer("nats-alone", free_port(), free_port(), [], str(tmp_path))
    nats.start()
    lonely = Node(stack, "n5", nats.url, str(tmp_path), remote_store=True)
    env = stack.pushd_env()
    env.update({"GOLIVE_RUNDIR": lonely.rundir, "GOLIVE_STORE": "nats",
                "GOLIVE_NATS_URL": nats.url, "GOLIVE_NODE_NAME": "n5",
                "GOLIVE_PUSHD_METRICS_LISTEN": "off"})
    with open(lonely.log_path, "ab") as log:
        proc = subprocess.Popen([PUSHD_BIN], env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: "waiting for the store over NATS: no node with the database answers"
                 in lonely.log_tail(), timeout=10, what="the waiting line")
        for i in range(3):
            nats_publish(nats.port, "golive.hb", b"GLB1 h other 5 1 -\n")
        time.sleep(0.5)
        assert proc.poll() is None, lonely.log_tail()
        assert not os.path.exists(lonely.sock_path)
    finally:
        proc.terminate()
        code = proc.wait(timeout=10)
        stop_process(nats.proc)
    assert code == 0, lonely.log_tail()


def test_a_node_without_the_database_answers_at_once_while_nats_is_away(stack, cluster, tmp_path):
    """NATS gone: the store's reads fail at once with unavailable, not after their 1 s wait, so
    the loop goes on serving (the 2 s audit would otherwise stall it half the time)."""
    nats = NatsServer("nats-solo", free_port(), free_port(), [], str(tmp_path))
    nats.start()
    store = Node(stack, "n6", nats.url, str(tmp_path))
    remote = Node(stack, "n7", nats.url, str(tmp_path), remote_store=True)
    ch = unique_channel("chat")

    async def body():
        c = await remote.client()
        try:
            await c.subscribe(ch)
            nats.kill()
            wait_for(lambda: not connected(remote), timeout=10, what="n7 to see NATS gone")
            t0 = time.monotonic()
            await c.error({"type": "history", "channel": ch}, "unavailable")
            took = time.monotonic() - t0
            assert took < 0.5, f"history took {took:.2f} s while NATS was away"
            await c.assert_usable()
        finally:
            await close_all(c)
    try:
        store.start()
        remote.start()
        run(body())
    finally:
        remote.stop()
        store.stop()
        if nats.proc.poll() is None:
            stop_process(nats.proc)


@pytest.mark.parametrize("env, words", [
    ({"GOLIVE_STORE": "nats"}, "GOLIVE_STORE=nats needs GOLIVE_NATS_URL"),
    ({"GOLIVE_STORE": "postgres"}, "GOLIVE_STORE must be sqlite (the default) or nats"),
])
def test_a_bad_store_setting_is_refused_at_start(stack, tmp_path, env, words):
    e = stack.pushd_env()
    e.pop("GOLIVE_NATS_URL", None)
    e.update({"GOLIVE_RUNDIR": str(tmp_path), "GOLIVE_PUSHD_METRICS_LISTEN": "off", **env})
    p = subprocess.run([PUSHD_BIN], env=e, stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=20)
    assert p.returncode == 1, p.stderr
    assert words in p.stderr, p.stderr
