"""Streaming REST through nginx -> golive-api -> SQLite -> pushd: stream keys, the media
server's auth hook (MediaMTX JSON, nginx-rtmp forms), webhooks announcing a stream in its chat,
the live stream list and channel info. The media server itself is exercised end to end in
test_streaming_media.py; here its requests are sent as it sends them."""

import hashlib
import os
import uuid

from conftest import (HOOK_SECRET, ISO_Z, expect_error, is_message, json_body, make_token, run,
                      close_all)

STACK_API = True

HOOK = {"X-GoLive-Secret": HOOK_SECRET}
FORM = "application/x-www-form-urlencoded"


def rows_of(stack, sql, params=()):
    return [tuple(r.values()) for r in stack.db_rows(sql, params)]


def fresh_name():
    return "s" + uuid.uuid4().hex[:10]


def streamer(stack, sub=None, username=None, **kw):
    sub = sub or "u_" + uuid.uuid4().hex[:8]
    kw.setdefault("permissions", ["stream.create", "chat.publish"])
    return sub, stack.token(sub, username=username or sub, **kw)


def create_key(stack, token, name=None, status=201):
    body = {} if name is None else {"stream_name": name}
    return json_body(stack.http("POST", "/api/streaming/keys", token=token, json=body), status)


def hook(stack, path, body, headers=HOOK, **kw):
    return stack.http("POST", f"/api/streaming/{path}", json=body, headers=headers, **kw)


def rtmp_form(stack, path, fields, secret=HOOK_SECRET, extra_query=""):
    """A notification as nginx-rtmp sends it: a form POST, the secret in the URL."""
    form = {"app": "live", "flashver": "FMLE/3.0", "tcurl": "rtmp://127.0.0.1/live",
            "addr": "127.0.0.1", "clientid": "7", "type": "live"}
    form.update(fields)
    return stack.http("POST", f"/api/streaming/{path}?secret={secret}{extra_query}", data=form,
                      headers={"Content-Type": FORM})


def viewer_token(stack):
    return stack.token("mod_" + uuid.uuid4().hex[:6], role="moderator")


# ---- stream keys --------------------------------------------------------------------------


def test_creating_a_key_needs_a_token_and_the_permission(stack):
    expect_error(stack.http("POST", "/api/streaming/keys", json={}), 401, "unauthorized")
    plain = stack.token("u_plain", permissions=["chat.publish"])
    expect_error(stack.http("POST", "/api/streaming/keys", token=plain, json={}), 403, "forbidden")
    # the streamer role alone is enough, as is the stream.create permission
    by_role = stack.token("u_role_" + uuid.uuid4().hex[:6], role="streamer")
    create_key(stack, by_role, fresh_name())


def test_a_new_key_is_random_shown_once_and_stored_as_a_hash(stack):
    sub, tok = streamer(stack, username="Alice" + uuid.uuid4().hex[:6])
    k = create_key(stack, tok)
    assert k["stream_name"].startswith("alice")
    assert k["key"].startswith("sk_") and len(k["key"]) == 67
    assert k["channel"] == "chat:stream_" + k["stream_name"]
    assert k["hls_url"].endswith(f"/live/{k['stream_name']}/index.m3u8")
    assert k["rtmp_url"].startswith("rtmp://")
    assert ISO_Z.match(k["created_at"])
    assert rows_of(stack, "SELECT key_hash, user_id FROM stream_keys WHERE id = ?", (k["id"],)) == [(hashlib.sha256(k["key"].encode()).hexdigest(), sub)]
    # the key itself is nowhere in the database file
    with open(stack.db_path, "rb") as f:
        assert k["key"].encode() not in f.read()
    k2 = create_key(stack, streamer(stack)[1], fresh_name())
    assert k2["key"] != k["key"]


def test_stream_names_are_checked(stack):
    _, tok = streamer(stack)
    for bad, why in [("Alice", "a-z"), ("sk_mine", "sk_"), ("a/b", "a-z"), ("", "1 to 48"),
                     ("x" * 49, "1 to 48"), ("a b", "a-z")]:
        r = stack.http("POST", "/api/streaming/keys", token=tok, json={"stream_name": bad})
        assert why in expect_error(r, 400, "bad_request")["message"], bad
    expect_error(stack.http("POST", "/api/streaming/keys", token=tok, json={"stream_name": 5}),
                 400)
    # a username that is no stream name needs an explicit one
    tok2 = stack.token("u_x", username="Zoë Z", permissions=["stream.create"])
    r = stack.http("POST", "/api/streaming/keys", token=tok2, json={})
    assert "stream_name" in expect_error(r, 400)["message"]


