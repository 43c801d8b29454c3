"""Chat-wide moderation (docs/moderation.md "Clear chat, pin, remove a user's messages")
through the real stack: clear chat tells every subscriber and hides the messages from history
and since replay; one pinned message per channel, shown in the subscribe reply and channel info
until unpinned or deleted; ban and timeout with "delete_messages": true remove the user's recent
messages live; each is audited and only the channel's moderators may do it."""
import json

from conftest import close_all, expect_error, is_event, json_body, run
from test_channel_roles import a_stream, chan, path, viewer

STACK_API = True
STACK_CONFIG = {"channels": [{"pattern": "chat:stream_*"}, {"pattern": "public:*"}]}


def say(stack, name, tok, text):
    return json_body(stack.http("POST", path(name, "publish"), token=tok,
                                json={"data": {"content": text}}))["id"]


def history_ids(stack, name):
    return [m["id"] for m in json_body(stack.http("GET", path(name, "history")))["messages"]]


def audit_rows(stack, ch, action):
    return stack.db_rows("SELECT target_user, message_id, actor_id, detail FROM moderation_log "
                         "WHERE channel = ? AND action = ? ORDER BY id", (ch, action))


def test_clear_chat_tells_subscribers_and_empties_history_and_replay(stack):
    name, owner, otok = a_stream(stack)
    _, vtok = viewer(stack)
    ch = chan(name)
    ids = [say(stack, name, vtok, f"m{i}") for i in range(3)]
    expect_error(stack.http("POST", path(name, "clear"), token=vtok), 403)

    async def body():
        w = await stack.client()
        try:
            await w.subscribe(ch)
            out = json_body(stack.http("POST", path(name, "clear"), token=otok))
            assert out == {"channel": ch, "through_id": ids[-1], "cleared": 3,
                           "pushed": True}, out
            ev = await w.recv_until(is_event("chat_cleared", ch))
            assert ev["through_id"] == ids[-1], ev
        finally:
            await w.close()
    run(body())
    assert history_ids(stack, name) == []
    after = say(stack, name, vtok, "after the clear")
    assert history_ids(stack, name) == [after]

    async def replay():
        c = await stack.client()
        try:
            r = await c.ok({"type": "subscribe", "channel": ch, "since": 0})
            assert r["data"]["recovered"] == 1, r
            m = await c.recv_until(lambda x: x.get("type") == "message")
            assert m["id"] == after, m
        finally:
            await c.close()
    run(replay())
    rows = stack.db_rows("SELECT deleted_by FROM messages WHERE channel = ? AND id <= ?",
                         (ch, ids[-1]))
    assert [r["deleted_by"] for r in rows] == [owner] * 3, rows
    [row] = audit_rows(stack, ch, "clear_chat")
    assert row["actor_id"] == owner and json.loads(row["detail"]) == {
        "through_id": ids[-1], "count": 3}, row


def test_one_pinned_message_in_the_subscribe_reply_and_channel_info(stack):
    name, owner, otok = a_stream(stack)
    mod, modtok = viewer(stack)
    _, vtok = viewer(stack)
    ch = chan(name)
    json_body(stack.http("PUT", path(name, "moderators", mod), token=otok))
    first, second = say(stack, name, vtok, "rules: be nice"), say(stack, name, vtok, "schedule")
    assert json_body(stack.http("GET", path(name)))["pinned"] is None
    expect_error(stack.http("PUT", path(name, "pin"), token=vtok, json={"message_id": first}), 403)
    for bad in ({"message_id": "1"}, {"message_id": 0}, {}):
        expect_error(stack.http("PUT", path(name, "pin"), token=modtok, json=bad), 400)
    expect_error(stack.http("PUT", path(name, "pin"), token=modtok,
                            json={"message_id": 999999}), 404)

    async def body():
        w = await stack.client()
        try:
            await w.subscribe(ch)
            json_body(stack.http("PUT", path(name, "pin"), token=modtok,
                                 json={"message_id": first}))
            ev = await w.recv_until(is_event("message_pinned", ch))
            assert ev["message"]["id"] == first and ev["message"]["data"] == {
                "content": "rules: be nice"}, ev
            json_body(stack.http("PUT", path(name, "pin"), token=modtok,
                                 json={"message_id": second}))  # replaces the pin
            await w.recv_until(is_event("message_pinned", ch))
            n = await stack.client()
            try:
                r = await n.ok({"type": "subscribe", "channel": ch})
                assert r["data"]["pinned"]["id"] == second, r
            finally:
                await n.close()
            info = json_body(stack.http("GET", path(name)))
            assert info["pinned"]["id"] == second and info["pinned"]["type"] == "message", info
            json_body(stack.http("DELETE", path(name, "pin"), token=modtok))
            await w.recv_until(is_event("message_unpinned", ch))
            expect_error(stack.http("DELETE", path(name, "pin"), token=modtok), 404)
            # a deleted message is no longer shown pinned
            json_body(stack.http("PUT", path(name, "pin"), token=modtok,
                                 json={"message_id": first}))
            json_body(stack.http("DELETE", path(name, "messages", str(first)), token=modtok))
            n = await stack.client()
            try:
                r = await n.ok({"type": "subscribe", "channel": ch})
                assert "pinned" not in r["data"], r
            finally:
                await n.close()
        finally:
            await w.close()
    run(body())
    assert json_body(stack.http("GET", path(name)))["pinned"] is None
    assert [r["message_id"] for r in audit_rows(stack, ch, "pin")] == [first, second, first]
    assert len(audit_rows(stack, ch, "unpin")) == 1


def test_ban_and_timeout_with_delete_messages_remove_the_users_recent_messages(stack):
    name, owner, otok = a_stream(stack)
    spammer, stok = viewer(stack)
    other, otherk = viewer(stack)
    ch = chan(name)
    spam = [say(stack, name, stok, f"spam {i}") for i in range(3)]
    kept = say(stack, name, otherk, "a normal message")

    async def body():
        w = await stack.client()
        try:
            await w.subscribe(ch)
            r = stack.http("POST", path(name, "users", spammer, "timeout"), token=otok,
                           json={"duration": 60, "delete_messages": True, "reason": "spam"})
            json_body(r)
            ev = await w.recv_until(is_event("user_timeout", ch))
            assert ev["user_id"] == spammer, ev
            assert sorted(ev["message_ids"]) == spam, ev
        finally:
            await w.close()
    run(body())
    assert history_ids(stack, name) == [kept]
    [row] = audit_rows(stack, ch, "timeout")
    assert json.loads(row["detail"]) == {"duration": 60, "deleted_messages": 3}, row
    # a ban without it deletes nothing; with it, none are left to delete: an empty list
    json_body(stack.http("POST", path(name, "users", other, "ban"), token=otok, json={}))
    assert history_ids(stack, name) == [kept]
    json_body(stack.http("POST", path(name, "users", other, "ban"), token=otok,
                         json={"delete_messages": True}))
    assert history_ids(stack, name) == []
    rows = audit_rows(stack, ch, "ban")
    assert [r["detail"] and json.loads(r["detail"]) for r in rows] == [
        None, {"deleted_messages": 1}], rows
    expect_error(stack.http("POST", path(name, "users", other, "ban"), token=otok,
                            json={"delete_messages": "yes"}), 400)
