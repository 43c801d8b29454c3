"""Resuming with `since`, max_history pruning, pushd restart (SIGTERM), reload (SIGHUP) and
slow consumers."""

import asyncio
import json
import re
import signal
import sqlite3
import time

from conftest import (ANON_PRIVATE, DEFAULT_CONFIG, MODES_OFF, close_all, is_message, json_body,
                      old_database, run, schema_v4, unique_channel, wait_for)

STACK_CONFIG = {
    "namespaces": DEFAULT_CONFIG["namespaces"],
    "channels": DEFAULT_CONFIG["channels"] + [
        {"pattern": "hist5:*", "namespace": "chat", "private": False, "max_history": 5},
    ],
}


async def collect_subscribe(client, cmd, n_messages, timeout=5):
    """Send a subscribe and return the frames that concern it, in arrival order: its reply and
    the next n_messages `message` events of the channel (join/leave and others are skipped)."""
    ch = cmd["channel"]
    await client.send(cmd)
    out = []
    deadline = time.monotonic() + timeout
    while len(out) < n_messages + 1:
        left = deadline - time.monotonic()
        assert left > 0, f"timed out; got {out}"
        m = await client.recv_until(
            lambda m: (m.get("id") == cmd["id"] and m.get("type") in ("subscribe", "error"))
            or is_message(ch)(m), timeout=left)
        assert m.get("type") != "error", m
        out.append(m)
    return out


def test_since_recovery_after_reconnect(stack):
    ch = unique_channel()

    async def body():
        pub = await stack.client(stack.token("u_alice", username="alice"))
        c = await stack.client(stack.token("u_carol", username="carol"))
        c2 = None
        try:
            await c.subscribe(ch)
            first = [await pub.publish(ch, {"n": i}) for i in range(2)]
            for mid in first:
                await c.recv_until(is_message(ch, mid))
            last = first[-1]
            await c.close()

            missed = [await pub.publish(ch, {"n": i}) for i in range(2, 5)]

            c2 = await stack.client(stack.token("u_carol", username="carol"))
            frames = await collect_subscribe(
                c2, {"type": "subscribe", "id": "re", "channel": ch, "since": last}, 3)
            reply, msgs = frames[0], frames[1:]
            assert reply["type"] == "subscribe", f"the reply must come first: {frames}"
            assert reply["data"] == {"channel": ch, "recovered": 3, "complete": True,
                                    "chat_modes": MODES_OFF}, reply
            assert [m["id"] for m in msgs] == missed, msgs
            assert [m["data"] for m in msgs] == [{"n": 2}, {"n": 3}, {"n": 4}]
            for m in msgs:
                assert (m["user"]["id"], m["user"]["username"]) == ("u_alice", "alice"), m

            live = await pub.publish(ch, {"n": 5})
            ev = await c2.recv_until(is_message(ch, live))
            assert ev["data"] == {"n": 5}
            await c2.expect_no_message(pred=is_message(ch))
            got = [m["id"] for m in c2.seen if is_message(ch)(m)]
            assert got == missed + [live], got
        finally:
            await close_all(pub, c, c2)

    run(body())


def test_since_with_nothing_missed_recovers_zero(stack):
    ch = unique_channel()

    async def body():
        pub = await stack.client(stack.token("u_alice", username="alice"))
        c = await stack.client()
        try:
            mid = await pub.publish(ch, {"n": 1})
            r = await c.subscribe(ch, since=mid)
            assert r["data"]["recovered"] == 0, r
            await c.expect_no_message(pred=is_message(ch))
            # since=0: everything of the channel
            c3 = await stack.client()
            try:
                frames = await collect_subscribe(
                    c3, {"type": "subscribe", "id": 1, "channel": ch, "since": 0}, 1)
                assert frames[0]["data"]["recovered"] == 1, frames
                assert frames[1]["id"] == mid
            finally:
                await c3.close()
        finally:
            await close_all(pub, c)

    run(body())


