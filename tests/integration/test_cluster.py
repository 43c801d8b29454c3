"""Three golive-pushd nodes over a cluster of three nats-servers (docs/cluster.md), one SQLite
file: clients on different nodes chat, each message reaching everyone once and in id order; a
REST publish (golive-api talks to node 1) reaches all nodes; a ban ends the banned user's
subscription on another node; a NATS server killed with -9 mid-traffic loses no acknowledged
message, and nor does a pushd node killed with -9 (its client resumes with since on another
node)."""

import asyncio
import time

import pytest

from cluster import Cluster, ban_ends_the_subscription, metric, nats_env
from conftest import close_all, free_port, is_event, is_message, run, unique_channel, wait_for

STACK_API = True
NATS_PORTS = [free_port() for _ in range(3)]
STACK_ENV = nats_env(NATS_PORTS)


@pytest.fixture(scope="module")
def cluster(stack):
    c = Cluster(stack, NATS_PORTS)
    try:
        c.start()
        yield c
    finally:
        c.stop()


async def ids_until(client, channel, want, timeout=15):
    """The message ids client receives on channel until it has every id of want."""
    got = []
    deadline = time.monotonic() + timeout
    while not set(want) <= set(got):
        left = deadline - time.monotonic()
        assert left > 0, f"missing {sorted(set(want) - set(got))}; got {got}"
        m = await client.recv_until(is_message(channel), timeout=left,
                                    what=f"messages {sorted(set(want) - set(got))}")
        got.append(m["id"])
    return got


async def viewers(cluster, channel):
    """A guest on every node, subscribed to channel."""
    clients = [await n.client() for n in cluster.nodes]
    for c in clients:
        await c.subscribe(channel)
    return clients


def assert_once_in_order(got, want):
    assert got == sorted(got), f"out of order: {got}"
    assert len(got) == len(set(got)), f"duplicates: {got}"
    assert set(want) <= set(got), f"missing {sorted(set(want) - set(got))}"


def test_clients_on_three_nodes_chat_as_one(stack, cluster):
    ch = unique_channel("chat")
    before = [(metric(n, "golive_pushd_cluster_received_total"),
               metric(n, "golive_pushd_cluster_repaired_total")) for n in cluster.nodes]

    async def body():
        clients = [await n.client(stack.token(f"u_c{i}", username=f"user{i}"))
                   for i, n in enumerate(cluster.nodes)]
        try:
            for c in clients:
                await c.subscribe(ch)
            # a node's new interest takes a moment to cross the NATS routes; what is published
            # meanwhile reaches it from SQLite (the counts below would not show NATS's work)
            await asyncio.sleep(0.3)
            ids = []
            for round_ in range(3):
                for i, c in enumerate(clients):
                    ids.append(await c.publish(ch, {"content": f"{i}.{round_}"}))
            for c in clients:
                got = await ids_until(c, ch, ids)
                assert_once_in_order(got, ids)
                await c.expect_no_message(0.3, pred=is_message(ch))
        finally:
            await close_all(*clients)
    run(body())
    # NATS carried them: each node heard the 6 messages of the two others (and their joins).
    # (Two servers' routes may bring a message before the one it follows: the node then reads
    # the earlier one from SQLite, golive_pushd_cluster_repaired_total, and drops the late
    # copy, so the order above holds either way.)
    for n, (received, _) in zip(cluster.nodes, before):
        assert metric(n, "golive_pushd_cluster_received_total") >= received + 6, n.name


def test_a_rest_publish_reaches_every_node(stack, cluster):
    ch = unique_channel("chat")
    tok = stack.token("u_rest_pub", username="backend")

    async def body():
        clients = await viewers(cluster, ch)
        try:
            ids = [stack.publish_rest(ch, {"content": f"rest {i}"}, tok)["id"] for i in range(5)]
            for c in clients:
                assert_once_in_order(await ids_until(c, ch, ids), ids)
        finally:
            await close_all(*clients)
    run(body())


def test_a_ban_ends_the_subscription_on_another_node(stack, cluster):
    ch = unique_channel("chat")

    async def body():
        bob = await cluster.nodes[2].client(stack.token("u_bob_cl", username="bob"))
        watcher = await cluster.nodes[1].client()
        try:
            await bob.subscribe(ch)
            await watcher.subscribe(ch)
            # node 3 unsubscribes bob, and refuses him now, as node 1 would
            await ban_ends_the_subscription(stack, bob, ch, "u_bob_cl")
            await watcher.recv_until(is_event("user_banned", ch), timeout=10,
                                     what="user_banned on node 2")
        finally:
            await close_all(bob, watcher)
    run(body())


