"""Chat modes (docs/moderation.md "Chat modes") through the real stack, over WebSocket and REST:
slow mode (VIPs, channel moderators and the broadcaster exempt), members-only, unique chat,
message length in characters and bytes, blocked terms (a channel's and the YAML's global list);
set by the channel's moderators over PUT /settings or as YAML defaults per namespace and channel
rule, pushed to subscribers as a chat_modes event, shown in the subscribe reply and channel
info, audited."""
import asyncio
import json
import sqlite3
import time

from conftest import (MODES_OFF, close_all, expect_error, is_event, json_body, old_database, run,
                      schema_v4)
from test_channel_roles import a_stream, audit, chan, path, viewer

STACK_API = True
STACK_CONFIG = {
    "namespaces": [{"name": "calm", "chat_modes": {"slow_mode": 30, "unique_chat": True}}],
    "channels": [
        {"pattern": "calm:strict_*", "namespace": "calm",
         "chat_modes": {"max_message_length": 20, "blocked_terms_action": "refuse"}},
        {"pattern": "calm:*", "namespace": "calm"},
        {"pattern": "chat:stream_*"},
        {"pattern": "public:*"},
    ],
    "blocked_terms": ["free*bitcoin"],
}


def put_settings(stack, name, tok, body, status=200):
    return json_body(stack.http("PUT", path(name, "settings"), token=tok, json=body), status)


def rest_publish(stack, name, tok, text):
    return stack.http("POST", path(name, "publish"), token=tok, json={"data": {"content": text}})


async def ws_publish(c, channel, text):
    return await c.request({"type": "publish", "channel": channel, "data": {"content": text}})


def assert_refused(r, code, words=""):
    assert r["type"] == "error" and r["error"]["code"] == code, r
    assert words in r["error"]["message"], r


def test_modes_are_off_by_default_and_shown_in_channel_info_and_the_subscribe_reply(stack):
    name, _, _ = a_stream(stack)
    info = json_body(stack.http("GET", path(name)))
    assert info["chat_modes"] == MODES_OFF, info

    async def body():
        c = await stack.client()
        try:
            reply = await c.ok({"type": "subscribe", "channel": chan(name)})
            assert reply["data"]["chat_modes"] == MODES_OFF, reply
        finally:
            await c.close()
    run(body())


def test_yaml_defaults_per_namespace_and_channel_rule(stack):
    calm = json_body(stack.http("GET", "/api/realtime/channels/calm:lobby"))["chat_modes"]
    assert calm == dict(MODES_OFF, slow_mode=30, unique_chat=True), calm
    strict = json_body(stack.http("GET", "/api/realtime/channels/calm:strict_1"))["chat_modes"]
    assert strict == dict(MODES_OFF, slow_mode=30, unique_chat=True, max_message_length=20), strict


def test_slow_mode_set_by_the_broadcaster_is_pushed_enforced_on_both_paths_and_resets(stack):
    name, owner, otok = a_stream(stack)
    viewer_sub, vtok = viewer(stack)
    ch = chan(name)

    async def body():
        watcher = await stack.client()
        c = await stack.client(token=vtok)
        try:
            await watcher.subscribe(ch)
            out = put_settings(stack, name, otok, {"slow_mode": 2})
            assert out["chat_modes"]["slow_mode"] == 2, out
            ev = await watcher.recv_until(is_event("chat_modes", ch))
            assert ev["chat_modes"] == dict(MODES_OFF, slow_mode=2), ev
            first = await ws_publish(c, ch, "one")
            assert first["type"] == "publish", first
            t0 = time.monotonic()
            second = await ws_publish(c, ch, "two")
            assert_refused(second, "rate_limited", "slow mode")
            assert 1000 < second["error"]["retry_after_ms"] <= 2000, second
            # REST sees the WebSocket message: refused too, with Retry-After
            r = rest_publish(stack, name, vtok, "three")
            e = expect_error(r, 429, "rate_limited")
            assert int(r.headers["Retry-After"]) in (1, 2) and e["retry_after_ms"] > 0, r.headers
            await asyncio.sleep(2.05 - (time.monotonic() - t0))
            # the interval has passed: REST first, then WebSocket sees the REST message
            json_body(rest_publish(stack, name, vtok, "four"))
            await asyncio.sleep(0.2)  # pushd has fanned it out
            assert_refused(await ws_publish(c, ch, "five"), "rate_limited", "slow mode")
            # the broadcaster is exempt
            o = await stack.client(token=otok)
            try:
                for i in range(3):
                    assert (await ws_publish(o, ch, f"owner {i}"))["type"] == "publish"
            finally:
                await o.close()
        finally:
            await close_all(watcher, c)
    run(body())
    assert ("settings", None, owner) in audit(stack, ch), audit(stack, ch)
    detail = stack.db_rows("SELECT detail FROM moderation_log WHERE channel = ? AND "
                           "action = 'settings'", (ch,))[-1]["detail"]
    assert json.loads(detail) == {"slow_mode": 2}, detail
    row = stack.db_rows("SELECT slow_mode FROM channel_settings WHERE channel = ?", (ch,))
    assert row[0]["slow_mode"] == 2, row