def test_since_recovery_while_publishing_has_no_gap_and_no_duplicate(stack):
    ch = unique_channel()
    total = 40

    async def body():
        pub = await stack.client(stack.token("u_alice", username="alice"))
        c = await stack.client()
        try:
            since = await pub.publish(ch, {"n": -1})
            acked = []

            async def publisher():
                for i in range(total):
                    await pub.send({"type": "publish", "id": f"p{i}", "channel": ch,
                                    "data": {"n": i}})
                    if i % 5 == 4:
                        await asyncio.sleep(0.005)
                while len(acked) < total:
                    m = await pub.recv_until(lambda m: m.get("type") in ("publish", "error"))
                    assert m["type"] == "publish", m
                    acked.append(m["data"]["message_id"])

            task = asyncio.create_task(publisher())
            await asyncio.sleep(0.03)  # some published before, some after the subscribe
            await c.send({"type": "subscribe", "id": "s", "channel": ch, "since": since})
            await task
            want = [r["id"] for r in stack.db_messages(ch) if r["id"] > since]
            assert sorted(acked) == want, (acked, want)
            got = []
            deadline = time.monotonic() + 5
            while len(got) < len(want) and time.monotonic() < deadline:
                m = await c.recv_until(is_message(ch), timeout=max(0.1, deadline -
                                                                    time.monotonic()))
                got.append(m["id"])
            await c.expect_no_message(pred=is_message(ch))
            assert got == want, f"gap or duplicate:\n got  {got}\n want {want}"
            reply = [m for m in c.seen if m.get("id") == "s"]
            assert reply and reply[0]["type"] == "subscribe", reply
            # recovered counts the history part, which is a prefix of what was received
            rec = reply[0]["data"]["recovered"]
            assert 0 <= rec <= len(want), reply
        finally:
            await close_all(pub, c)

    run(body())


def test_max_history_prunes(stack):
    ch = unique_channel("hist5")

    async def body():
        pub = await stack.client(stack.token("u_alice", username="alice"))
        c = await stack.client()
        try:
            ids = [await pub.publish(ch, {"n": i}) for i in range(8)]
            wait_for(lambda: len(stack.db_messages(ch)) <= 5, timeout=3,
                     what="pruning to max_history 5")
            rows = stack.db_messages(ch)
            assert [r["id"] for r in rows] == ids[3:], rows
            # history is capped at max_history and holds the newest 5
            r = await c.ok({"type": "history", "channel": ch, "limit": 50})
            assert [m["id"] for m in r["data"]["messages"]] == ids[3:], r
            # a replay gives at most max_history messages
            frames = await collect_subscribe(
                c, {"type": "subscribe", "id": "h", "channel": ch, "since": ids[0]}, 5)
            assert frames[0]["data"]["recovered"] == 5, frames[0]
            assert [m["id"] for m in frames[1:]] == ids[3:]
            await c.expect_no_message(pred=is_message(ch))
            # ids are never reused after pruning
            nxt = await pub.publish(ch, {"n": 8})
            assert nxt > ids[-1]
        finally:
            await close_all(pub, c)

    run(body())