def test_stats_count_the_clients_of_every_node(stack, cluster):
    """rpc stats count every node's clients, from heartbeats about a second old, and follow
    them as they come and go."""

    async def until_total(client, want):
        deadline = time.monotonic() + 5
        while (await client.stats())["total_clients"] != want:
            assert time.monotonic() < deadline, (want, await client.stats())
            await asyncio.sleep(0.2)

    async def body():
        probe = await cluster.nodes[0].client()
        extra = [await cluster.nodes[k].client() for k in (1, 1, 2)]
        try:
            await until_total(probe, 4)
            stats = await probe.stats()
            assert stats["cluster"] == {"nodes": 3, "node_clients": 1}, stats
            more = [await cluster.nodes[k].client() for k in (1, 2, 2)]
            await until_total(probe, 7)
            await until_total(extra[2], 7)  # node 3 sees the same
            await close_all(*more)
            await until_total(probe, 4)
        finally:
            await close_all(probe, *extra)
    run(body())


def test_presence_lists_the_users_of_every_node_once(stack, cluster):
    """A user with connections on two nodes is listed once with both; WebSocket presence on
    any node and REST presence (golive-api asks node 1) say the same, and the channel's REST
    info counts every node's subscribers."""
    ch = unique_channel("chat")

    def shape(p):
        return ({u["id"]: (u["username"], u["connections"]) for u in p["users"]},
                p["anonymous"], len(p["users"]))

    async def body():
        alice = await cluster.nodes[0].client(stack.token("u_pa", username="alice"))
        bob2 = await cluster.nodes[1].client(stack.token("u_pb", username="bob"))
        bob3 = await cluster.nodes[2].client(stack.token("u_pb", username="bob"))
        guest = await cluster.nodes[2].client()
        try:
            for c in (alice, bob2, bob3, guest):
                await c.subscribe(ch)
            want = ({"u_pa": ("alice", 1), "u_pb": ("bob", 2)}, 1, 2)
            for c in (alice, bob2, guest):
                r = await c.ok({"type": "presence", "channel": ch})
                assert shape(r["data"]) == want, r
            r = stack.rest("GET", ch, "presence")
            assert r.status_code == 200, r.text
            assert shape(r.json()) == want, r.json()
            # and the channel's info counts every node's subscribers
            info = stack.rest("GET", ch).json()
            assert (info["subscribers"], info["users"], info["anonymous"]) == (4, 2, 1), info
        finally:
            await close_all(alice, bob2, bob3, guest)
    run(body())


def test_joins_and_leaves_cross_nodes_once_per_user(stack, cluster):
    """A watcher on node 2 sees alice join when her first connection anywhere subscribes, not
    again when she opens a second one on node 3, no leave while one remains, and one leave
    when the last goes."""
    ch = unique_channel("chat")
    alice_tok = stack.token("u_jl_alice", username="alice")

    def joins(frames, typ):
        return [f for f in frames if f.get("type") == typ and f.get("channel") == ch
                and (f.get("user") or {}).get("id") == "u_jl_alice"]

    async def body():
        watcher = await cluster.nodes[1].client(stack.token("u_jl_w", username="watcher"))
        try:
            await watcher.subscribe(ch)
            await asyncio.sleep(0.3)  # node 2's interest and presence seed reach the others
            a1 = await cluster.nodes[0].client(alice_tok)
            await a1.subscribe(ch)
            await watcher.recv_until(is_event("join", ch, "u_jl_alice"), timeout=5,
                                     what="alice's join from node 1")
            a3 = await cluster.nodes[2].client(alice_tok)
            await a3.subscribe(ch)
            await a1.close()
            seen = await watcher.settle(1.0)
            assert joins(seen, "join") == [] and joins(seen, "leave") == [], seen
            await a3.close()
            await watcher.recv_until(is_event("leave", ch, "u_jl_alice"), timeout=5,
                                     what="alice's leave, once her last connection went")
            await watcher.expect_no_message(0.5, pred=is_event("leave", ch, "u_jl_alice"))
        finally:
            await close_all(watcher)
    run(body())


def test_a_nats_server_killed_mid_traffic_loses_no_message(stack, cluster):
    """Node 2's own NATS server dies while node 1 publishes: node 2 reconnects to another
    server and its client still gets every acknowledged message, once, in order."""
    ch = unique_channel("chat")
    tok = stack.token("u_pub_kill", username="pub")

    async def body():
        clients = await viewers(cluster, ch)
        ids = []
        try:
            for i in range(60):
                if i == 20:
                    cluster.nats[1].kill()
                ids.append((await asyncio.to_thread(stack.publish_rest, ch, {"n": i}, tok))["id"])
                await asyncio.sleep(0.02)
            for c in clients:
                assert_once_in_order(await ids_until(c, ch, ids, timeout=20), ids)
            # node 2 was cut off and failed over (what NATS lost meanwhile, if anything, it
            # read from SQLite: golive_pushd_cluster_repaired_total)
            log = cluster.nodes[1].log_tail(200)
            assert "lost NATS" in log and "connected to NATS at" in log, log
        finally:
            await close_all(*clients)
    try:
        run(body(), timeout=90)
    finally:
        cluster.nats[1].start()  # for the tests after this one
        wait_for(lambda: all(n.proc is None or n.proc.poll() is None for n in cluster.nodes[1:]),
                 timeout=5)