def test_a_stream_name_has_one_owner_and_one_active_key(stack):
    name = fresh_name()
    _, alice = streamer(stack)
    _, bob = streamer(stack)
    k1 = create_key(stack, alice, name)
    assert "revoke it first" in expect_error(
        stack.http("POST", "/api/streaming/keys", token=alice, json={"stream_name": name}),
        409, "conflict")["message"]
    assert "another user" in expect_error(
        stack.http("POST", "/api/streaming/keys", token=bob, json={"stream_name": name}),
        409)["message"]
    json_body(stack.http("DELETE", f"/api/streaming/keys/{k1['id']}", token=alice))
    k2 = create_key(stack, alice, name)  # rotation: revoke, then a new key
    assert k2["key"] != k1["key"]
    expect_error(stack.http("POST", "/api/streaming/keys", token=bob, json={"stream_name": name}),
                 409)


def test_listing_and_revoking_keys(stack):
    alice_id, alice = streamer(stack)
    _, bob = streamer(stack)
    ka = create_key(stack, alice, fresh_name())
    kb = create_key(stack, bob, fresh_name())
    mine = json_body(stack.http("GET", "/api/streaming/keys", token=alice))["keys"]
    assert [k["id"] for k in mine] == [ka["id"]]
    assert mine[0]["active"] is True and mine[0]["revoked_at"] is None
    assert "key" not in mine[0] and "key_hash" not in mine[0]
    expect_error(stack.http("GET", "/api/streaming/keys", token=bob,
                            params={"user_id": alice_id}), 403)
    admin = stack.token("root_1", role="admin")
    every = {k["id"] for k in json_body(stack.http("GET", "/api/streaming/keys",
                                                    token=admin))["keys"]}
    assert {ka["id"], kb["id"]} <= every
    # bob cannot revoke alice's key: it is not his (404, nothing said about whose it is)
    expect_error(stack.http("DELETE", f"/api/streaming/keys/{ka['id']}", token=bob), 404)
    expect_error(stack.http("DELETE", "/api/streaming/keys/abc", token=alice), 400)
    # ids are digits only, as message ids: no sign, no blank, no leading zero, none past 2^63-1
    for bad in (f"+{ka['id']}", f"%20{ka['id']}", f"0{ka['id']}", "9223372036854775808"):
        expect_error(stack.http("DELETE", f"/api/streaming/keys/{bad}", token=alice), 400)
    # a user_id longer than any user id is refused, not cut to one that might exist
    expect_error(stack.http("GET", "/api/streaming/keys", token=admin,
                            params={"user_id": alice_id + "x" * 200}), 400)
    expect_error(stack.http("DELETE", f"/api/streaming/keys/{ka['id']}"), 401)
    r = json_body(stack.http("DELETE", f"/api/streaming/keys/{ka['id']}", token=alice))
    assert r["revoked"] is True and r["already_revoked"] is False
    r = json_body(stack.http("DELETE", f"/api/streaming/keys/{ka['id']}", token=alice))
    assert r["already_revoked"] is True
    row = rows_of(stack, "SELECT revoked_at IS NOT NULL, revoked_by FROM stream_keys WHERE id = ?",
                        (ka["id"],))
    assert row == [(1, alice_id)]
    # an admin may revoke anyone's
    assert json_body(stack.http("DELETE", f"/api/streaming/keys/{kb['id']}", token=admin))[
        "revoked"]


# ---- the hook secret ----------------------------------------------------------------------


def test_hooks_refuse_a_missing_or_wrong_secret(stack):
    body = {"event": "stream_started", "stream_key": "abc123", "user_id": "streamer_456"}
    for path in ("webhook", "auth"):
        r = hook(stack, path, body, headers={})
        assert "secret" in expect_error(r, 401, "unauthorized")["message"]
        expect_error(hook(stack, path, body, headers={"X-GoLive-Secret": "nope"}), 401)
        expect_error(hook(stack, path, body, headers={"X-GoLive-Secret": HOOK_SECRET + "x"}), 401)
        expect_error(stack.http("POST", f"/api/streaming/{path}?secret=nope", json=body), 401)
    # nothing was recorded
    assert rows_of(stack, "SELECT COUNT(*) FROM streams WHERE stream_name = 'abc123'") == [(0,)]


