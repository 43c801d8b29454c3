"""REST settings and access lists (docs/api.md): overrides of the YAML rules that take effect
live on WebSocket subscribers, with their rows in SQLite and their audit rows."""

import copy
import json

import pytest

from conftest import (ANON_PRIVATE, DEFAULT_CONFIG, close_all, expect_error, is_message,
                      json_body, run, unique_channel)

STACK_API = True
STACK_CONFIG = copy.deepcopy(DEFAULT_CONFIG)
STACK_CONFIG["namespaces"] += [{"name": "readonly", "max_clients": 0, "allow_publish": False}]
STACK_CONFIG["channels"] += [
    {"pattern": "announce:*", "namespace": "readonly", "private": False},
]

SETTING_KEYS = ("channel", "namespace", "private", "allow_publish", "max_history",
                "allowed_roles", "subscribers", "users", "anonymous", "live")


def mod_token(stack):
    return stack.token("u_mod", username="moddy", role="moderator")


def stream_channel():
    return "chat:stream_" + unique_channel("x").split(":")[1]


def is_unsubscribed(ch, reason):
    return lambda m: (m.get("type") == "unsubscribed" and m.get("channel") == ch
                      and m.get("reason") == reason)


def put_settings(stack, ch, body, token=None, status=200):
    r = stack.rest("PUT", ch, "settings", token=token or mod_token(stack), json=body)
    if status != 200:
        return expect_error(r, status)
    info = json_body(r, 200)
    for k in SETTING_KEYS:
        assert k in info, f"settings reply without {k!r} (it answers the channel info): {info}"
    return info


def info_of(stack, ch):
    return json_body(stack.rest("GET", ch, token=mod_token(stack)), 200)


def audit_rows(stack, ch, action):
    return stack.db_rows("SELECT * FROM moderation_log WHERE channel = ? AND action = ? "
                         "ORDER BY id", (ch, action))


# ---------------------------------------------------------------------------------------------
# Settings


def test_making_a_channel_private_revokes_live_subscribers(stack):
    ch = unique_channel()

    async def body():
        anon = await stack.client()
        eve = await stack.client(stack.token("u_eve", username="eve"))
        mod = await stack.client(stack.token("u_mod2", username="m2", role="moderator"))
        streamer = await stack.client(stack.token("u_str", username="str", role="streamer"))
        late = None
        try:
            for c in (anon, eve, mod, streamer):
                await c.subscribe(ch)
            before = info_of(stack, ch)
            assert before["private"] is False and before["subscribers"] == 4, before

            info = put_settings(stack, ch, {"private": True})
            assert info["private"] is True and info["channel"] == ch, info
            assert info == {**info_of(stack, ch), "subscribers": info["subscribers"],
                            "users": info["users"], "anonymous": info["anonymous"]}, info

            for c in (anon, eve, streamer):  # public:* has no allowed_roles: only staff remain
                ev = await c.recv_until(is_unsubscribed(ch, "access_revoked"),
                                        what="unsubscribed(access_revoked)")
                assert ev == {"type": "unsubscribed", "channel": ch,
                              "reason": "access_revoked"}, ev
            await mod.expect_no_message(pred=lambda m: m.get("type") == "unsubscribed")
            mid = await mod.publish(ch, {"n": "staff only now"})
            await mod.recv_until(is_message(ch, mid))
            await anon.expect_no_message(pred=is_message(ch))

            late = await stack.client()
            await late.error({"type": "subscribe", "channel": ch}, ANON_PRIVATE)
            await eve.error({"type": "subscribe", "channel": ch}, "forbidden")
            expect_error(stack.rest("GET", ch, "history"), 401)
            expect_error(stack.rest("GET", ch, "history", token=stack.token("u_eve")), 403)

            row = stack.db_rows("SELECT * FROM channel_settings WHERE channel = ?", (ch,))
            assert len(row) == 1 and row[0]["private"] == 1, row
            assert row[0]["updated_by"] == "u_mod", row
            logs = audit_rows(stack, ch, "settings")
            assert len(logs) == 1 and logs[0]["actor_id"] == "u_mod", logs

            # null: the YAML decides again (public)
            info = put_settings(stack, ch, {"private": None})
            assert info["private"] is False, info
            await late.subscribe(ch)
            await eve.subscribe(ch)
            json_body(stack.rest("GET", ch, "history"), 200)
            row = stack.db_rows("SELECT * FROM channel_settings WHERE channel = ?", (ch,))
            assert not row or row[0]["private"] is None, row
        finally:
            await close_all(anon, eve, mod, streamer, late)

    run(body())