def test_a_vip_and_a_channel_moderator_bypass_slow_mode_live(stack):
    name, _, otok = a_stream(stack)
    vip, viptok = viewer(stack)
    mod, modtok = viewer(stack)
    ch = chan(name)
    put_settings(stack, name, otok, {"slow_mode": 60})
    json_body(stack.http("PUT", path(name, "vips", vip), token=otok))
    json_body(stack.http("PUT", path(name, "moderators", mod), token=otok))

    async def body():
        v = await stack.client(token=viptok)
        m = await stack.client(token=modtok)
        try:
            for i in range(3):
                assert (await ws_publish(v, ch, f"vip {i}"))["type"] == "publish"
                assert (await ws_publish(m, ch, f"mod {i}"))["type"] == "publish"
            for i in range(2):
                json_body(rest_publish(stack, name, viptok, f"vip rest {i}"))
        finally:
            await close_all(v, m)
    run(body())
    # removed: the VIP is slowed down again at once
    json_body(stack.http("DELETE", path(name, "vips", vip), token=otok))

    async def after():
        v = await stack.client(token=viptok)
        try:
            assert_refused(await ws_publish(v, ch, "again"), "rate_limited", "slow mode")
        finally:
            await v.close()
    run(after())
    expect_error(rest_publish(stack, name, viptok, "again"), 429, "rate_limited")


def test_who_may_change_modes_and_what_bad_values_say(stack):
    name, _, otok = a_stream(stack)
    other, _, _ = a_stream(stack)
    mod, modtok = viewer(stack)
    _, vtok = viewer(stack)
    json_body(stack.http("PUT", path(name, "moderators", mod), token=otok))
    expect_error(stack.http("PUT", path(name, "settings"), token=vtok, json={"slow_mode": 5}), 403)
    put_settings(stack, name, modtok, {"slow_mode": 5, "unique_chat": True})
    # a channel moderator of one stream cannot change another's
    expect_error(stack.http("PUT", path(other, "settings"), token=modtok,
                            json={"slow_mode": 5}), 403)
    # the access settings stay staff-only, even next to a mode
    expect_error(stack.http("PUT", path(name, "settings"), token=otok,
                            json={"slow_mode": 1, "private": True}), 403)
    staff = stack.token("staff_1", role="moderator")
    put_settings(stack, name, staff, {"private": False, "members_only": True})
    for bad, words in [({"slow_mode": -1}, "slow_mode must be an integer from 0 to 3600"),
                       ({"slow_mode": 3601}, "0 to 3600"), ({"slow_mode": "5"}, "integer"),
                       ({"slow_mode": 1e300}, "0 to 3600"), ({"max_history": -1e300}, "1 to"),
                       ({"members_only": "yes"}, "true, false or null"),
                       ({"max_message_length": 1.5}, "integer"),
                       ({"blocked_terms": "spam"}, "array of at most 1000 strings"),
                       ({"blocked_terms": ["ok", ""]}, "blocked_terms[1]: a blocked term is 1 to"),
                       ({"blocked_terms": ["***"]}, "more than '*'"),
                       ({"blocked_terms": ["a\u0001b"]}, "control"),
                       ({"blocked_terms_action": "drop"}, "refuse"),
                       ({"slow_mod": 5}, "unknown setting 'slow_mod'")]:
        e = expect_error(stack.http("PUT", path(name, "settings"), token=staff, json=bad), 400,
                         "bad_request")
        assert words in e["message"], (bad, e)
    info = json_body(stack.http("GET", path(name)))["chat_modes"]
    assert info == dict(MODES_OFF, slow_mode=5, unique_chat=True, members_only=True), info
    # null hands a mode back to the YAML
    put_settings(stack, name, modtok, {"slow_mode": None, "unique_chat": None,
                                       "members_only": None})
    assert json_body(stack.http("GET", path(name)))["chat_modes"] == MODES_OFF


