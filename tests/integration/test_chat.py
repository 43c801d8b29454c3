"""Chat through nginx: publish/deliver, id echo, presence, history (docs/protocol.md)."""

import asyncio
import json

from conftest import ANON_PRIVATE, ISO_Z, MODES_OFF, close_all, is_event, is_message, run, unique_channel


def test_two_users_chat_on_public_channel(stack):
    ch = unique_channel()

    async def body():
        alice = await stack.client(stack.token("u_alice", username="alice"))
        bob = await stack.client(stack.token("u_bob", username="bob"))
        try:
            for c in (alice, bob):
                r = await c.subscribe(ch)
                assert r["data"]["channel"] == ch
                assert r["data"]["recovered"] == 0
            data = {"content": "hi", "n": 1, "nested": {"a": [1, 2, {"b": None}]}, "u": "é✓"}
            await alice.send({"type": "publish", "id": 10, "channel": ch, "data": data})
            reply = await alice.recv_until(
                lambda m: m.get("id") == 10 and m.get("type") != "message", what="publish reply")
            assert reply["type"] == "publish", reply
            assert reply["data"]["channel"] == ch
            mid = reply["data"]["message_id"]
            assert isinstance(mid, int) and not isinstance(mid, bool) and mid > 0, reply

            events = []
            for c in (alice, bob):
                ev = await c.recv_until(is_message(ch), what="the message event")
                events.append(ev)
                assert ev["id"] == mid, (ev, reply)
                assert isinstance(ev["id"], int)
                assert ev["channel"] == ch
                assert ev["data"] == data
                assert ev["user"]["id"] == "u_alice" and ev["user"]["username"] == "alice", ev
                assert isinstance(ev["created_at"], str) and ISO_Z.match(ev["created_at"]), ev
                assert not ev.get("system"), ev
            # the same message, exactly once each
            for c in (alice, bob):
                await c.expect_no_message(pred=is_message(ch))

            rows = stack.db_messages(ch)
            assert len(rows) == 1, rows
            row = rows[0]
            assert row["id"] == mid
            assert row["channel"] == ch
            assert row["user_id"] == "u_alice"
            assert row["username"] == "alice"
            assert row["kind"] == "message"
            assert json.loads(row["data"]) == data
            assert row["deleted_at"] is None
            assert ISO_Z.match(row["created_at"]), row
            # the row is the message REST history shows: same timestamp as the live event
            assert row["created_at"] == events[0]["created_at"], (row, events[0])
        finally:
            await close_all(alice, bob)

    run(body())


def test_publisher_need_not_be_subscribed(stack):
    ch = unique_channel()

    async def body():
        pub = await stack.client(stack.token("u_pub", username="pub"))
        sub = await stack.client()
        try:
            await sub.subscribe(ch)
            mid = await pub.publish(ch, {"content": "from outside"})
            ev = await sub.recv_until(is_message(ch))
            assert ev["id"] == mid and ev["data"] == {"content": "from outside"}
            await pub.expect_no_message(pred=is_message())
        finally:
            await close_all(pub, sub)

    run(body())


def test_command_id_is_echoed(stack):
    ch = unique_channel()

    async def body():
        c = await stack.client(stack.token("u_echo", username="echo"))
        try:
            for cid in (42, 0, 2**40, "abc-1", "x" * 64):
                await c.send({"type": "rpc", "id": cid, "data": {"method": "stats"}})
                r = await c.recv(timeout=5)
                assert r["type"] == "rpc" and r.get("id") == cid, (cid, r)

            await c.send({"type": "subscribe", "id": "sub-1", "channel": ch})
            r = await c.recv_until(lambda m: m.get("type") in ("subscribe", "error"))
            assert r == {"type": "subscribe", "id": "sub-1",
                         "data": {"channel": ch, "recovered": 0, "chat_modes": MODES_OFF}}, r

            await c.send({"type": "publish", "id": 77, "channel": ch, "data": {"x": 1}})
            r = await c.recv_until(lambda m: m.get("type") in ("publish", "error"))
            assert r["type"] == "publish" and r["id"] == 77, r

            # errors echo the id too, numbers and strings alike
            for cid in (9, "err-9"):
                await c.send({"type": "subscribe", "id": cid, "channel": ch})  # conflict
                r = await c.recv_until(lambda m: m.get("type") == "error")
                assert r["id"] == cid and r["error"]["code"] == "conflict", r
                await c.send({"type": "no_such_type", "id": cid})
                r = await c.recv_until(lambda m: m.get("type") == "error")
                assert r["id"] == cid and r["error"]["code"] == "bad_request", r

            # without an id, neither the reply nor the error has one
            await c.send({"type": "rpc", "data": {"method": "stats"}})
            r = await c.recv_until(lambda m: m.get("type") == "rpc")
            assert "id" not in r, r
            await c.send({"type": "no_such_type"})
            r = await c.recv_until(lambda m: m.get("type") == "error")
            assert "id" not in r, r
        finally:
            await c.close()

    run(body())


