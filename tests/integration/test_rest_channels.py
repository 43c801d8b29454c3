"""REST channels (docs/api.md): publish, history, channel list and info, presence, and REST
writes while golive-pushd is down. Everything goes through nginx; live effects are checked with
real WebSocket clients and the rows in SQLite."""

import asyncio
import concurrent.futures
import copy
import json
import time

import pytest

from conftest import (ANON_PRIVATE, DEFAULT_CONFIG, ISO_Z, close_all, expect_error, is_int,
                      is_message, json_body, parse_iso, run, unique_channel, wait_for)

STACK_API = True
STACK_CONFIG = copy.deepcopy(DEFAULT_CONFIG)
STACK_CONFIG["channels"] += [
    {"pattern": "hist5:*", "namespace": "chat", "private": False, "max_history": 5},
    {"pattern": "big:*", "namespace": "chat", "private": False, "max_history": 1000},
]

MESSAGE_KEYS = {"type", "channel", "id", "data", "user", "created_at"}


def stream_channel():
    return "chat:stream_" + unique_channel("x").split(":")[1]


def check_publish_reply(body, channel, pushed=True):
    assert is_int(body.get("id")) and body["id"] > 0, body
    assert body.get("channel") == channel, body
    assert isinstance(body.get("created_at"), str) and ISO_Z.match(body["created_at"]), body
    assert body.get("pushed") is pushed, body


def check_message(m, channel, data=None, user=None):
    """A message as clients receive it (docs/protocol.md, events)."""
    assert MESSAGE_KEYS <= set(m), f"message without {MESSAGE_KEYS - set(m)}: {m}"
    assert m["type"] == "message" and m["channel"] == channel, m
    assert is_int(m["id"]), m
    assert ISO_Z.match(m["created_at"]), m
    if data is not None:
        assert m["data"] == data, m
    if user is not None:
        assert m["user"] == user, m
        assert not m.get("system"), m


# ---------------------------------------------------------------------------------------------
# Publish


@pytest.mark.parametrize("encode", [False, True], ids=["raw", "urlencoded"])
def test_rest_publish_reaches_ws_subscriber_with_history_id(stack, encode):
    ch = stream_channel()  # private; user_123 is in allowed_users
    tok = stack.token("user_123", username="alice")

    async def body():
        sub = await stack.client(tok)
        anon = await stack.client()
        try:
            await sub.subscribe(ch)
            data = {"content": "hello from REST", "n": 1, "nested": {"a": [1, None, "é✓"]}}
            t0 = time.time()
            r = stack.rest("POST", ch, "publish", token=tok, json={"data": data}, encode=encode)
            reply = json_body(r, 200)
            check_publish_reply(reply, ch, pushed=True)

            ev = await sub.recv_until(is_message(ch), what="the REST-published message")
            check_message(ev, ch, data, {"id": "user_123", "username": "alice"})
            assert ev["id"] == reply["id"], (ev, reply)
            assert ev["created_at"] == reply["created_at"], (ev, reply)
            await sub.expect_no_message(pred=is_message(ch))

            # REST history: the same message, the same id, the same shape
            hist = stack.history_rest(ch, token=tok)
            assert [m["id"] for m in hist] == [reply["id"]], hist
            assert hist[0] == ev, (hist[0], ev)
            # WS history too
            wh = await sub.ok({"type": "history", "channel": ch})
            assert wh["data"]["messages"] == [ev], wh

            # SQLite
            rows = stack.db_messages(ch)
            assert len(rows) == 1, rows
            row = rows[0]
            assert row["id"] == reply["id"]
            assert (row["user_id"], row["username"], row["kind"]) == ("user_123", "alice",
                                                                      "message"), row
            assert json.loads(row["data"]) == data
            assert row["created_at"] == reply["created_at"]
            assert row["deleted_at"] is None
            assert abs(parse_iso(reply["created_at"]) - t0) < 5, (reply, t0)

            # an anonymous client may not subscribe to this private channel
            await anon.error({"type": "subscribe", "channel": ch}, ANON_PRIVATE)
        finally:
            await close_all(sub, anon)

    run(body())