def test_members_only_lets_members_post_and_everyone_read(stack):
    name, _, otok = a_stream(stack)
    member, mtok = viewer(stack)
    vip, viptok = viewer(stack)
    _, vtok = viewer(stack)
    ch = chan(name)
    staff = stack.token("staff_2", role="moderator")
    put_settings(stack, name, otok, {"members_only": True})
    json_body(stack.http("POST", path(name, "access"), token=staff, json={"users": [member]}))
    json_body(stack.http("PUT", path(name, "vips", vip), token=otok))

    async def body():
        v = await stack.client(token=vtok)
        m = await stack.client(token=mtok)
        p = await stack.client(token=viptok)
        try:
            await v.subscribe(ch)
            assert_refused(await ws_publish(v, ch, "hello"), "forbidden", "members-only")
            assert (await ws_publish(m, ch, "member here"))["type"] == "publish"
            assert (await ws_publish(p, ch, "vip here"))["type"] == "publish"
            got = await v.recv_until(lambda x: x.get("type") == "message"
                                     and x["data"]["content"] == "vip here")
            assert got["channel"] == ch
        finally:
            await close_all(v, m, p)
    run(body())
    e = expect_error(rest_publish(stack, name, vtok, "hello"), 403, "forbidden")
    assert "members-only" in e["message"], e
    json_body(rest_publish(stack, name, mtok, "member over rest"))


def test_unique_chat_refuses_a_repeat_on_both_paths(stack):
    name, _, otok = a_stream(stack)
    _, vtok = viewer(stack)
    ch = chan(name)
    put_settings(stack, name, otok, {"unique_chat": True})

    async def body():
        c = await stack.client(token=vtok)
        try:
            before = (await c.stats())["limits"]["chat_modes_refused"]
            assert (await ws_publish(c, ch, "gg"))["type"] == "publish"
            assert_refused(await ws_publish(c, ch, "gg"), "forbidden", "unique chat")
            assert (await ws_publish(c, ch, "gg wp"))["type"] == "publish"
            after = (await c.stats())["limits"]["chat_modes_refused"]
            assert after["unique_chat"] == before["unique_chat"] + 1, (before, after)
            assert after["slow_mode"] == before["slow_mode"], (before, after)
        finally:
            await c.close()
    run(body())
    expect_error(rest_publish(stack, name, vtok, "gg"), 403, "forbidden")
    json_body(rest_publish(stack, name, vtok, "something new"))

    async def after():
        c = await stack.client(token=vtok)
        try:
            assert_refused(await ws_publish(c, ch, "something new"), "forbidden", "unique chat")
        finally:
            await c.close()
    run(after())


def test_message_length_counts_characters_of_content_and_bytes_of_data(stack):
    name, _, otok = a_stream(stack)
    _, vtok = viewer(stack)
    ch = chan(name)
    put_settings(stack, name, otok, {"max_message_length": 5, "max_message_bytes": 64})

    async def body():
        c = await stack.client(token=vtok)
        try:
            assert (await ws_publish(c, ch, "ééééé"))["type"] == "publish"  # 5 chars, 10 bytes
            assert_refused(await ws_publish(c, ch, "ééééé!"), "too_large", "6 characters long")
            r = await c.request({"type": "publish", "channel": ch,
                                 "data": {"content": "ok", "pad": "x" * 60}})
            assert_refused(r, "too_large", "this channel allows 64")
        finally:
            await c.close()
    run(body())
    e = expect_error(rest_publish(stack, name, vtok, "abcdef"), 413, "too_large")
    assert "6 characters long; this channel allows 5" in e["message"], e
    # the broadcaster is exempt from every mode
    json_body(rest_publish(stack, name, otok, "a much longer message from the streamer"))