def _presence_users(reply):
    return {u["id"]: u for u in reply["data"]["users"]}


def test_presence_join_and_leave(stack):
    ch = unique_channel()

    async def body():
        alice1 = await stack.client(stack.token("u_alice", username="alice"))
        alice2 = await stack.client(stack.token("u_alice", username="alice"))
        anon = await stack.client()
        bob = None
        bob2 = None
        try:
            await alice1.subscribe(ch)
            await alice1.settle()  # (whether one sees one's own join is not specified)
            await alice2.subscribe(ch)
            await anon.subscribe(ch)
            # alice's second connection is not a new user: no join for it
            await alice1.expect_no_message(pred=is_event("join", ch, "u_alice"))

            bob = await stack.client(stack.token("u_bob", username="bob"))
            await bob.subscribe(ch)
            j = await alice1.recv_until(is_event("join", ch, "u_bob"), what="bob's join")
            assert j["user"]["username"] == "bob", j
            await anon.recv_until(is_event("join", ch, "u_bob"), what="bob's join (anon)")

            p = await anon.ok({"type": "presence", "channel": ch})
            assert p["data"]["channel"] == ch
            users = _presence_users(p)
            assert set(users) == {"u_alice", "u_bob"}, p
            assert users["u_alice"]["username"] == "alice"
            assert users["u_alice"]["connections"] == 2, p
            assert users["u_bob"]["username"] == "bob"
            assert users["u_bob"]["connections"] == 1, p
            assert p["data"]["anonymous"] == 1, p

            # bob unsubscribes: leave
            r = await bob.ok({"type": "unsubscribe", "channel": ch})
            assert r["data"] == {"channel": ch}, r
            lv = await alice1.recv_until(is_event("leave", ch, "u_bob"), what="bob's leave")
            assert lv["user"]["username"] == "bob", lv
            p = await alice1.ok({"type": "presence", "channel": ch})
            assert set(_presence_users(p)) == {"u_alice"}, p

            # bob comes back, then his socket closes: leave again
            await bob.subscribe(ch)
            await alice1.recv_until(is_event("join", ch, "u_bob"), what="bob's second join")
            await bob.close()
            bob = None
            await alice1.recv_until(is_event("leave", ch, "u_bob"), what="leave on close")
            p = await alice1.ok({"type": "presence", "channel": ch})
            assert set(_presence_users(p)) == {"u_alice"}, p
            assert p["data"]["anonymous"] == 1, p

            # alice closes one of two connections: no leave, connections drops to 1
            bob2 = await stack.client(stack.token("u_bob", username="bob"))
            await bob2.subscribe(ch)
            await alice1.recv_until(is_event("join", ch, "u_bob"))
            await alice2.close()
            alice2 = None
            await bob2.expect_no_message(within=0.5, pred=is_event("leave", ch, "u_alice"))
            await anon.expect_no_message(within=0.1, pred=is_event("leave", ch, "u_alice"))
            p = await bob2.ok({"type": "presence", "channel": ch})
            users = _presence_users(p)
            assert users["u_alice"]["connections"] == 1, p
            # anonymous leaves: the count drops, no event about users
            await anon.close()
            anon = None
            for _ in range(20):
                p = await bob2.ok({"type": "presence", "channel": ch})
                if p["data"]["anonymous"] == 0:
                    break
                await asyncio.sleep(0.05)
            assert p["data"]["anonymous"] == 0, p
            # the last alice leaves: leave
            await alice1.ok({"type": "unsubscribe", "channel": ch})
            await bob2.recv_until(is_event("leave", ch, "u_alice"), what="alice's leave")
        finally:
            await close_all(alice1, alice2, anon, bob, bob2)

    run(body())