def test_rest_publish_to_public_channel_and_ws_publish_interleave(stack):
    ch = unique_channel()
    alice = stack.token("u_alice", username="alice")

    async def body():
        sub = await stack.client()
        pub = await stack.client(stack.token("u_bob", username="bob"))
        try:
            await sub.subscribe(ch)
            ids = []
            for i in range(3):
                ids.append(stack.publish_rest(ch, {"n": 2 * i}, alice)["id"])
                ids.append(await pub.publish(ch, {"n": 2 * i + 1}))
            assert ids == sorted(ids) and len(set(ids)) == 6, ids
            got = []
            for _ in range(6):
                got.append(await sub.recv_until(is_message(ch)))
            assert [m["id"] for m in got] == ids, got
            assert [m["data"]["n"] for m in got] == list(range(6)), got
            hist = stack.history_rest(ch)
            assert hist == got, (hist, got)
            assert [m["user"]["id"] for m in hist] == ["u_alice", "u_bob"] * 3
        finally:
            await close_all(sub, pub)

    run(body())


def test_rest_publish_needs_a_token_and_access(stack):
    ch = stream_channel()
    pub = unique_channel()
    expect_error(stack.rest("POST", pub, "publish", json={"data": {"a": 1}}), 401)
    # a private channel without access
    expect_error(stack.rest("POST", ch, "publish", token=stack.token("u_nobody"),
                            json={"data": {"a": 1}}), 403)
    # a role in allowed_roles may, and so may a moderator
    stack.publish_rest(ch, {"a": 2}, stack.token("u_streamer", role="streamer"))
    stack.publish_rest(ch, {"a": 3}, stack.token("u_mod", role="moderator"))
    # permissions: chat.publish needed when the token lists permissions
    expect_error(stack.rest("POST", pub, "publish", json={"data": {"a": 1}},
                            token=stack.token("u_p", permissions=["stream.create"])), 403)
    stack.publish_rest(pub, {"a": 4}, stack.token("u_p", permissions=["chat.publish"]))
    stack.publish_rest(pub, {"a": 5}, stack.token("u_p", permissions=None))
    assert [json.loads(r["data"])["a"] for r in stack.db_messages(ch)] == [2, 3]
    assert [json.loads(r["data"])["a"] for r in stack.db_messages(pub)] == [4, 5]


# ---------------------------------------------------------------------------------------------
# History


def test_history_order_limit_before_since(stack):
    ch = unique_channel()
    tok = stack.token("u_alice", username="alice")
    ids = [stack.publish_rest(ch, {"n": i}, tok)["id"] for i in range(7)]

    hist = stack.history_rest(ch)
    assert [m["id"] for m in hist] == ids, "oldest first, all of them"
    assert [m["data"] for m in hist] == [{"n": i} for i in range(7)]
    for m in hist:
        check_message(m, ch, user={"id": "u_alice", "username": "alice"})

    body = json_body(stack.rest("GET", ch, "history"), 200)
    assert body["channel"] == ch and isinstance(body["messages"], list), body

    assert [m["id"] for m in stack.history_rest(ch, limit=3)] == ids[4:], "the newest 3"
    assert [m["id"] for m in stack.history_rest(ch, limit=1)] == ids[6:]
    assert [m["id"] for m in stack.history_rest(ch, before=ids[3], limit=2)] == ids[1:3]
    assert [m["id"] for m in stack.history_rest(ch, before=ids[3])] == ids[:3]
    assert [m["id"] for m in stack.history_rest(ch, before=ids[0])] == []
    assert [m["id"] for m in stack.history_rest(ch, since=ids[2], limit=2)] == ids[3:5]
    assert [m["id"] for m in stack.history_rest(ch, since=ids[2])] == ids[3:]
    assert [m["id"] for m in stack.history_rest(ch, since=ids[-1])] == []
    assert [m["id"] for m in stack.history_rest(ch, since=0)] == ids
    # a channel that never had a message: an empty list
    assert stack.history_rest(unique_channel()) == []