def test_allow_publish_override(stack):
    ch = unique_channel()
    user = stack.token("u_pat", username="pat")

    async def body():
        pat = await stack.client(user)
        try:
            await pat.subscribe(ch)
            info = put_settings(stack, ch, {"allow_publish": False})
            assert info["allow_publish"] is False, info
            expect_error(stack.rest("POST", ch, "publish", token=user, json={"data": {}}), 403)
            await pat.error({"type": "publish", "channel": ch, "data": {}}, "forbidden")
            # staff still publish
            stack.publish_rest(ch, {"n": "staff"}, mod_token(stack))
            stack.publish_rest(ch, {"n": "admin"}, stack.token("u_a", role="admin"))
            # the user still reads
            await pat.recv_until(is_message(ch))
            assert put_settings(stack, ch, {"allow_publish": None})["allow_publish"] is True
            stack.publish_rest(ch, {"n": "user again"}, user)
            await pat.publish(ch, {"n": "ws again"})
        finally:
            await pat.close()

    run(body())


def test_allow_publish_override_can_open_a_readonly_namespace(stack):
    ch = unique_channel("announce")
    user = stack.token("u_pat")
    assert info_of(stack, ch)["allow_publish"] is False
    expect_error(stack.rest("POST", ch, "publish", token=user, json={"data": {}}), 403)
    put_settings(stack, ch, {"allow_publish": True})
    stack.publish_rest(ch, {"n": 1}, user)
    put_settings(stack, ch, {"allow_publish": None})
    expect_error(stack.rest("POST", ch, "publish", token=user, json={"data": {}}), 403)


def test_allowed_roles_override(stack):
    ch = stream_channel()  # YAML: private, roles streamer + moderator, user_123

    async def body():
        streamer = await stack.client(stack.token("u_str", username="str", role="streamer"))
        vip = await stack.client(stack.token("u_vip", username="vip", role="vip"))
        listed = await stack.client(stack.token("user_123", username="alice"))
        try:
            await streamer.subscribe(ch)
            await listed.subscribe(ch)
            await vip.error({"type": "subscribe", "channel": ch}, "forbidden")

            info = put_settings(stack, ch, {"allowed_roles": ["vip"]})
            assert info["allowed_roles"] == ["vip"] and info["private"] is True, info
            ev = await streamer.recv_until(is_unsubscribed(ch, "access_revoked"))
            assert ev["reason"] == "access_revoked", ev
            await listed.expect_no_message(pred=lambda m: m.get("type") == "unsubscribed")
            await vip.subscribe(ch)
            await streamer.error({"type": "subscribe", "channel": ch}, "forbidden")
            json_body(stack.rest("GET", ch, "history", token=stack.token("u_v2", role="vip")),
                      200)
            expect_error(stack.rest("GET", ch, "history",
                                    token=stack.token("u_s2", role="streamer")), 403)
            # moderators are staff whatever the roles say
            json_body(stack.rest("GET", ch, "history", token=mod_token(stack)), 200)

            info = put_settings(stack, ch, {"allowed_roles": None})
            assert sorted(info["allowed_roles"]) == ["moderator", "streamer"], info
            await streamer.subscribe(ch)
            ev = await vip.recv_until(is_unsubscribed(ch, "access_revoked"))
            row = stack.db_rows("SELECT * FROM channel_settings WHERE channel = ?", (ch,))
            assert not row or row[0]["allowed_roles"] is None, row
        finally:
            await close_all(streamer, vip, listed)

    run(body())


def test_max_history_override(stack):
    ch = unique_channel()
    tok = stack.token("u_alice")
    ids = [stack.publish_rest(ch, {"n": i}, tok)["id"] for i in range(5)]
    info = put_settings(stack, ch, {"max_history": 3})
    assert info["max_history"] == 3, info
    got = [m["id"] for m in stack.history_rest(ch, limit=50)]
    assert got == ids[-3:], got
    # several keys at once; the reply is the channel info
    info = put_settings(stack, ch, {"max_history": 1000000, "allow_publish": True,
                                    "private": False, "allowed_roles": []})
    assert (info["max_history"], info["allow_publish"], info["private"]) == (1000000, True,
                                                                             False), info
    assert info["allowed_roles"] == [], info


@pytest.mark.parametrize("bad", [
    {"colour": "red"}, {"private": "yes"}, {"private": 1}, {"allow_publish": "false"},
    {"max_history": 0}, {"max_history": 1000001}, {"max_history": "10"}, {"max_history": 2.5},
    {"max_history": True}, {"allowed_roles": "vip"}, {"allowed_roles": [1]},
    {"allowed_roles": {"vip": True}}, {"private": True, "bogus": None}, [], "private", 5,
], ids=lambda b: json.dumps(b)[:40])
def test_bad_settings_are_400_and_change_nothing(stack, bad):
    ch = unique_channel()
    before = info_of(stack, ch)
    put_settings(stack, ch, bad, status=400)
    assert info_of(stack, ch) == before
    assert stack.db_rows("SELECT * FROM channel_settings WHERE channel = ?", (ch,)) == []


def test_settings_need_staff(stack):
    ch = unique_channel()
    put_settings(stack, ch, {"private": True}, token=stack.token("u_user"), status=403)
    put_settings(stack, ch, {"private": True}, token=stack.token("u_s", role="streamer"),
                 status=403)
    expect_error(stack.rest("PUT", ch, "settings", json={"private": True}), 401)
    assert info_of(stack, ch)["private"] is False
    info = put_settings(stack, ch, {"private": True},
                        token=stack.token("u_adm", role="admin"))
    assert info["private"] is True


