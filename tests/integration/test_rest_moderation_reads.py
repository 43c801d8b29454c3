"""What moderators read over REST (docs/api.md "GET /channels/{channel}/bans", ".../moderation_log"):
a channel's current bans and timeouts, and its audit log newest first with limit and before for
paging; readable by whoever may moderate the channel, and by no one else."""
import time

from conftest import expect_error, json_body, unique_channel
from test_channel_roles import a_stream, chan, path, viewer

STACK_API = True
STACK_CONFIG = {"channels": [{"pattern": "chat:stream_*"}, {"pattern": "public:*"}]}


def mod_token(stack):
    return stack.token("u_mod", username="moddy", role="moderator")


def bans(stack, ch, tok):
    return json_body(stack.rest("GET", ch, "bans", token=tok))


def log(stack, ch, tok, **params):
    return json_body(stack.rest("GET", ch, "moderation_log", token=tok, params=params or None))


def test_bans_lists_current_bans_and_timeouts_not_lifted_or_expired_ones(stack):
    ch, mod = unique_channel(), mod_token(stack)
    assert bans(stack, ch, mod) == {"channel": ch, "bans": []}
    json_body(stack.rest("POST", ch, "users", "u_b", "ban", token=mod, json={"reason": "spam"}))
    json_body(stack.rest("POST", ch, "users", "u_t", "timeout", token=mod,
                         json={"duration": 600, "reason": "calm down"}))
    json_body(stack.rest("POST", ch, "users", "u_gone", "timeout", token=mod,
                         json={"duration": 1}))
    json_body(stack.rest("POST", ch, "users", "u_lifted", "ban", token=mod, json={}))
    json_body(stack.rest("DELETE", ch, "users", "u_lifted", "ban", token=mod))
    time.sleep(1.2)
    out = bans(stack, ch, mod)
    assert out["channel"] == ch
    by_user = {b["user_id"]: b for b in out["bans"]}
    assert set(by_user) == {"u_b", "u_t"}, out
    b, t = by_user["u_b"], by_user["u_t"]
    assert (b["kind"], b["reason"], b["created_by"], b["expires_at"]) == ("ban", "spam", "u_mod",
                                                                          None), b
    assert (t["kind"], t["reason"], t["created_by"]) == ("timeout", "calm down", "u_mod"), t
    assert t["expires_at"] > t["created_at"], t
    assert set(b) == {"user_id", "kind", "reason", "created_by", "created_at", "expires_at"}
    # another channel's bans are its own
    assert bans(stack, unique_channel(), mod)["bans"] == []


def test_moderation_log_is_newest_first_and_pages_with_before(stack):
    ch, mod = unique_channel(), mod_token(stack)
    for i in range(5):
        json_body(stack.rest("POST", ch, "users", f"u_{i}", "ban", token=mod,
                             json={"reason": f"r{i}"}))
    json_body(stack.rest("POST", ch, "users", "u_9", "timeout", token=mod, json={"duration": 60}))
    out = log(stack, ch, mod)
    assert out["channel"] == ch
    entries = out["entries"]
    assert [e["target_user"] for e in entries] == ["u_9", "u_4", "u_3", "u_2", "u_1", "u_0"]
    ids = [e["id"] for e in entries]
    assert ids == sorted(ids, reverse=True), ids
    top = entries[0]
    assert set(top) == {"id", "action", "target_user", "message_id", "actor_id", "actor_name",
                        "reason", "detail", "created_at"}, top
    assert (top["action"], top["actor_id"], top["actor_name"], top["message_id"]) == (
        "timeout", "u_mod", "moddy", None), top
    assert top["detail"] == {"duration": 60}, top
    assert entries[1]["reason"] == "r4"
    page = log(stack, ch, mod, limit=2)["entries"]
    assert [e["id"] for e in page] == ids[:2]
    older = log(stack, ch, mod, limit=2, before=page[-1]["id"])["entries"]
    assert [e["id"] for e in older] == ids[2:4]
    last = log(stack, ch, mod, limit=100, before=ids[-1])["entries"]
    assert last == []


def test_the_log_names_the_deleted_message(stack):
    ch, mod = unique_channel(), mod_token(stack)
    mid = stack.publish_rest(ch, {"content": "oops"}, stack.token("u_w", role="user"))["id"]
    json_body(stack.rest("DELETE", ch, "messages", str(mid), token=mod))
    e = log(stack, ch, mod, limit=1)["entries"][0]
    assert (e["action"], e["message_id"]) == ("delete_message", mid), e


def test_limit_and_before_are_checked(stack):
    ch, mod = unique_channel(), mod_token(stack)
    for bad in ("0", "101", "x", "1.5", "-1", ""):
        expect_error(stack.rest("GET", ch, "moderation_log", token=mod,
                                params={"limit": bad}), 400)
    for bad in ("0", "-3", "abc"):
        expect_error(stack.rest("GET", ch, "moderation_log", token=mod,
                                params={"before": bad}), 400)
    assert log(stack, ch, mod, limit=100)["entries"] == []


def test_only_those_who_may_moderate_read_them(stack):
    ch = unique_channel()
    for route in ("bans", "moderation_log"):
        expect_error(stack.rest("GET", ch, route), 401)
        expect_error(stack.rest("GET", ch, route, token=stack.token("u_v", role="user")), 403)
        json_body(stack.rest("GET", ch, route,
                             token=stack.token("u_cm", permissions=["chat.moderate"])))
        json_body(stack.rest("GET", ch, route, token=stack.token("u_a", role="admin")))


def test_the_broadcaster_and_channel_moderators_read_their_chat_only(stack):
    name, owner, tok = a_stream(stack)
    other, _, _ = a_stream(stack)
    mod, modtok = viewer(stack)
    json_body(stack.http("POST", path(name, "users", "v_x", "ban"), token=tok, json={}))
    out = json_body(stack.http("GET", path(name, "bans"), token=tok))
    assert [(b["user_id"], b["created_by"]) for b in out["bans"]] == [("v_x", owner)], out
    expect_error(stack.http("GET", path(other, "moderation_log"), token=tok), 403)
    expect_error(stack.http("GET", path(name, "moderation_log"), token=modtok), 403)
    json_body(stack.http("PUT", path(name, "moderators", mod), token=tok))
    entries = json_body(stack.http("GET", path(name, "moderation_log"), token=modtok))["entries"]
    assert [e["action"] for e in entries] == ["moderator_add", "ban"], entries
    expect_error(stack.http("GET", path(other, "bans"), token=modtok), 403)
    assert chan(name) == out["channel"]