def test_an_upgraded_database_counts_its_rows_and_prunes_exactly(make_stack, tmp_path):
    # A version 4 file (before channel_history.stored) with 8 rows in a max_history 5 channel
    # and 2 in another: the upgrade counts them, and the next publish prunes to the newest 5.
    rows = [f"INSERT INTO messages (channel, user_id, username, data, created_at) VALUES "
            f"('{ch}', 'u_old', 'old', '{{\"n\": {i}}}', '2026-01-01T00:00:00.000Z')"
            for ch, n in (("hist5:old", 8), ("public:old", 2)) for i in range(n)]
    dbp = old_database(tmp_path, schema_v4(), *rows)
    st = make_stack(config=STACK_CONFIG, api=True, env={"GOLIVE_DB": dbp})

    def query(sql):
        conn = sqlite3.connect(dbp)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()

    def kept():
        return [json.loads(d) for (d,) in
                query("SELECT data FROM messages WHERE channel = 'hist5:old' ORDER BY id")]

    assert dict(query("SELECT channel, stored FROM channel_history")) == \
        {"hist5:old": 8, "public:old": 2}
    admin = st.token("u_admin", role="admin")
    for i in range(3):
        json_body(st.http("POST", "/api/realtime/channels/hist5:old/publish", token=admin,
                          json={"data": {"new": i}}))
    assert kept() == [{"n": 6}, {"n": 7}, {"new": 0}, {"new": 1}, {"new": 2}], kept()
    oldest = query("SELECT MIN(id) FROM messages WHERE channel = 'hist5:old'")[0][0]
    assert query("SELECT stored, pruned_through FROM channel_history "
                 "WHERE channel = 'hist5:old'") == [(5, oldest - 1)]
    # a DELETE by hand keeps the count: the channel then holds fewer than max_history rows, and
    # a publish prunes nothing it should keep
    conn = sqlite3.connect(dbp)
    try:
        conn.execute("DELETE FROM messages WHERE channel = 'hist5:old' AND data = '{\"n\": 6}'")
        conn.commit()
    finally:
        conn.close()
    json_body(st.http("POST", "/api/realtime/channels/hist5:old/publish", token=admin,
                      json={"data": {"new": 3}}))
    assert kept() == [{"n": 7}, {"new": 0}, {"new": 1}, {"new": 2}, {"new": 3}], kept()


# ---------------------------------------------------------------------------------------------
# Restart


def test_pushd_restart_loses_nothing(make_stack):
    st = make_stack()
    ch = unique_channel()

    async def body():
        sub = await st.client(st.token("u_bob", username="bob"))
        pub = await st.client(st.token("u_alice", username="alice"))
        idle = await st.client()
        sub2 = pub2 = None
        try:
            await sub.subscribe(ch)
            warm = await pub.publish(ch, {"n": "warm"})
            await sub.recv_until(is_message(ch, warm))

            for i in range(20):
                await pub.send({"type": "publish", "id": i, "channel": ch, "data": {"n": i}})
            # SIGTERM while publishes are in flight: right after the first acknowledgement
            first_reply = await pub.recv_until(lambda m: m.get("type") in ("publish", "error"),
                                               what="a first publish reply")
            pub.pending.appendleft(first_reply)
            st.signal_pushd(signal.SIGTERM)

            results = await asyncio.gather(pub.wait_closed(5), sub.wait_closed(5),
                                           idle.wait_closed(5))
            codes = [r[0] for r in results]  # checked last, so that the rest is checked too
            acked = [m["data"]["message_id"] for m in results[0][1] if m.get("type") == "publish"]
            errors = [m for m in results[0][1] if m.get("type") == "error"]
            for e in errors:
                assert e["error"]["code"] == "unavailable", e
            seen_by_sub = [m["id"] for m in sub.seen if is_message(ch)(m)]
            print(f"restart: {len(acked)} of 20 acknowledged before the close, "
                  f"{len(errors)} errors, subscriber saw {len(seen_by_sub)} messages")

            rc = st.pushd.wait(5)
            assert rc == 0, f"golive-pushd exited with {rc} on SIGTERM"

            db_ids = [r["id"] for r in st.db_messages(ch)]
            missing = sorted(set(acked) - set(db_ids))
            assert not missing, f"acknowledged but not in SQLite: {missing}"
            assert not set(seen_by_sub) - set(db_ids), "delivered ids missing from SQLite"
            assert len(seen_by_sub) == len(set(seen_by_sub)), seen_by_sub

            st.start_pushd()
            # while bob is still away, alice comes back and publishes more
            pub2 = await st.client(st.token("u_alice", username="alice"))
            missed = [await pub2.publish(ch, {"n": f"after-{i}"}) for i in range(5)]
            assert min(missed) > max(db_ids), "ids must keep growing across a restart"
            db_ids = [r["id"] for r in st.db_messages(ch)]
            last = max(seen_by_sub)
            want = [i for i in db_ids if i > last]
            assert want[-5:] == missed
            print(f"restart: {len(db_ids)} rows in SQLite, {len(want)} to recover")
            sub2 = await st.client(st.token("u_bob", username="bob"))
            frames = await collect_subscribe(
                sub2, {"type": "subscribe", "id": "again", "channel": ch, "since": last},
                len(want))
            assert frames[0]["data"]["recovered"] == len(want), frames[0]
            got = [m["id"] for m in frames[1:]]
            assert got == want, (got, want)
            await sub2.expect_no_message(pred=is_message(ch))
            assert sorted(seen_by_sub + got) == db_ids, "some message seen twice or never"
            # and live again
            live = await pub2.publish(ch, {"n": "live"})
            assert live > max(db_ids)
            await sub2.recv_until(is_message(ch, live))
            await sub2.expect_no_message(pred=is_message(ch))
            # every client, the one publishing at the time included, was told 1001
            assert codes == [1001, 1001, 1001], \
                f"close codes on SIGTERM (publishing, subscribed, idle): {codes}"
        finally:
            await close_all(sub, pub, idle, sub2, pub2)

    run(body())