def test_history_default_limit_is_50(stack):
    ch = unique_channel("big")  # max_history 1000

    async def body():
        pub = await stack.client(stack.token("u_alice"))
        try:
            ids = [await pub.publish(ch, {"n": i}) for i in range(55)]
        finally:
            await pub.close()
        hist = stack.history_rest(ch)
        assert [m["id"] for m in hist] == ids[5:], [m["id"] for m in hist]
        assert [m["id"] for m in stack.history_rest(ch, limit=55)] == ids
        assert [m["id"] for m in stack.history_rest(ch, limit=54)] == ids[1:]

    run(body())


def test_history_limit_is_capped_at_max_history(stack):
    ch = "hist5:" + unique_channel().split(":")[1]  # max_history 5
    tok = stack.token("u_alice")
    ids = [stack.publish_rest(ch, {"n": i}, tok)["id"] for i in range(8)]
    got = [m["id"] for m in stack.history_rest(ch, limit=100)]
    assert got == ids[-5:], got
    got = [m["id"] for m in stack.history_rest(ch, limit=1000000)]
    assert got == ids[-5:], got
    got = [m["id"] for m in stack.history_rest(ch, since=0, limit=100)]
    assert len(got) <= 5 and got == sorted(got), got


def test_history_limit_is_capped_at_100_over_rest_and_ws_alike(stack):
    """One parser for REST and WS (shared/history_params.c): a limit over 100 returns the newest
    100, not an error; over 1000000 or 0 is the same 400 message on both."""
    ch = unique_channel("big")  # max_history 1000
    tok = stack.token("u_alice")
    ids = [stack.publish_rest(ch, {"n": i}, tok)["id"] for i in range(105)]
    for limit in (101, 1000, 1000000):
        got = [m["id"] for m in stack.history_rest(ch, limit=limit)]
        assert got == ids[-100:], (limit, got[:3], len(got))
    got = [m["id"] for m in stack.history_rest(ch, since=0, limit=500)]
    assert got == ids[:100], (got[:3], len(got))

    async def ws_side():
        c = await stack.client(tok)
        try:
            reply = await c.request({"type": "history", "channel": ch, "limit": 1000})
            assert [m["id"] for m in reply["data"]["messages"]] == ids[-100:]
            for bad in (0, 1000001):
                err = await c.request({"type": "history", "channel": ch, "limit": bad})
                r = stack.rest("GET", ch, "history", params={"limit": bad})
                rest_err = json_body(r, 400)["error"]
                assert err["type"] == "error", err
                assert err["error"]["message"] == rest_err["message"], (err, rest_err)
                assert rest_err["message"] == "limit must be an integer from 1 to 1000000"
        finally:
            await c.close()

    run(ws_side())


def test_concurrent_rest_publishes_are_each_stored_pushed_and_pruned(stack):
    """Publishes that arrive together share a transaction and one message to pushd
    (fcgi-api/publisher.c): each still gets its own id, reply and delivery, and pruning to
    max_history holds for the batch as a whole."""
    ch = "hist5:" + unique_channel().split(":")[1]  # max_history 5
    other = unique_channel()
    tok = stack.token("u_alice", username="alice")
    n = 48

    async def body():
        sub = await stack.client(tok)
        try:
            await sub.subscribe(ch)
            await sub.subscribe(other)
            loop = asyncio.get_running_loop()
            with concurrent.futures.ThreadPoolExecutor(16) as pool:
                calls = [loop.run_in_executor(pool, stack.publish_rest, ch if i % 3 else other,
                                              {"n": i}, tok) for i in range(n)]
                replies = await asyncio.gather(*calls)
            for i, reply in enumerate(replies):
                check_publish_reply(reply, ch if i % 3 else other, pushed=True)
            ids = sorted(r["id"] for r in replies)
            assert len(set(ids)) == n, ids
            got = {}
            while len(got) < n:
                m = await sub.recv_until(lambda m: m.get("type") == "message", what="every message")
                assert m["id"] not in got, f"delivered twice: {m}"
                got[m["id"]] = m
            for i, reply in enumerate(replies):
                assert got[reply["id"]]["data"] == {"n": i}, (reply, got[reply["id"]])
            await sub.expect_no_message(pred=lambda m: m.get("type") == "message")
            return replies
        finally:
            await close_all(sub)

    replies = run(body())
    mine = sorted(r["id"] for r in replies if r["channel"] == ch)
    assert [m["id"] for m in stack.history_rest(ch, limit=100)] == mine[-5:]
    assert [r["id"] for r in stack.db_messages(ch)] == mine[-5:]
    assert len(stack.db_messages(other)) == n // 3