# ---------------------------------------------------------------------------------------------
# Access lists


def test_access_grant_and_revoke(stack):
    ch = stream_channel()
    mod = mod_token(stack)
    frank_t = stack.token("u_frank", username="frank")

    async def body():
        frank = await stack.client(frank_t)
        carol = await stack.client(stack.token("user_123", username="alice"))
        try:
            await carol.subscribe(ch)
            await frank.error({"type": "subscribe", "channel": ch}, "forbidden")
            expect_error(stack.rest("GET", ch, "history", token=frank_t), 403)

            r = stack.rest("POST", ch, "access", token=mod,
                           json={"users": ["u_frank", "u_gina"]})
            assert json_body(r, 200) == {"channel": ch, "added": ["u_frank", "u_gina"],
                                         "pushed": True}
            rows = stack.db_rows("SELECT user_id, added_by FROM channel_access WHERE channel = ?"
                                 " ORDER BY user_id", (ch,))
            assert rows == [{"user_id": "u_frank", "added_by": "u_mod"},
                            {"user_id": "u_gina", "added_by": "u_mod"}], rows
            logs = audit_rows(stack, ch, "access_add")
            assert logs and all(l["actor_id"] == "u_mod" for l in logs), logs

            await frank.subscribe(ch)
            mid = stack.publish_rest(ch, {"n": "for frank"}, frank_t)["id"]
            await frank.recv_until(is_message(ch, mid))
            assert mid in [m["id"] for m in stack.history_rest(ch, token=frank_t)]
            json_body(stack.rest("GET", ch, "presence", token=frank_t), 200)
            json_body(stack.rest("GET", ch, "history", token=stack.token("u_gina")), 200)

            # revoke: the live subscription ends at once
            r = stack.rest("DELETE", ch, "access", "u_frank", token=mod, encode=True)
            json_body(r, 200)
            ev = await frank.recv_until(is_unsubscribed(ch, "access_revoked"),
                                        what="unsubscribed after revoke")
            assert ev == {"type": "unsubscribed", "channel": ch, "reason": "access_revoked"}
            await carol.expect_no_message(pred=lambda m: m.get("type") == "unsubscribed")
            await frank.error({"type": "subscribe", "channel": ch}, "forbidden")
            expect_error(stack.rest("GET", ch, "history", token=frank_t), 403)
            expect_error(stack.rest("POST", ch, "publish", token=frank_t, json={"data": {}}),
                         403)
            rows = stack.db_rows("SELECT user_id FROM channel_access WHERE channel = ?", (ch,))
            assert rows == [{"user_id": "u_gina"}], rows
            logs = audit_rows(stack, ch, "access_remove")
            assert len(logs) == 1 and logs[0]["target_user"] == "u_frank", logs

            # not in the list: 404
            expect_error(stack.rest("DELETE", ch, "access", "u_frank", token=mod), 404)
            expect_error(stack.rest("DELETE", ch, "access", "u_nobody", token=mod), 404)
            # staff only
            expect_error(stack.rest("DELETE", ch, "access", "u_gina", token=frank_t), 403)
            expect_error(stack.rest("POST", ch, "access", json={"users": ["u_x"]}), 401)
            expect_error(stack.rest("POST", ch, "access", token=stack.token("user_123"),
                                    json={"users": ["u_x"]}), 403)
        finally:
            await close_all(frank, carol)

    run(body())


def test_access_list_combines_with_settings(stack):
    """A public channel made private over REST admits the users on its access list."""
    ch = unique_channel()
    mod = mod_token(stack)
    json_body(stack.rest("POST", ch, "access", token=mod, json={"users": ["u_hal"]}), 200)
    put_settings(stack, ch, {"private": True})
    json_body(stack.rest("GET", ch, "history", token=stack.token("u_hal")), 200)
    expect_error(stack.rest("GET", ch, "history", token=stack.token("u_ian")), 403)


@pytest.mark.parametrize("bad", [
    {}, {"users": []}, {"users": "u_1"}, {"users": [1]}, {"users": [None]},
    {"users": [f"u_{i}" for i in range(1001)]}, ["u_1"],
], ids=lambda b: json.dumps(b)[:40])
def test_access_bad_bodies(stack, bad):
    ch = stream_channel()
    expect_error(stack.rest("POST", ch, "access", token=mod_token(stack), json=bad), 400)
    assert stack.db_rows("SELECT * FROM channel_access WHERE channel = ?", (ch,)) == []


def test_access_accepts_1000_users(stack):
    ch = stream_channel()
    users = [f"u_{i}" for i in range(1000)]
    r = stack.rest("POST", ch, "access", token=mod_token(stack), json={"users": users})
    assert sorted(json_body(r, 200)["added"]) == sorted(users)
    n = stack.db_rows("SELECT count(*) AS n FROM channel_access WHERE channel = ?", (ch,))
    assert n == [{"n": 1000}]