def test_sigterm_with_idle_clients_exits_promptly(make_stack):
    st = make_stack()

    async def body():
        cs = [await st.client() for _ in range(5)]
        for c in cs:
            await c.subscribe(unique_channel())
        t0 = time.monotonic()
        st.signal_pushd(signal.SIGTERM)
        codes = [(await c.wait_closed(5))[0] for c in cs]
        assert codes == [1001] * 5, codes
        rc = await asyncio.get_running_loop().run_in_executor(None, st.pushd.wait, 5)
        assert rc == 0, rc
        assert time.monotonic() - t0 < 5

    run(body())


# ---------------------------------------------------------------------------------------------
# SIGHUP reload

RELOAD_PUBLIC = {
    "namespaces": [{"name": "chat", "max_clients": 1000, "allow_publish": True}],
    "channels": [{"pattern": "room:*", "namespace": "chat", "private": False}],
}
RELOAD_PRIVATE = {
    "namespaces": [{"name": "chat", "max_clients": 1000, "allow_publish": True}],
    "channels": [{"pattern": "room:*", "namespace": "chat", "private": True,
                  "allowed_users": ["u_vip"]}],
}

# (yaml text, line the error must be reported at, or None for "some line")
BROKEN_CONFIGS = [
    ('channels:\n  - pattern: "room:*"\n    private: true\n    max_history: lots\n', 4),
    ('channels:\n  - pattern: "room:*"\n    private: true\n    colour: blue\n', 4),
    ('channels:\n  - pattern: "room:*"\n    private: [true\n', None),
]


async def anon_subscribe(st, ch):
    c = await st.client()
    try:
        return await c.request({"type": "subscribe", "channel": ch})
    finally:
        await c.close()


