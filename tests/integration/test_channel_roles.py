"""Who moderates a stream's chat (docs/moderation.md "Who moderates"): the broadcaster (the user
whose key owns <name>) moderates chat:stream_<name> without any global role, appoints and
removes channel moderators and VIPs over REST; a channel moderator moderates that channel and no
other; every change is in the audit log and takes effect at once; a version-3 database upgrades
keeping its audit log."""
import sqlite3
import uuid

from conftest import expect_error, json_body, old_database, schema_v4
from test_rest_streaming import create_key, fresh_name, streamer

STACK_API = True
STACK_CONFIG = {"channels": [{"pattern": "chat:stream_*"}, {"pattern": "public:*"}]}


def chan(name):
    return f"chat:stream_{name}"


def path(name, *parts):
    return "/api/realtime/channels/" + "/".join([chan(name), *parts])


def a_stream(stack):
    """A stream with a key: (name, broadcaster's sub, broadcaster's token)."""
    sub, tok = streamer(stack)
    name = fresh_name()
    create_key(stack, tok, name)
    return name, sub, tok


def viewer(stack):
    sub = "v_" + uuid.uuid4().hex[:8]
    return sub, stack.token(sub, username=sub, role="viewer")


def publish(stack, name, tok, text="hi"):
    return json_body(stack.http("POST", path(name, "publish"), token=tok,
                                json={"data": {"content": text}}))["id"]


def audit(stack, channel):
    return [(r["action"], r["target_user"], r["actor_id"]) for r in stack.db_rows(
        "SELECT action, target_user, actor_id FROM moderation_log WHERE channel = ? ORDER BY id",
        (channel,))]


def test_the_broadcaster_moderates_their_own_chat_and_no_other(stack):
    name, owner, tok = a_stream(stack)
    other, _, _ = a_stream(stack)
    _, vtok = viewer(stack)
    mid = publish(stack, name, vtok)
    json_body(stack.http("DELETE", path(name, "messages", str(mid)), token=tok))
    r = stack.http("POST", path(name, "users", "v_spam", "timeout"), token=tok,
                   json={"duration": 60})
    assert r.status_code == 200, r.text
    expect_error(stack.http("POST", path(other, "users", "v_spam", "ban"), token=tok, json={}),
                 403, "forbidden")
    # a viewer is not a broadcaster
    expect_error(stack.http("DELETE", path(name, "messages", str(mid)), token=vtok), 403)


def test_a_channel_moderator_is_appointed_moderates_that_channel_only_and_is_removed(stack):
    name, owner, tok = a_stream(stack)
    other, _, _ = a_stream(stack)
    mod, modtok = viewer(stack)
    _, vtok = viewer(stack)
    # before: the viewer may not moderate, nor see the list
    expect_error(stack.http("POST", path(name, "users", "v_x", "ban"), token=modtok, json={}), 403)
    expect_error(stack.http("GET", path(name, "moderators"), token=modtok), 403)
    # only the broadcaster (or an admin) appoints
    expect_error(stack.http("PUT", path(name, "moderators", mod), token=vtok), 403)
    out = json_body(stack.http("PUT", path(name, "moderators", mod), token=tok))
    assert out == {"channel": chan(name), "user_id": mod, "role": "moderator", "added": True,
                   "pushed": True}, out
    again = json_body(stack.http("PUT", path(name, "moderators", mod), token=tok))
    assert again["added"] is False, again  # already one: no second row, no second audit line
    listed = json_body(stack.http("GET", path(name, "moderators"), token=modtok))["moderators"]
    assert [(m["user_id"], m["granted_by"]) for m in listed] == [(mod, owner)], listed
    # effective at once, for this channel only
    mid = publish(stack, name, vtok)
    json_body(stack.http("DELETE", path(name, "messages", str(mid)), token=modtok))
    r = stack.http("POST", path(name, "users", "v_x", "ban"), token=modtok, json={"reason": "x"})
    assert r.status_code == 200, r.text
    expect_error(stack.http("POST", path(other, "users", "v_x", "ban"), token=modtok, json={}),
                 403)
    # a channel moderator does not appoint others
    expect_error(stack.http("PUT", path(name, "moderators", "v_friend"), token=modtok), 403)
    # removed: at once no more moderation; removing again is 404
    json_body(stack.http("DELETE", path(name, "moderators", mod), token=tok))
    expect_error(stack.http("POST", path(name, "users", "v_y", "ban"), token=modtok, json={}), 403)
    expect_error(stack.http("DELETE", path(name, "moderators", mod), token=tok), 404, "not_found")
    assert [a for a in audit(stack, chan(name)) if a[0].startswith("moderator_")] == [
        ("moderator_add", mod, owner), ("moderator_remove", mod, owner)]