def test_hooks_are_off_without_a_configured_secret(make_stack):
    st = make_stack(api=True, env={"GOLIVE_WEBHOOK_SECRET": ""})
    r = hook(st, "webhook", {"event": "stream_started", "stream_key": "abc"})
    assert "GOLIVE_WEBHOOK_SECRET" in expect_error(r, 503, "unavailable")["message"]
    assert "GOLIVE_WEBHOOK_SECRET" in st.api_log()


def test_hook_secret_is_not_written_to_the_log(stack):
    rtmp_form(stack, "auth", {"call": "play", "name": "x"})
    assert HOOK_SECRET not in stack.api_log()
    assert "secret=***" in stack.api_log()


# ---- the webhook (seed body) --------------------------------------------------------------


def test_webhook_announces_start_and_end_in_the_stream_chat(stack):
    sub, tok = streamer(stack, username="Carol")
    name = fresh_name()
    k = create_key(stack, tok, name)
    channel = f"chat:stream_{name}"

    async def body():
        viewer = await stack.client(viewer_token(stack))
        owner = await stack.client(tok)  # the owner may read its private stream chat
        await viewer.subscribe(channel)
        await owner.subscribe(channel)
        r = json_body(hook(stack, "webhook", {"event": "stream_started", "stream_key": k["key"],
                                              "user_id": sub}))
        assert r["changed"] is True and r["pushed"] is True
        assert r["stream"]["live"] is True and r["stream"]["name"] == name
        for c in (viewer, owner):
            m = await c.recv_until(is_message(channel))
            assert m["id"] == r["message_id"] and m["user"] is None and m.get("system") is True
            assert m["data"]["type"] == "stream_started"
            assert m["data"]["text"] == "Carol is live"
            assert m["data"]["hls_url"] == k["hls_url"]
        # a repeated hook changes nothing and says nothing
        again = json_body(hook(stack, "webhook", {"event": "stream_started",
                                                  "stream_key": k["key"]}))
        assert again["changed"] is False and again["message_id"] is None
        await viewer.expect_no_message(0.3, is_message(channel))
        live = json_body(stack.http("GET", "/api/streaming/streams"))["streams"]
        mine = [s for s in live if s["name"] == name]
        assert mine and mine[0]["hls_url"] == k["hls_url"] and mine[0]["user_id"] == sub
        assert mine[0]["channel"] == channel and ISO_Z.match(mine[0]["started_at"])
        info = json_body(stack.http("GET", f"/api/realtime/channels/{channel}",
                                    token=viewer_token(stack)))
        assert info["stream"]["live"] is True and info["stream"]["name"] == name
        # the seed's stream_stopped, naming the stream by its public name
        r = json_body(hook(stack, "webhook", {"event": "stream_stopped", "stream": name}))
        assert r["changed"] is True and r["stream"]["live"] is False
        m = await viewer.recv_until(is_message(channel))
        assert m["data"]["type"] == "stream_stopped" and m["data"]["text"] == "Carol's stream ended"
        assert name not in [s["name"] for s in
                            json_body(stack.http("GET", "/api/streaming/streams"))["streams"]]
        one = json_body(stack.http("GET", f"/api/streaming/streams/{name}"))
        assert one["live"] is False and ISO_Z.match(one["ended_at"])
        await close_all(viewer, owner)

    run(body())
    # both announcements are in history, as system messages
    rows = rows_of(stack, "SELECT user_id, kind FROM messages WHERE channel = ? ORDER BY id",
                         (channel,))
    assert rows == [(None, "system"), (None, "system")]
    assert rows_of(stack, "SELECT status FROM streams WHERE stream_name = ?", (name,)) == [
        ("ended",)]


def test_webhook_bad_bodies(stack):
    sub, tok = streamer(stack)
    k = create_key(stack, tok, fresh_name())
    expect_error(hook(stack, "webhook", {"event": "stream_paused", "stream_key": k["key"]}), 400)
    expect_error(hook(stack, "webhook", {"stream_key": k["key"]}), 400)
    expect_error(hook(stack, "webhook", {"event": "stream_started"}), 400)
    expect_error(hook(stack, "webhook", {"event": "stream_started", "stream_key": 7}), 400)
    expect_error(hook(stack, "webhook", {"event": "stream_started", "stream_key": k["key"],
                                         "user_id": 5}), 400)
    expect_error(hook(stack, "webhook", {"event": "stream_started", "stream_key": k["key"],
                                         "user_id": "someone_else"}), 403)
    expect_error(hook(stack, "webhook", {"event": "stream_started",
                                         "stream_key": "sk_" + "0" * 64}), 404)
    expect_error(hook(stack, "webhook", {"event": "stream_started", "stream": "nobody-here"}),
                 404)
    expect_error(stack.http("POST", "/api/streaming/webhook", data=b"event=x",
                            headers={**HOOK, "Content-Type": "text/plain"}), 400)
    expect_error(stack.http("POST", "/api/streaming/webhook", data=b"{bad json",
                            headers={**HOOK, "Content-Type": "application/json"}), 400)
    # a revoked key starts nothing, even when its stream has a newer key
    json_body(stack.http("DELETE", f"/api/streaming/keys/{k['id']}", token=tok))
    create_key(stack, tok, k["stream_name"])
    assert "revoked" in expect_error(hook(stack, "webhook", {"event": "stream_started",
                                                             "stream_key": k["key"]}),
                                     403)["message"]