@pytest.mark.parametrize("route", ["history", "presence", "info"])
def test_reading_a_private_channel(stack, route):
    ch = stream_channel()
    mid = stack.publish_rest(ch, {"secret": True}, stack.token("user_123"))["id"]
    parts = () if route == "info" else (route,)

    expect_error(stack.rest("GET", ch, *parts), 401)
    expect_error(stack.rest("GET", ch, *parts, encode=True), 401)
    expect_error(stack.rest("GET", ch, *parts, token=stack.token("u_other")), 403)
    expect_error(stack.rest("GET", ch, *parts, token=stack.token("u_other", role="vip")), 403)
    for tok in (stack.token("user_123"), stack.token("u_s", role="streamer"),
                stack.token("u_m", role="moderator"), stack.token("u_a", role="admin")):
        body = json_body(stack.rest("GET", ch, *parts, token=tok), 200)
        assert body["channel"] == ch, body
        if route == "history":
            assert [m["id"] for m in body["messages"]] == [mid], body


def test_history_excludes_deleted_and_shows_system_messages(stack):
    ch = unique_channel()
    tok = stack.token("u_alice", username="alice")
    mod = stack.token("u_mod", username="moddy", role="moderator")
    a = stack.publish_rest(ch, {"n": 1}, tok)["id"]
    b = stack.publish_rest(ch, {"n": 2}, tok)["id"]
    s = json_body(stack.rest("POST", ch, "broadcast", token=mod,
                             json={"data": {"text": "maintenance at noon"}}), 200)["id"]
    json_body(stack.rest("DELETE", ch, "messages", b, token=mod), 200)
    hist = stack.history_rest(ch)
    assert [m["id"] for m in hist] == [a, s], hist
    sysm = hist[1]
    check_message(sysm, ch, {"text": "maintenance at noon"})
    assert sysm["user"] is None and sysm["system"] is True, sysm
    assert "system" not in hist[0] or hist[0]["system"] is False, hist[0]


# ---------------------------------------------------------------------------------------------
# Channel list, info, presence


def find_channel(listing, ch):
    found = [c for c in listing["channels"] if c.get("channel") == ch]
    assert len(found) <= 1, f"{ch} listed twice: {found}"
    return found[0] if found else None


def test_channel_list_live_counts_and_history_only(stack):
    live_ch = unique_channel()
    old_ch = unique_channel()
    new_ch = unique_channel()
    tok = stack.token("u_alice")

    async def body():
        a1 = await stack.client(stack.token("u_a", username="a"))
        a2 = await stack.client(stack.token("u_a", username="a"))
        b = await stack.client(stack.token("u_b", username="b"))
        anon = await stack.client()
        try:
            for c in (a1, a2, b, anon):
                await c.subscribe(live_ch)
            live_id = stack.publish_rest(live_ch, {"n": 0}, tok)["id"]
            old_id = stack.publish_rest(old_ch, {"n": 1}, tok)["id"]
            new_id = stack.publish_rest(new_ch, {"n": 2}, tok)["id"]

            listing = json_body(stack.http("GET", "/api/realtime/channels"), 200)
            assert listing.get("live") is True, listing
            assert isinstance(listing.get("channels"), list), listing
            assert len(listing["channels"]) <= 1000
            live = find_channel(listing, live_ch)
            assert live is not None, f"{live_ch} (4 subscribers) not listed: {listing}"
            assert (live["subscribers"], live["users"], live["anonymous"]) == (4, 2, 1), live
            assert live["last_message_id"] == live_id, live
            for ch, mid in ((old_ch, old_id), (new_ch, new_id)):
                e = find_channel(listing, ch)
                assert e is not None, f"{ch} (history only) not listed: {listing}"
                assert (e["subscribers"], e["users"], e["anonymous"]) == (0, 0, 0), e
                assert e["last_message_id"] == mid, e
            names = [c["channel"] for c in listing["channels"]]
            assert names.index(new_ch) < names.index(old_ch), "newest activity first"

            # the counts follow the subscriptions
            await a2.close()
            await anon.close()

            def counts():
                e = find_channel(json_body(stack.http("GET", "/api/realtime/channels"), 200),
                                 live_ch)
                return e and (e["subscribers"], e["users"], e["anonymous"]) == (2, 2, 0)
            wait_for(counts, what="the counts after two clients left")
        finally:
            await close_all(a1, a2, b, anon)

    run(body())