def test_vips_are_listed_added_and_removed_with_audit(stack):
    name, owner, tok = a_stream(stack)
    vip, _ = viewer(stack)
    assert json_body(stack.http("PUT", path(name, "vips", vip), token=tok))["added"] is True
    got = json_body(stack.http("GET", path(name, "vips"), token=tok))
    assert [v["user_id"] for v in got["vips"]] == [vip], got
    json_body(stack.http("DELETE", path(name, "vips", vip), token=tok))
    assert json_body(stack.http("GET", path(name, "vips"), token=tok))["vips"] == []
    assert [a[0] for a in audit(stack, chan(name)) if a[0].startswith("vip_")] == [
        "vip_add", "vip_remove"]


def test_an_admin_appoints_anywhere_and_bad_requests_are_refused(stack):
    name, _, _ = a_stream(stack)
    admin = stack.token("u_admin_roles", role="admin")
    json_body(stack.http("PUT", path(name, "moderators", "v_someone"), token=admin))
    expect_error(stack.http("PUT", path(name, "moderators", "x" * 200), token=admin), 400)
    expect_error(stack.http("PUT", path(name, "moderators", "v_someone")), 401)
    # a channel that is not a stream's has no broadcaster: only admins appoint there
    _, vtok = viewer(stack)
    expect_error(stack.http("PUT", "/api/realtime/channels/public:lobby/moderators/v_a",
                            token=vtok), 403)
    json_body(stack.http("PUT", "/api/realtime/channels/public:lobby/moderators/v_a", token=admin))


def test_a_version_3_database_upgrades_keeping_its_audit_log(make_stack, tmp_path):
    v3 = schema_v4().replace(", 'moderator_add',\n", ",\n").replace(
        "                                                 'moderator_remove', 'vip_add', "
        "'vip_remove')),", "").replace("'broadcast',\n", "'broadcast')),\n")
    start = v3.index("-- Channel roles")
    v3 = v3[:start] + v3[v3.index("-- One row per moderation action"):]
    v3 = v3.replace("PRAGMA user_version = 4;", "PRAGMA user_version = 3;")
    assert "vip_add" not in v3 and "channel_roles" not in v3, "the v3 schema was not derived"
    dbp = old_database(
        tmp_path, v3, "INSERT INTO moderation_log (channel, action, target_user, actor_id, "
        "created_at) VALUES ('chat:stream_old', 'ban', 'u_bad', 'mod_1', "
        "'2026-01-01T00:00:00.000Z')")
    st = make_stack(api=True, env={"GOLIVE_DB": dbp})
    admin = st.token("u_admin_up", role="admin")
    json_body(st.http("PUT", "/api/realtime/channels/chat:stream_old/vips/u_v", token=admin))
    conn = sqlite3.connect(dbp)
    try:
        assert conn.execute("PRAGMA user_version").fetchone() == (6,)
        assert conn.execute("SELECT action, target_user FROM moderation_log ORDER BY id").fetchall() \
            == [("ban", "u_bad"), ("vip_add", "u_v")]
    finally:
        conn.close()