# ---- MediaMTX's auth request ----------------------------------------------------------------


def mediamtx_auth(stack, action, path, query="", user="", password="", token=""):
    """The JSON body MediaMTX (v1.21) posts to authHTTPAddress."""
    return hook(stack, "auth", {"user": user, "password": password, "token": token,
                                "ip": "127.0.0.1", "action": action, "path": path,
                                "protocol": "rtmp", "id": str(uuid.uuid4()), "query": query})


def test_mediamtx_auth_opens_reading_and_checks_publishing(stack):
    _, tok = streamer(stack)
    name = fresh_name()
    k = create_key(stack, tok, name)
    other = create_key(stack, streamer(stack)[1], fresh_name())
    for action in ("read", "playback"):
        json_body(mediamtx_auth(stack, action, f"live/{name}"))
    json_body(mediamtx_auth(stack, "publish", f"live/{name}", query=f"key={k['key']}"))
    json_body(mediamtx_auth(stack, "publish", f"live/{name}", password=k["key"]))
    json_body(mediamtx_auth(stack, "publish", f"live/{name}", token=k["key"]))
    expect_error(mediamtx_auth(stack, "publish", f"live/{name}"), 403)
    expect_error(mediamtx_auth(stack, "publish", f"live/{name}", query="key=sk_" + "1" * 64), 403)
    expect_error(mediamtx_auth(stack, "publish", f"live/{name}", query=f"key={other['key']}"),
                 403)
    expect_error(mediamtx_auth(stack, "publish", name, query=f"key={k['key']}"), 403)
    for action in ("api", "metrics", "pprof"):
        expect_error(mediamtx_auth(stack, action, ""), 403)
    expect_error(hook(stack, "auth", {"path": f"live/{name}"}), 400)
    # a revoked key no longer publishes
    json_body(stack.http("DELETE", f"/api/streaming/keys/{k['id']}", token=tok))
    expect_error(mediamtx_auth(stack, "publish", f"live/{name}", query=f"key={k['key']}"), 403)


# ---- nginx-rtmp's notifications -------------------------------------------------------------


def test_nginx_rtmp_publish_with_the_key_renames_to_the_public_name(stack):
    sub, tok = streamer(stack, username="Dave")
    name = fresh_name()
    k = create_key(stack, tok, name)
    r = rtmp_form(stack, "auth", {"call": "publish", "name": k["key"]})
    assert r.status_code == 302 and r.headers["Location"] == name
    assert json_body(stack.http("GET", f"/api/streaming/streams/{name}"))["live"] is True
    # the relay into the packaging stage is admitted while the stream is live
    assert rtmp_form(stack, "auth", {"call": "publish", "name": name},
                     extra_query="&relay=1").status_code == 200
    # the periodic update keeps it going while its key stands
    assert rtmp_form(stack, "auth", {"call": "update_publish", "name": name}).status_code == 200
    json_body(stack.http("DELETE", f"/api/streaming/keys/{k['id']}", token=tok))
    expect_error(rtmp_form(stack, "auth", {"call": "update_publish", "name": name}), 403)
    # a new key does not rescue the session the revoked one opened
    create_key(stack, tok, name)
    expect_error(rtmp_form(stack, "auth", {"call": "update_publish", "name": name}), 403)
    r = json_body(rtmp_form(stack, "webhook", {"call": "publish_done", "name": name}))
    assert r["changed"] is True and r["stream"]["live"] is False
    expect_error(rtmp_form(stack, "auth", {"call": "publish", "name": name},
                           extra_query="&relay=1"), 403)