def test_channel_list_hides_private_channels_without_access(stack):
    priv = stream_channel()
    stack.publish_rest(priv, {"n": 1}, stack.token("user_123"))

    def listed(token):
        body = json_body(stack.http("GET", "/api/realtime/channels", token=token), 200)
        return find_channel(body, priv) is not None

    assert not listed(None)
    assert not listed(stack.token("u_other"))
    assert listed(stack.token("user_123"))
    assert listed(stack.token("u_s", role="streamer"))
    assert listed(stack.token("u_m", role="moderator"))


def test_channel_info_effective_settings_and_counts(stack):
    ch = stream_channel()
    mod = stack.token("u_mod", role="moderator")
    user = stack.token("user_123", username="alice")

    async def body():
        c1 = await stack.client(user)
        c2 = await stack.client(stack.token("u_s", username="s", role="streamer"))
        try:
            await c1.subscribe(ch)
            await c2.subscribe(ch)
            mid = stack.publish_rest(ch, {"n": 1}, user)["id"]
            info = json_body(stack.rest("GET", ch, token=mod), 200)
            want = {"channel": ch, "namespace": "chat", "private": True, "allow_publish": True,
                    "max_history": 100, "subscribers": 2, "users": 2, "anonymous": 0,
                    "last_message_id": mid, "live": True}
            assert {k: info.get(k) for k in want} == want, info
            assert sorted(info["allowed_roles"]) == ["moderator", "streamer"], info
            assert json_body(stack.rest("GET", ch, token=mod, encode=True), 200) == info

            # an override wins over the YAML; the rest stays as the YAML says
            r = stack.rest("PUT", ch, "settings", token=mod, json={"max_history": 10})
            after = json_body(r, 200)
            assert after["max_history"] == 10 and after["private"] is True, after
            info2 = json_body(stack.rest("GET", ch, token=mod), 200)
            assert info2["max_history"] == 10, info2
            assert {k: info2[k] for k in ("private", "allow_publish", "namespace")} == {
                "private": True, "allow_publish": True, "namespace": "chat"}, info2
            assert sorted(info2["allowed_roles"]) == ["moderator", "streamer"], info2
            # null: the YAML decides again
            r = stack.rest("PUT", ch, "settings", token=mod, json={"max_history": None})
            assert json_body(r, 200)["max_history"] == 100
        finally:
            await close_all(c1, c2)

    run(body())


def test_channel_info_of_public_channel(stack):
    ch = unique_channel()
    info = json_body(stack.rest("GET", ch), 200)
    assert info["channel"] == ch and info["namespace"] == "chat", info
    assert (info["private"], info["allow_publish"], info["max_history"]) == (False, True, 50), info
    assert info.get("allowed_roles") in ([], None), info
    assert (info["subscribers"], info["users"], info["anonymous"]) == (0, 0, 0), info
    assert info["live"] is True, info