def test_presence_outlives_the_connection_that_joined_first(stack):
    """A channel's presence entry shares the user of the connection that joined first
    (pushd/channel.c): once that socket closes, the entry still names the user correctly, and the
    leave of the last connection carries the username."""
    ch = unique_channel()

    async def body():
        first = await stack.client(stack.token("u_carol", username="carol"))
        second = await stack.client(stack.token("u_carol", username="carol"))
        watcher = await stack.client(stack.token("u_dave", username="dave"))
        try:
            await watcher.subscribe(ch)
            await first.subscribe(ch)
            await watcher.recv_until(is_event("join", ch, "u_carol"), what="carol's join")
            await second.subscribe(ch)
            await first.close()
            first = None
            await watcher.expect_no_message(within=0.3, pred=is_event("leave", ch, "u_carol"))
            p = await watcher.ok({"type": "presence", "channel": ch})
            assert _presence_users(p)["u_carol"] == {"id": "u_carol", "username": "carol",
                                                     "connections": 1}, p
            await second.close()
            second = None
            lv = await watcher.recv_until(is_event("leave", ch, "u_carol"), what="carol's leave")
            assert lv["user"] == {"id": "u_carol", "username": "carol"}, lv
            p = await watcher.ok({"type": "presence", "channel": ch})
            assert set(_presence_users(p)) == {"u_dave"}, p
        finally:
            await close_all(first, second, watcher)

    run(body())


def test_history_command(stack):
    ch = unique_channel()

    async def body():
        c = await stack.client(stack.token("u_hist", username="hist"))
        reader = await stack.client()  # anonymous may read history of a public channel
        try:
            ids = []
            for i in range(5):
                ids.append(await c.publish(ch, {"content": f"m{i}", "i": i}))
            assert ids == sorted(ids) and len(set(ids)) == 5, ids

            def check(reply, want_ids):
                assert reply["data"]["channel"] == ch, reply
                msgs = reply["data"]["messages"]
                got = [m["id"] for m in msgs]
                assert got == want_ids, (got, want_ids, reply)
                for m in msgs:
                    i = ids.index(m["id"])
                    assert m["type"] == "message" and m["channel"] == ch, m
                    assert m["data"] == {"content": f"m{i}", "i": i}, m
                    assert m["user"]["id"] == "u_hist" and m["user"]["username"] == "hist", m
                    assert ISO_Z.match(m["created_at"]), m

            check(await reader.ok({"type": "history", "channel": ch, "limit": 3}), ids[2:])
            check(await reader.ok({"type": "history", "channel": ch}), ids)  # default 50
            check(await reader.ok({"type": "history", "channel": ch, "limit": 2,
                                   "before": ids[3]}), ids[1:3])
            check(await reader.ok({"type": "history", "channel": ch, "before": ids[3]}),
                  ids[:3])
            check(await reader.ok({"type": "history", "channel": ch, "limit": 2,
                                   "since": ids[0]}), ids[1:3])
            check(await reader.ok({"type": "history", "channel": ch, "since": ids[1]}),
                  ids[2:])
            check(await reader.ok({"type": "history", "channel": ch, "since": ids[4]}), [])
            check(await reader.ok({"type": "history", "channel": ch, "before": ids[0]}), [])
            # public:* has max_history 50: a bigger limit is capped, not refused
            check(await reader.ok({"type": "history", "channel": ch, "limit": 1000}), ids)
            # an empty channel
            empty = unique_channel()
            r = await reader.ok({"type": "history", "channel": empty, "limit": 3})
            assert r["data"] == {"channel": empty, "messages": []}, r
        finally:
            await close_all(c, reader)

    run(body())


def test_history_of_private_channel_needs_access(stack):
    ch = "chat:stream_" + unique_channel("h").split(":")[1]

    async def body():
        owner = await stack.client(stack.token("user_123", username="owner"))
        anon = await stack.client()
        other = await stack.client(stack.token("u_other", username="other"))
        try:
            mid = await owner.publish(ch, {"content": "secret"})
            r = await owner.ok({"type": "history", "channel": ch})
            assert [m["id"] for m in r["data"]["messages"]] == [mid]
            await anon.error({"type": "history", "channel": ch}, ANON_PRIVATE)
            await other.error({"type": "history", "channel": ch}, "forbidden")
            await anon.error({"type": "presence", "channel": ch}, ANON_PRIVATE)
            await other.error({"type": "presence", "channel": ch}, "forbidden")
        finally:
            await close_all(owner, anon, other)

    run(body())


def test_history_reply_carries_at_most_100_messages(stack):
    # No rule matches "free:*", so max_history is the default 1000: the per-reply cap of 100
    # is what limits the answer, and "before" pages further back.
    ch = "free:" + unique_channel().split(":")[1]

    async def body():
        c = await stack.client(stack.token("u_pager", username="pager"))
        try:
            ids = [await c.publish(ch, {"i": i}) for i in range(120)]
            r = await c.ok({"type": "history", "channel": ch, "limit": 1000})
            got = [m["id"] for m in r["data"]["messages"]]
            assert got == ids[20:], (len(got), got[:3])
            r = await c.ok({"type": "history", "channel": ch, "limit": 1000, "before": got[0]})
            assert [m["id"] for m in r["data"]["messages"]] == ids[:20]
        finally:
            await close_all(c)

    run(body())