def test_nginx_rtmp_publish_by_name_with_key_argument(stack):
    _, tok = streamer(stack)
    name = fresh_name()
    k = create_key(stack, tok, name)
    expect_error(rtmp_form(stack, "auth", {"call": "publish", "name": name}), 403)
    expect_error(rtmp_form(stack, "auth", {"call": "publish", "name": name,
                                           "key": "sk_" + "2" * 64}), 403)
    r = json_body(rtmp_form(stack, "auth", {"call": "publish", "name": name, "key": k["key"]}))
    assert r["changed"] is True and r["stream"]["live"] is True
    json_body(rtmp_form(stack, "webhook", {"call": "publish_done", "name": name}))


def test_nginx_rtmp_other_calls(stack):
    for call in ("play", "play_done", "update_play", "done"):
        json_body(rtmp_form(stack, "auth", {"call": call, "name": "anything"}))
    expect_error(rtmp_form(stack, "auth", {"call": "record_done", "name": "x"}), 400)
    expect_error(rtmp_form(stack, "auth", {"call": "publish", "name": "sk_" + "3" * 64}), 403)
    expect_error(rtmp_form(stack, "auth", {"call": "publish", "name": "../etc"}), 403)
    expect_error(rtmp_form(stack, "webhook", {"call": "publish_done", "name": "never-made"}), 404)
    expect_error(rtmp_form(stack, "auth", {"call": "play"}, secret="wrong"), 401)


def test_stream_routes_errors(stack):
    expect_error(stack.http("GET", "/api/streaming/streams/Bad*Name"), 400)
    expect_error(stack.http("GET", "/api/streaming/streams/nobody-at-all"), 404)
    expect_error(stack.http("GET", "/api/streaming/nothing"), 404)
    r = stack.http("PUT", "/api/streaming/streams")
    expect_error(r, 405)
    assert r.headers["Allow"] == "GET, OPTIONS"
    bad = make_token("u_bad", secret="another-secret", permissions=["stream.create"])
    expect_error(stack.http("POST", "/api/streaming/keys", token=bad, json={}), 401)
    # a channel that is not a stream's says nothing about streams
    info = json_body(stack.http("GET", "/api/realtime/channels/public:nostream"))
    assert "stream" not in info
    # a stream channel without any key says so with null
    info = json_body(stack.http("GET", "/api/realtime/channels/chat:stream_nokey",
                                token=viewer_token(stack)))
    assert info["stream"] is None


# ---- schema upgrade -----------------------------------------------------------------------

V1_STREAM_TABLES = """
CREATE TABLE IF NOT EXISTS stream_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT, user_id TEXT NOT NULL,
    stream_name TEXT NOT NULL UNIQUE, key_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL, revoked_at TEXT);
CREATE TABLE IF NOT EXISTS streams (
    stream_name TEXT PRIMARY KEY, user_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('live', 'ended')), started_at TEXT, ended_at TEXT);
"""


def test_a_version_1_database_is_upgraded_in_place_keeping_its_history(make_stack, tmp_path):
    """Databases made before streaming (schema version 1) get the new stream tables; chat
    history and moderation rows stay."""
    import sqlite3
    from conftest import old_database, schema_v4
    schema = schema_v4()
    start, end = schema.index("-- Streaming."), schema.index("PRAGMA user_version")
    v1 = schema[:start] + V1_STREAM_TABLES + "PRAGMA user_version = 1;\nCOMMIT;\n"
    path = old_database(
        tmp_path, v1, "INSERT INTO messages (channel, user_id, username, data, created_at) "
        "VALUES ('public:old', 'u1', 'u1', '{\"text\":\"from v1\"}', '2026-01-01T00:00:00.000Z')")
    st = make_stack(api=True, env={"GOLIVE_DB": path})
    hist = json_body(st.http("GET", "/api/realtime/channels/public:old/history"))["messages"]
    assert [m["data"] for m in hist] == [{"text": "from v1"}]
    _, tok = streamer(st)
    create_key(st, tok, fresh_name())
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone() == (6,)
    # the history's row count, for pruning (version 6), counts the old row
    assert conn.execute("SELECT stored FROM channel_history WHERE channel = 'public:old'"
                        ).fetchone() == (1,)
    cols = [r[1] for r in conn.execute("PRAGMA table_info(streams)")]
    conn.close()
    assert "key_id" in cols and "username" in cols
    logs = st.read_log("pushd") + st.api_log()
    assert "upgraded the schema from version 1 to 2" in logs
    assert "upgraded the schema from version 2 to 3" in logs