def test_presence_matches_ws_presence(stack):
    ch = unique_channel()

    async def body():
        a1 = await stack.client(stack.token("u_a", username="anna"))
        a2 = await stack.client(stack.token("u_a", username="anna"))
        b = await stack.client(stack.token("u_b", username="ben"))
        anon1 = await stack.client()
        anon2 = await stack.client()
        try:
            for c in (a1, a2, b, anon1, anon2):
                await c.subscribe(ch)
            ws = (await anon1.ok({"type": "presence", "channel": ch}))["data"]
            rest = json_body(stack.rest("GET", ch, "presence"), 200)
            by_id = lambda p: sorted(p["users"], key=lambda u: u["id"])  # noqa: E731
            assert rest["channel"] == ch and rest["anonymous"] == 2, rest
            assert by_id(rest) == [{"id": "u_a", "username": "anna", "connections": 2},
                                   {"id": "u_b", "username": "ben", "connections": 1}], rest
            assert by_id(rest) == by_id(ws) and rest["anonymous"] == ws["anonymous"], (rest, ws)
            await b.close()
            wait_for(lambda: [u["id"] for u in json_body(
                stack.rest("GET", ch, "presence", encode=True), 200)["users"]] == ["u_a"],
                what="presence after ben left")
        finally:
            await close_all(a1, a2, b, anon1, anon2)

    run(body())


# ---------------------------------------------------------------------------------------------
# golive-pushd down: REST writes still succeed; live data is unavailable; clients catch up


def test_rest_while_pushd_is_down(make_stack):
    st = make_stack(api=True)
    ch = unique_channel()
    tok = st.token("u_alice", username="alice")
    mod = st.token("u_mod", role="moderator")

    async def body():
        sub = await st.client(st.token("u_carol"))
        try:
            await sub.subscribe(ch)
            first = st.publish_rest(ch, {"n": 0}, tok)
            assert first["pushed"] is True, first
            await sub.recv_until(is_message(ch, first["id"]))
        finally:
            await sub.close()

        rc, _ = st.stop_pushd()
        assert rc == 0, f"pushd exit code {rc}"

        t0 = time.monotonic()
        r = st.rest("POST", ch, "publish", token=tok, json={"data": {"n": 1}})
        took = time.monotonic() - t0
        down = json_body(r, 200)
        assert took < 1.0, f"REST publish took {took:.2f}s with pushd down"
        check_publish_reply(down, ch, pushed=False)
        rows = st.db_messages(ch)
        assert [r["id"] for r in rows] == [first["id"], down["id"]], rows

        # other writes too
        t0 = time.monotonic()
        gone = st.publish_rest(ch, {"n": "to delete"}, tok)
        d = json_body(st.rest("DELETE", ch, "messages", gone["id"], token=mod), 200)
        assert d["deleted"] is True and d["pushed"] is False, d
        assert time.monotonic() - t0 < 2.0

        # live-only data: 503
        expect_error(st.rest("GET", ch, "presence"), 503)
        # the list still answers, from history
        listing = json_body(st.http("GET", "/api/realtime/channels"), 200)
        assert listing["live"] is False, listing
        e = find_channel(listing, ch)
        assert e is not None, listing
        assert (e["subscribers"], e["users"], e["anonymous"]) == (0, 0, 0), e
        assert e["last_message_id"] == gone["id"], e
        info = json_body(st.rest("GET", ch), 200)
        assert info["live"] is False and info["subscribers"] == 0, info
        assert [m["id"] for m in st.history_rest(ch)] == [first["id"], down["id"]]

        st.start_pushd()
        c2 = await st.client(st.token("u_carol"))
        try:
            r = await c2.subscribe(ch, since=first["id"])
            assert r["data"]["recovered"] == 1, r
            m = await c2.recv_until(is_message(ch))
            assert m["id"] == down["id"] and m["data"] == {"n": 1}, m
            await c2.expect_no_message(pred=is_message(ch))

            # golive-api reaches the new pushd again
            wait_for(lambda: json_body(st.http("GET", "/api/realtime/channels"), 200)["live"],
                     timeout=5, what="GET /channels live again")
            again = st.publish_rest(ch, {"n": 2}, tok)
            assert again["pushed"] is True, again
            m = await c2.recv_until(is_message(ch))
            assert m["id"] == again["id"], m
        finally:
            await c2.close()

    run(body())