def test_blocked_terms_channel_and_global_lists_vips_not_exempt_moderators_exempt(stack):
    name, _, otok = a_stream(stack)
    vip, viptok = viewer(stack)
    _, vtok = viewer(stack)
    ch = chan(name)
    put_settings(stack, name, otok, {"blocked_terms": ["buy*followers", "scam"]})
    json_body(stack.http("PUT", path(name, "vips", vip), token=otok))
    info = json_body(stack.http("GET", path(name)))["chat_modes"]
    assert "blocked_terms" not in info, info  # the list itself is not shown to viewers

    async def body():
        c = await stack.client(token=vtok)
        v = await stack.client(token=viptok)
        try:
            assert_refused(await ws_publish(c, ch, "BUY cheap Followers now"), "forbidden",
                           "a term this channel does not allow")
            assert_refused(await ws_publish(v, ch, "total SCAM"), "forbidden", "term")
            assert_refused(await ws_publish(c, ch, "get FREE btc and bitcoin"), "forbidden")
            assert (await ws_publish(c, ch, "followers, buy merch"))["type"] == "publish"
        finally:
            await close_all(c, v)
    run(body())
    expect_error(rest_publish(stack, name, vtok, "free bitcoin"), 403, "forbidden")
    json_body(rest_publish(stack, name, otok, "no scam here, says the streamer"))
    contents = [json.loads(r["data"])["content"] for r in stack.db_rows(
        "SELECT data FROM messages WHERE channel = ? ORDER BY id", (ch,))]
    assert contents == ["followers, buy merch", "no scam here, says the streamer"], contents


def test_a_channel_without_modes_stays_exactly_as_before(stack):
    _, vtok = viewer(stack)

    async def body():
        c = await stack.client(token=vtok)
        try:
            for i in range(3):
                assert (await ws_publish(c, "public:nomodes", "same"))["type"] == "publish"
        finally:
            await c.close()
    run(body())


def test_a_version_4_database_upgrades_keeping_its_settings(make_stack, tmp_path):
    dbp = old_database(
        tmp_path, schema_v4(),
        "INSERT INTO channel_settings (channel, private, allow_publish, max_history, "
        "allowed_roles, updated_by, updated_at) VALUES ('public:old', NULL, 0, 50, NULL, "
        "'mod_1', '2026-01-01T00:00:00.000Z')")
    st = make_stack(api=True, env={"GOLIVE_DB": dbp})
    info = json_body(st.http("GET", "/api/realtime/channels/public:old"))
    assert info["allow_publish"] is False and info["max_history"] == 50, info
    assert info["chat_modes"] == MODES_OFF, info
    staff = st.token("staff_up", role="moderator")
    out = json_body(st.http("PUT", "/api/realtime/channels/public:old/settings", token=staff,
                            json={"slow_mode": 3, "blocked_terms": ["x*y"]}))
    assert out["chat_modes"]["slow_mode"] == 3 and out["allow_publish"] is False, out
    conn = sqlite3.connect(dbp)
    try:
        row = conn.execute("SELECT slow_mode, blocked_terms, max_history FROM channel_settings "
                           "WHERE channel = 'public:old'").fetchone()
    finally:
        conn.close()
    assert (row[0], json.loads(row[1]), row[2]) == (3, ["x*y"], 50), row
    assert "upgraded the schema from version 4 to 5" in st.read_log("pushd") + st.api_log()