def test_a_pushd_node_killed_loses_nothing_its_client_resumes_elsewhere(stack, cluster):
    ch = unique_channel("chat")
    tok = stack.token("u_pub_node", username="pub")

    async def body():
        viewer = await cluster.nodes[2].client()
        await viewer.subscribe(ch)
        first = [stack.publish_rest(ch, {"n": i}, tok)["id"] for i in range(5)]
        seen = await ids_until(viewer, ch, first)
        cluster.nodes[2].kill()
        await viewer.close()
        later = [stack.publish_rest(ch, {"n": i}, tok)["id"] for i in range(5, 10)]
        # the client reconnects to another node and asks for what came after the last it saw
        again = await cluster.nodes[1].client()
        try:
            r = await again.subscribe(ch, since=max(seen))
            assert r["data"]["recovered"] == len(later), r
            got = await ids_until(again, ch, later)
            assert_once_in_order(seen + got, first + later)
        finally:
            await close_all(again)
    try:
        run(body(), timeout=60)
    finally:
        cluster.nodes[2].start()


def test_golive_api_goes_on_through_another_node_when_one_dies(stack, cluster):
    """GOLIVE_IPC_URL names two nodes: golive-api's requests go to either, and when node 3 dies
    the REST publishes go on through node 1, pushed and delivered everywhere."""
    ch = unique_channel("chat")
    tok = stack.token("u_api_fo", username="backend")
    n3 = cluster.nodes[2]
    stack.extra_env["GOLIVE_IPC_URL"] = (f"ipc://{n3.rundir}/pushd.ipc,"
                                         f"ipc://{stack.rundir}/pushd.ipc")

    async def body():
        viewer = await cluster.nodes[1].client()
        try:
            await viewer.subscribe(ch)
            await asyncio.sleep(0.3)
            before = [stack.publish_rest(ch, {"n": i}, tok) for i in range(4)]
            assert all(r["pushed"] for r in before), before
            # node 3 took golive-api's requests too: the one that dies below is in use
            assert metric(n3, 'golive_pushd_ipc_requests_total{op="batch"}') > 0
            n3.kill()
            await asyncio.sleep(0.3)  # nng sees node 3's pipe close
            after = [stack.publish_rest(ch, {"n": i}, tok) for i in range(4, 10)]
            assert all(r["pushed"] for r in after), after
            ids = [r["id"] for r in before + after]
            assert_once_in_order(await ids_until(viewer, ch, ids), ids)
        finally:
            await close_all(viewer)
    try:
        stack.restart_api()
        stack.wait_api_reaches_pushd()
        run(body())
    finally:
        del stack.extra_env["GOLIVE_IPC_URL"]
        stack.restart_api()
        stack.wait_api_reaches_pushd()
        if n3.proc.poll() is not None:
            n3.start()


def insert_unannounced(stack, channel, content):
    """A message stored whose NATS copy never left its node (the node died right after its
    commit, or NATS dropped it): a row in SQLite that no node announced."""
    import sqlite3
    conn = sqlite3.connect(stack.db_path, timeout=10)
    try:
        cur = conn.execute(
            "INSERT INTO messages (channel, user_id, username, kind, data, created_at) "
            "VALUES (?, 'u_lost', 'lost', 'message', ?, strftime('%Y-%m-%dT%H:%M:%fZ','now'))",
            (channel, '{"content":"%s"}' % content))
        conn.commit()
        return cur.lastrowid
    finally:
        conn.close()


def test_a_message_nats_never_carried_is_filled_from_sqlite(stack, cluster):
    """By the next message of its channel (whose prev_id names it), and without one within
    the audit's 2 s."""
    ch = unique_channel("chat")
    tok = stack.token("u_pub_gap", username="pub")

    async def body():
        clients = await viewers(cluster, ch)
        try:
            lost = insert_unannounced(stack, ch, "never announced")
            after = stack.publish_rest(ch, {"content": "after it"}, tok)["id"]
            for c in clients:
                got = await ids_until(c, ch, [lost, after], timeout=5)
                assert got == [lost, after], got
            alone = insert_unannounced(stack, ch, "the last one")
            for c in clients:
                m = await c.recv_until(is_message(ch), timeout=5, what="the audit's fill")
                assert (m["id"], m["data"]["content"]) == (alone, "the last one"), m
        finally:
            await close_all(*clients)
    run(body())