def test_sighup_reload_and_broken_config(make_stack):
    st = make_stack(config=RELOAD_PUBLIC)

    async def body():
        r = await anon_subscribe(st, "room:a")
        assert r["type"] == "subscribe", r

        st.write_config(RELOAD_PRIVATE)
        st.signal_pushd(signal.SIGHUP)
        deadline = time.monotonic() + 3
        while True:
            r = await anon_subscribe(st, unique_channel("room"))
            if r["type"] == "error":
                break
            assert time.monotonic() < deadline, "room:* still public 3 s after SIGHUP"
            await asyncio.sleep(0.1)
        assert r["error"]["code"] in ANON_PRIVATE, r
        vip = await st.client(st.token("u_vip", username="vip"))
        try:
            await vip.subscribe("room:vip1")
        finally:
            await vip.close()

        for text, line in BROKEN_CONFIGS:
            log_before = len(st.read_log())
            st.write_config(text)
            st.signal_pushd(signal.SIGHUP)
            pat = re.compile(r"realtime\.yaml:%s\b" % (line if line else r"\d+"))
            try:
                wait_for(lambda: pat.search(st.read_log()[log_before:]), timeout=3,
                         what=f"a log line naming realtime.yaml:{line or 'LINE'}")
            finally:
                assert st.pushd_alive(), "golive-pushd died on a broken config"
            # the previous (private) config still applies, and pushd serves
            r = await anon_subscribe(st, unique_channel("room"))
            assert r["type"] == "error" and r["error"]["code"] in ANON_PRIVATE, r
            vip = await st.client(st.token("u_vip", username="vip"))
            try:
                await vip.subscribe(unique_channel("room"))
                await vip.assert_usable()
            finally:
                await vip.close()

        # a good config again is taken
        st.write_config(RELOAD_PUBLIC)
        st.signal_pushd(signal.SIGHUP)
        deadline = time.monotonic() + 3
        while True:
            r = await anon_subscribe(st, unique_channel("room"))
            if r["type"] == "subscribe":
                break
            assert time.monotonic() < deadline, "room:* not public again after SIGHUP"
            await asyncio.sleep(0.1)

    run(body())


def test_sighup_private_ends_anonymous_subscriptions(make_stack):
    """protocol.md: `unsubscribed` when the server ends a subscription (channel made private)."""
    st = make_stack(config=RELOAD_PUBLIC)

    async def body():
        anon = await st.client()
        vip = await st.client(st.token("u_vip", username="vip"))
        try:
            await anon.subscribe("room:lobby")
            await vip.subscribe("room:lobby")
            st.write_config(RELOAD_PRIVATE)
            st.signal_pushd(signal.SIGHUP)
            ev = await anon.recv_until(lambda m: m.get("type") == "unsubscribed", timeout=3,
                                       what="an unsubscribed event")
            assert ev["channel"] == "room:lobby", ev
            assert isinstance(ev.get("reason"), str) and ev["reason"], ev
            await vip.expect_no_message(pred=lambda m: m.get("type") == "unsubscribed")
            # and no more messages reach the anonymous connection
            mid = await vip.publish("room:lobby", {"x": 1})
            await vip.recv_until(is_message("room:lobby", mid))
            await anon.expect_no_message(pred=is_message("room:lobby"))
            await anon.assert_usable()
        finally:
            await close_all(anon, vip)

    run(body())


# ---------------------------------------------------------------------------------------------
# Slow consumer