def test_held_messages_wait_for_a_moderator_who_approves_or_denies(stack):
    name, owner, otok = a_stream(stack)
    mod, modtok = viewer(stack)
    author, atok = viewer(stack)
    ch = chan(name)
    put_settings(stack, name, otok, {"blocked_terms": ["spam"], "blocked_terms_action": "hold"})
    json_body(stack.http("PUT", path(name, "moderators", mod), token=otok))

    async def body():
        watcher = await stack.client()
        c = await stack.client(token=atok)
        m = await stack.client(token=modtok)
        try:
            await watcher.subscribe(ch)
            await m.subscribe(ch)
            held_before = (await c.stats())["limits"]["held_for_review"]
            r = await ws_publish(c, ch, "SPAM over websocket")
            assert r["type"] == "publish" and r["data"]["held"] is True, r
            assert (await c.stats())["limits"]["held_for_review"] == held_before + 1
            ws_held = r["data"]["held_id"]
            # the channel's moderators hear of it, with what it says; other subscribers do not
            ev = await m.recv_until(is_event("message_held", ch))
            assert ev["held"]["id"] == ws_held and ev["held"]["user_id"] == author, ev
            assert ev["held"]["data"] == {"content": "SPAM over websocket"}, ev
            assert ev["held"]["term"] == "spam" and ev["held"]["status"] == "pending", ev
            rest = stack.http("POST", path(name, "publish"), token=atok,
                              data='{"data":{"content":"spam over rest","n":1.50}}',
                              headers={"Content-Type": "application/json"})
            rest_held = json_body(rest, 202)["held_id"]
            ev = await m.recv_until(is_event("message_held", ch))
            assert ev["held"]["id"] == rest_held, ev
            await watcher.expect_no_message(
                within=0.3, pred=lambda x: x.get("type") in ("message", "message_held"))
            expect_error(stack.http("GET", path(name, "held"), token=atok), 403)
            held = json_body(stack.http("GET", path(name, "held"), token=modtok))["held"]
            assert [(h["id"], h["user_id"], h["term"], h["status"]) for h in held] == [
                (ws_held, author, "spam", "pending"), (rest_held, author, "spam", "pending")], held
            out = json_body(stack.http("POST", path(name, "held", str(rest_held), "approve"),
                                       token=modtok))
            assert out["status"] == "approved" and out["pushed"] is True, out
            got = await watcher.recv_until(lambda m: m.get("type") == "message")
            assert got["id"] == out["message_id"] and got["user"]["id"] == author, got
            assert got["data"] == {"content": "spam over rest", "n": 1.50}, got
            ev = await m.recv_until(is_event("held_decided", ch))
            assert (ev["held_id"], ev["status"]) == (rest_held, "approved"), ev
            denied = json_body(stack.http("POST", path(name, "held", str(ws_held), "deny"),
                                          token=modtok))
            assert denied["status"] == "denied" and denied["pushed"] is True, denied
            ev = await m.recv_until(is_event("held_decided", ch))
            assert (ev["held_id"], ev["status"]) == (ws_held, "denied"), ev
            return ws_held, rest_held, out
        finally:
            await close_all(watcher, c, m)
    ws_held, rest_held, out = run(body())
    for verb, hid in (("deny", rest_held), ("approve", ws_held), ("approve", rest_held)):
        expect_error(stack.http("POST", path(name, "held", str(hid), verb), token=modtok), 409,
                     "conflict")
    expect_error(stack.http("POST", path(name, "held", "999999", "approve"), token=modtok), 404)
    expect_error(stack.http("POST", path(name, "held", "x", "approve"), token=modtok), 400)
    assert json_body(stack.http("GET", path(name, "held"), token=modtok))["held"] == []
    raw = stack.db_rows("SELECT data FROM messages WHERE id = ?", (out["message_id"],))[0]["data"]
    assert raw == '{"content":"spam over rest","n":1.50}', raw  # as written, held or not
    rows = stack.db_rows("SELECT action, target_user, message_id, actor_id, detail FROM "
                         "moderation_log WHERE channel = ? AND action LIKE 'held_%' ORDER BY id",
                         (ch,))
    assert [(r["action"], r["target_user"], r["message_id"], r["actor_id"]) for r in rows] == [
        ("held_approve", author, out["message_id"], mod), ("held_deny", author, None, mod)], rows
    assert json.loads(rows[0]["detail"]) == {"held_id": rest_held}