def test_slow_consumer_is_closed_4008(make_stack):
    st = make_stack()
    ch = unique_channel()
    payload = {"content": "y" * 3000}
    max_publish = 2400

    async def body():
        # straight to pushd: nginx would buffer for the sleeper
        slow = await st.unix_client(max_queue=1, read_limit=2048)
        pub = await st.client(st.token("u_flood", username="flood"))
        watcher = await st.client()
        reader = await st.client()  # keeps up: must get everything and stay connected
        reader_ids = []

        async def read_all():
            while True:
                m = await reader.recv_until(is_message(ch), timeout=30)
                reader_ids.append(m["id"])

        reader_task = None
        try:
            await slow.subscribe(ch)
            await reader.subscribe(ch)
            reader_task = asyncio.create_task(read_all())
            sent = 0
            acked = 0
            t0 = time.monotonic()
            gone = False
            while sent < max_publish and time.monotonic() - t0 < 8:
                for _ in range(100):
                    await pub.send({"type": "publish", "channel": ch, "data": payload})
                    sent += 1
                while acked < sent - 100:
                    assert not reader_task.done(), f"the keeping-up reader failed: {reader_task}"
                    try:
                        m = await pub.recv(timeout=5)
                    except AssertionError:
                        raise AssertionError(
                            f"publish replies stalled ({acked} of {sent} acknowledged): is "
                            "pushd blocked by the slow consumer?") from None
                    if m.get("type") == "publish":
                        acked += 1
                        last_id = m["data"]["message_id"]
                    else:
                        assert m.get("type") != "error", m
                # "Keeping up" means staying well inside the 1024-frame queue, whatever the
                # machine's speed: the next batch waits for the reader (bounded), never for
                # the sleeper.
                lag_deadline = time.monotonic() + 10
                while len(reader_ids) < acked - 300 and time.monotonic() < lag_deadline:
                    assert not reader_task.done(), f"the keeping-up reader failed: {reader_task}"
                    await asyncio.sleep(0.01)
                p = await watcher.ok({"type": "presence", "channel": ch})
                if p["data"]["anonymous"] == 0:
                    gone = True
                    break
            # now read what the sleeper was sent, up to the close
            code, frames = await slow.wait_closed(timeout=5)
            n = sum(1 for f in frames if is_message(ch)(f))
            print(f"slow consumer: {sent} published, {n} received before close {code}, "
                  f"left presence before reading: {gone}")
            assert code == 4008, (f"close code {code} after {n} messages "
                                  f"({sent} published, dropped from presence: {gone})")
            assert n < sent, "the slow consumer got everything: it was not cut off"
            # the reader that kept up got every acknowledged message, in order, and is still on
            while acked < sent:
                m = await pub.recv(timeout=5)
                if m.get("type") == "publish":
                    acked += 1
                    last_id = m["data"]["message_id"]
            deadline = time.monotonic() + 5
            while (not reader_ids or reader_ids[-1] < last_id) and time.monotonic() < deadline:
                assert not reader_task.done(), f"the keeping-up reader failed: {reader_task}"
                await asyncio.sleep(0.05)
            assert len(reader_ids) == sent and reader_ids == sorted(set(reader_ids)), \
                f"reader got {len(reader_ids)} of {sent}"
            reader_task.cancel()
            await asyncio.gather(reader_task, return_exceptions=True)
            await reader.assert_usable()
            await pub.assert_usable()
            await watcher.assert_usable()
        finally:
            if reader_task is not None:
                reader_task.cancel()
            await close_all(slow, pub, watcher, reader)

    run(body(), timeout=30)


def test_replay_is_capped_inside_the_queue_and_says_incomplete(make_stack):
    """A since replay bigger than the 1024-frame queue would cut the recovering client as a slow
    consumer (and its reconnect would replay again): past 500 it is the newest 500 and
    complete false."""
    st = make_stack(config={"channels": [{"pattern": "public:*", "max_history": 10000}]})
    ch = unique_channel()

    async def body():
        pub = await st.client(st.token("u_many", username="many"))
        again = await st.client()
        try:
            ids = [await pub.publish(ch, {"n": i}) for i in range(700)]
            r = await again.subscribe(ch, since=ids[0] - 1)
            assert r["data"]["recovered"] == 500 and r["data"]["complete"] is False, r
            got = [(await again.recv_until(is_message(ch)))["id"] for _ in range(500)]
            assert got == ids[-500:]
            r = await again.ok({"type": "subscribe", "channel": unique_channel(),
                                "since": 0})
            assert r["data"]["complete"] is True, r
            await again.ok({"type": "unsubscribe", "channel": ch})
            r = await again.subscribe(ch, since=ids[-501])
            assert r["data"]["recovered"] == 500 and r["data"]["complete"] is True, r
        finally:
            await close_all(pub, again)

    run(body(), timeout=60)


def test_slow_consumer_behind_nginx_gets_what_was_buffered_then_the_end(make_stack):
    """Through nginx, pushd cuts a client that stopped reading just the same, but its 4008 Close
    cannot pass: nginx and the kernel hold megabytes the client has not read, and pushd gives
    the socket 5 s to take the Close. What the client sees when it reads again is what
    docs/protocol.md says: every buffered message, in order and without a gap, then the end of
    the connection without a Close (1006); a reconnect with since gets exactly the rest."""
    st = make_stack(config={"channels": [{"pattern": "public:*", "max_history": 10000}]})
    ch = unique_channel()
    payload = {"content": "s" * 3000}
    flood = 4000  # pushd's 1024 frames plus the ~1300 nginx and the kernel hold, with room

    async def body():
        sleeper = await st.client(max_queue=1, read_limit=2048)  # through nginx
        pub = await st.client(st.token("u_flood", username="flood"))
        watcher = await st.client()
        try:
            await sleeper.subscribe(ch)
            acked, sent = [], 0
            while sent < flood:
                for _ in range(100):
                    await pub.send({"type": "publish", "channel": ch, "data": payload})
                sent += 100
                while len(acked) < sent:
                    m = await pub.recv(timeout=5)
                    if m.get("type") == "publish":
                        acked.append(m["data"]["message_id"])

            async def gone():
                p = await watcher.ok({"type": "presence", "channel": ch})
                return p["data"]["anonymous"] == 0
            deadline = time.monotonic() + 10
            while not await gone():
                assert time.monotonic() < deadline, "pushd did not cut the sleeping client"
                await asyncio.sleep(0.2)

            code, frames = await sleeper.wait_closed(timeout=10)
            got = [f["id"] for f in frames if is_message(ch)(f)]
            assert code == 1006, f"close code {code}: if 4008 now arrives, update docs/protocol.md"
            assert 0 < len(got) < flood and got == acked[:len(got)], (len(got), got[:3])

            # more was missed than one replay carries: the newest 500, complete false, and
            # the gap before them from history, as docs/protocol.md tells a client to do
            missed = acked[len(got):]
            again = await st.client()
            try:
                r = await again.subscribe(ch, since=got[-1])
                assert r["data"]["recovered"] == 500 and r["data"]["complete"] is False, r
                replayed = [(await again.recv_until(is_message(ch)))["id"] for _ in range(500)]
                assert replayed == missed[-500:]
                filled, after = [], got[-1]
                while len(filled) < len(missed) - 500:
                    h = await again.ok({"type": "history", "channel": ch, "since": after,
                                        "limit": 100})
                    page = [m["id"] for m in h["data"]["messages"]]
                    assert page, f"history since {after} is empty"
                    filled += page
                    after = page[-1]
                assert filled[:len(missed) - 500] == missed[:-500]
            finally:
                await close_all(again)
        finally:
            await close_all(sleeper, pub, watcher)

    run(body(), timeout=60)


def test_paused_reader_below_queue_limit_is_kept(make_stack):
    """A client that stops reading for a while but has fewer than 1024 frames waiting is not a
    slow consumer: when it reads again it gets everything."""
    st = make_stack()
    ch = unique_channel()
    payload = {"content": "z" * 3000}
    count = 400  # kernel buffers hold well under 200 of these; the rest waits in pushd

    async def body():
        paused = await st.unix_client(max_queue=1, read_limit=2048)
        pub = await st.client(st.token("u_burst", username="burst"))
        try:
            await paused.subscribe(ch)
            ids = []
            for start in range(0, count, 50):
                for i in range(start, start + 50):
                    await pub.send({"type": "publish", "id": i, "channel": ch, "data": payload})
                while len(ids) < start + 50:
                    m = await pub.recv(timeout=5)
                    assert m.get("type") == "publish", m
                    ids.append(m["data"]["message_id"])
            await asyncio.sleep(0.3)
            got = []
            deadline = time.monotonic() + 10
            while len(got) < count and time.monotonic() < deadline:
                m = await paused.recv_until(is_message(ch), timeout=5)
                got.append(m["id"])
            assert got == sorted(ids), f"got {len(got)} of {count}"
            await paused.assert_usable()
        finally:
            await close_all(paused, pub)

    run(body(), timeout=30)
