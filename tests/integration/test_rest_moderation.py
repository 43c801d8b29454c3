"""REST moderation (docs/api.md): delete, ban/unban, timeout, broadcast, with their live effects
on real WebSocket clients, their rows in SQLite and their moderation_log audit rows."""

import asyncio
import json
import time

import pytest

from conftest import (ISO_Z, close_all, expect_error, is_int, is_message, json_body,
                      parse_iso, run, unique_channel)

STACK_API = True


def mod_token(stack):
    return stack.token("u_mod", username="moddy", role="moderator")


def audit_rows(stack, ch, action=None):
    sql = "SELECT * FROM moderation_log WHERE channel = ?"
    args = [ch]
    if action:
        sql += " AND action = ?"
        args.append(action)
    return stack.db_rows(sql + " ORDER BY id", args)


def check_audit(row, action, actor_id="u_mod", actor_name="moddy", target=None, reason=None,
                message_id=None):
    assert row["action"] == action, row
    assert row["actor_id"] == actor_id, row
    assert row["actor_name"] == actor_name, row
    assert ISO_Z.match(row["created_at"]), row
    if target is not None:
        assert row["target_user"] == target, row
    if reason is not None:
        assert row["reason"] == reason, row
    if message_id is not None:
        assert row["message_id"] == message_id, row
    if row["detail"] is not None:
        json.loads(row["detail"])  # JSON when present


def is_unsubscribed(ch, reason):
    return lambda m: (m.get("type") == "unsubscribed" and m.get("channel") == ch
                      and m.get("reason") == reason)


def is_user_event(typ, ch, user_id):
    return lambda m: (m.get("type") == typ and m.get("channel") == ch
                      and m.get("user_id") == user_id)


async def ws_publish_refused(client, ch, code="forbidden"):
    await client.error({"type": "publish", "channel": ch, "data": {"x": 1}}, code)


# ---------------------------------------------------------------------------------------------
# Delete


def test_delete_message(stack):
    ch = unique_channel()
    other = unique_channel()
    mod = mod_token(stack)
    alice = stack.token("u_alice", username="alice")

    async def body():
        pub = await stack.client(alice)
        sub = await stack.client()
        try:
            await sub.subscribe(ch)
            ids = [await pub.publish(ch, {"n": i}) for i in range(3)]
            foreign = await pub.publish(other, {"n": "elsewhere"})
            for mid in ids:
                await sub.recv_until(is_message(ch, mid))

            r = stack.rest("DELETE", ch, "messages", ids[1], token=mod)
            assert json_body(r, 200) == {"channel": ch, "message_id": ids[1], "deleted": True,
                                         "pushed": True}
            ev = await sub.recv_until(lambda m: m.get("type") == "message_deleted",
                                      what="message_deleted")
            assert ev == {"type": "message_deleted", "channel": ch, "message_id": ids[1]}, ev

            # gone from REST and WS history, and from a since-replay
            assert [m["id"] for m in stack.history_rest(ch)] == [ids[0], ids[2]]
            wh = await sub.ok({"type": "history", "channel": ch})
            assert [m["id"] for m in wh["data"]["messages"]] == [ids[0], ids[2]], wh
            late = await stack.client()
            try:
                rr = await late.subscribe(ch, since=ids[0])
                assert rr["data"]["recovered"] == 1, rr
                m = await late.recv_until(is_message(ch))
                assert m["id"] == ids[2], m
            finally:
                await late.close()

            # the row stays, soft-deleted
            row = stack.db_rows("SELECT * FROM messages WHERE id = ?", (ids[1],))[0]
            assert row["deleted_at"] and ISO_Z.match(row["deleted_at"]), row
            assert row["deleted_by"] == "u_mod", row
            assert json.loads(row["data"]) == {"n": 1}
            logs = audit_rows(stack, ch, "delete_message")
            assert len(logs) == 1, logs
            check_audit(logs[0], "delete_message", message_id=ids[1])

            # deleting twice: 200 again, nothing changes
            r = stack.rest("DELETE", ch, "messages", ids[1], token=mod, encode=True)
            again = json_body(r, 200)
            assert again["deleted"] is True and again["message_id"] == ids[1], again
            row2 = stack.db_rows("SELECT * FROM messages WHERE id = ?", (ids[1],))[0]
            assert (row2["deleted_at"], row2["deleted_by"]) == (row["deleted_at"],
                                                                row["deleted_by"]), row2

            # unknown id, and the id of another channel's message: 404
            expect_error(stack.rest("DELETE", ch, "messages", 987654321, token=mod), 404)
            expect_error(stack.rest("DELETE", ch, "messages", foreign, token=mod), 404)
            assert stack.db_rows("SELECT deleted_at FROM messages WHERE id = ?",
                                 (foreign,))[0]["deleted_at"] is None
            # only staff may delete
            expect_error(stack.rest("DELETE", ch, "messages", ids[0]), 401)
            expect_error(stack.rest("DELETE", ch, "messages", ids[0], token=alice), 403)
            expect_error(stack.rest("DELETE", ch, "messages", ids[0],
                                    token=stack.token("u_s", role="streamer")), 403)
            assert [m["id"] for m in stack.history_rest(ch)] == [ids[0], ids[2]]
            # an admin may
            r = stack.rest("DELETE", ch, "messages", ids[0],
                           token=stack.token("u_adm", username="boss", role="admin"))
            assert json_body(r, 200)["deleted"] is True
            assert [m["id"] for m in stack.history_rest(ch)] == [ids[2]]
            check_audit(audit_rows(stack, ch, "delete_message")[-1], "delete_message",
                        actor_id="u_adm", actor_name="boss", message_id=ids[0])
        finally:
            await close_all(pub, sub)

    run(body())


def test_delete_rest_published_message(stack):
    ch = unique_channel()
    mid = stack.publish_rest(ch, {"n": 1}, stack.token("u_alice"))["id"]
    json_body(stack.rest("DELETE", ch, "messages", mid, token=mod_token(stack)), 200)
    assert stack.history_rest(ch) == []


# ---------------------------------------------------------------------------------------------
# Ban


def test_ban_and_unban(stack):
    ch = unique_channel()
    mod = mod_token(stack)
    bob_t = stack.token("u_bob", username="bob")

    async def body():
        bob = await stack.client(bob_t)
        bob2 = await stack.client(bob_t)
        carol = await stack.client(stack.token("u_carol", username="carol"))
        try:
            await bob.subscribe(ch)
            await carol.subscribe(ch)
            first = await bob.publish(ch, {"n": "before"})
            await bob.recv_until(is_message(ch, first))
            await carol.recv_until(is_message(ch, first))

            r = stack.rest("POST", ch, "users", "u_bob", "ban", token=mod,
                           json={"reason": "spam"})
            assert json_body(r, 200) == {"channel": ch, "user_id": "u_bob", "banned": True,
                                         "pushed": True}
            ev = await bob.recv_until(is_unsubscribed(ch, "banned"), what="unsubscribed")
            assert ev == {"type": "unsubscribed", "channel": ch, "reason": "banned"}, ev
            ev = await carol.recv_until(is_user_event("user_banned", ch, "u_bob"),
                                        what="user_banned")
            assert ev == {"type": "user_banned", "channel": ch, "user_id": "u_bob",
                          "reason": "spam"}, ev

            # refused everywhere until unbanned
            await ws_publish_refused(bob, ch)
            await bob.error({"type": "subscribe", "channel": ch}, "forbidden")
            await bob2.error({"type": "subscribe", "channel": ch}, "forbidden")
            expect_error(stack.rest("POST", ch, "publish", token=bob_t,
                                    json={"data": {"n": "rest"}}), 403)
            mid = await carol.publish(ch, {"n": "bob cannot see this"})
            await carol.recv_until(is_message(ch, mid))
            await bob.expect_no_message(pred=is_message(ch))  # no longer subscribed
            assert [json.loads(r["data"])["n"] for r in stack.db_messages(ch)] == [
                "before", "bob cannot see this"]

            rows = stack.db_rows("SELECT * FROM bans WHERE channel = ?", (ch,))
            assert len(rows) == 1, rows
            assert (rows[0]["user_id"], rows[0]["kind"], rows[0]["reason"],
                    rows[0]["created_by"]) == ("u_bob", "ban", "spam", "u_mod"), rows
            logs = audit_rows(stack, ch, "ban")
            assert len(logs) == 1, logs
            check_audit(logs[0], "ban", target="u_bob", reason="spam")

            # unban
            r = stack.rest("DELETE", ch, "users", "u_bob", "ban", token=mod, encode=True)
            json_body(r, 200)
            ev = await carol.recv_until(is_user_event("user_unbanned", ch, "u_bob"),
                                        what="user_unbanned")
            assert ev == {"type": "user_unbanned", "channel": ch, "user_id": "u_bob"}, ev
            assert stack.db_rows("SELECT * FROM bans WHERE channel = ?", (ch,)) == []
            logs = audit_rows(stack, ch, "unban")
            assert len(logs) == 1, logs
            check_audit(logs[0], "unban", target="u_bob")

            await bob.subscribe(ch)
            mid = await bob.publish(ch, {"n": "after"})
            await carol.recv_until(is_message(ch, mid))
            rid = stack.publish_rest(ch, {"n": "rest after"}, bob_t)["id"]
            await carol.recv_until(is_message(ch, rid))

            # not banned (any more): 404
            expect_error(stack.rest("DELETE", ch, "users", "u_bob", "ban", token=mod), 404)
            expect_error(stack.rest("DELETE", ch, "users", "u_never", "ban", token=mod), 404)
        finally:
            await close_all(bob, bob2, carol)

    run(body())


def test_ban_is_per_channel_and_needs_staff(stack):
    ch = unique_channel()
    other = unique_channel()
    mod = mod_token(stack)
    dan_t = stack.token("u_dan", username="dan")

    expect_error(stack.rest("POST", ch, "users", "u_dan", "ban"), 401)
    expect_error(stack.rest("POST", ch, "users", "u_dan", "ban", token=dan_t), 403)
    expect_error(stack.rest("POST", ch, "users", "u_dan", "ban",
                            token=stack.token("u_s", role="streamer")), 403)
    assert stack.db_rows("SELECT * FROM bans WHERE channel = ?", (ch,)) == []

    # no body at all is fine; an admin may ban
    r = stack.rest("POST", ch, "users", "u_dan", "ban",
                   token=stack.token("u_adm", username="boss", role="admin"))
    assert json_body(r, 200)["banned"] is True
    expect_error(stack.rest("POST", ch, "publish", token=dan_t, json={"data": {}}), 403)
    stack.publish_rest(other, {"n": 1}, dan_t)  # another channel: not banned there
    # staff cannot unban as a plain user
    expect_error(stack.rest("DELETE", ch, "users", "u_dan", "ban", token=dan_t), 403)
    json_body(stack.rest("DELETE", ch, "users", "u_dan", "ban", token=mod), 200)
    stack.publish_rest(ch, {"n": 2}, dan_t)

    # bad bodies
    expect_error(stack.rest("POST", ch, "users", "u_dan", "ban", token=mod,
                            data=b'{"reason": ', headers={"Content-Type": "application/json"}),
                 400)
    expect_error(stack.rest("POST", ch, "users", "u_dan", "ban", token=mod,
                            json={"reason": 42}), 400)
    expect_error(stack.rest("POST", ch, "users", "u_dan", "ban", token=mod, json=[1]), 400)
    assert stack.db_rows("SELECT * FROM bans WHERE channel = ?", (ch,)) == []


def test_chat_moderate_permission_opens_the_moderation_routes_only(stack):
    """docs/moderation.md: a token with the chat.moderate permission (any role) may delete,
    time out, ban and unban over REST, audited under its own sub; broadcast, settings and access
    stay with the moderator and admin roles. Without it, the same user gets 403."""
    ch = unique_channel()
    cm = stack.token("u_cm", username="chanmod", permissions=["chat.publish", "chat.moderate"])
    plain = stack.token("u_cm2", username="plain", permissions=["chat.publish"])
    dan_t = stack.token("u_dan", username="dan")
    mid = stack.publish_rest(ch, {"n": 1}, dan_t)["id"]

    for tok in (plain, dan_t):
        err = expect_error(stack.rest("POST", ch, "users", "u_x", "ban", token=tok), 403)
        assert "chat.moderate" in err["message"], err
    expect_error(stack.rest("DELETE", ch, "messages", mid, token=plain), 403)

    assert json_body(stack.rest("DELETE", ch, "messages", mid, token=cm), 200)["deleted"] is True
    assert json_body(stack.rest("POST", ch, "users", "u_dan", "timeout", token=cm,
                                json={"duration": 60}), 200)["user_id"] == "u_dan"
    assert json_body(stack.rest("POST", ch, "users", "u_dan", "ban", token=cm),
                     200)["banned"] is True
    assert json_body(stack.rest("DELETE", ch, "users", "u_dan", "ban", token=cm),
                     200)["unbanned"] is True
    rows = audit_rows(stack, ch)
    assert [r["action"] for r in rows] == ["delete_message", "timeout", "ban", "unban"], rows
    for row in rows:
        assert row["actor_id"] == "u_cm" and row["actor_name"] == "chanmod", row

    expect_error(stack.rest("POST", ch, "broadcast", token=cm, json={"data": {"t": 1}}), 403)
    expect_error(stack.rest("PUT", ch, "settings", token=cm, json={"private": True}), 403)
    expect_error(stack.rest("POST", ch, "access", token=cm, json={"users": ["u_x"]}), 403)


# ---------------------------------------------------------------------------------------------
# Timeout


def test_timeout_expires_by_itself(stack):
    ch = unique_channel()
    mod = mod_token(stack)
    dave_t = stack.token("u_dave", username="dave")

    async def body():
        dave = await stack.client(dave_t)
        carol = await stack.client(stack.token("u_carol", username="carol"))
        try:
            await dave.subscribe(ch)
            await carol.subscribe(ch)
            t0 = time.time()
            r = stack.rest("POST", ch, "users", "u_dave", "timeout", token=mod,
                           json={"duration": 2, "reason": "calm down"})
            reply = json_body(r, 200)
            assert {k: reply.get(k) for k in ("channel", "user_id", "pushed")} == {
                "channel": ch, "user_id": "u_dave", "pushed": True}, reply
            until = parse_iso(reply["until"])
            assert t0 + 1 < until < time.time() + 3, (reply, t0)

            ev = await carol.recv_until(is_user_event("user_timeout", ch, "u_dave"),
                                        what="user_timeout")
            assert ev == {"type": "user_timeout", "channel": ch, "user_id": "u_dave",
                          "until": reply["until"], "reason": "calm down"}, ev

            # cannot publish (WS, REST), still reads
            await ws_publish_refused(dave, ch)
            expect_error(stack.rest("POST", ch, "publish", token=dave_t,
                                    json={"data": {"n": 1}}), 403)
            mid = await carol.publish(ch, {"n": "dave still reads"})
            await dave.recv_until(is_message(ch, mid))
            json_body(stack.rest("GET", ch, "history", token=dave_t), 200)
            assert not [m for m in dave.seen if m.get("type") == "unsubscribed"], dave.seen

            rows = stack.db_rows("SELECT * FROM bans WHERE channel = ?", (ch,))
            assert len(rows) == 1 and rows[0]["kind"] == "timeout", rows
            assert rows[0]["expires_at"] == reply["until"], rows
            assert rows[0]["reason"] == "calm down", rows
            logs = audit_rows(stack, ch, "timeout")
            assert len(logs) == 1, logs
            check_audit(logs[0], "timeout", target="u_dave", reason="calm down")
            assert json.loads(logs[0]["detail"]).get("duration") == 2, logs[0]

            # expires by itself
            await asyncio.sleep(max(0.0, until - time.time()) + 0.3)
            mid = await dave.publish(ch, {"n": "free again"})
            await carol.recv_until(is_message(ch, mid))
            rid = stack.publish_rest(ch, {"n": "free again (REST)"}, dave_t)["id"]
            await carol.recv_until(is_message(ch, rid))
        finally:
            await close_all(dave, carol)

    run(body())


def test_unban_ends_a_timeout_early_and_a_new_timeout_replaces_the_old(stack):
    ch = unique_channel()
    mod = mod_token(stack)
    eve_t = stack.token("u_eve", username="eve")

    async def body():
        eve = await stack.client(eve_t)
        carol = await stack.client(stack.token("u_carol", username="carol"))
        try:
            await carol.subscribe(ch)
            r1 = json_body(stack.rest("POST", ch, "users", "u_eve", "timeout", token=mod,
                                      json={"duration": 600}), 200)
            r2 = json_body(stack.rest("POST", ch, "users", "u_eve", "timeout", token=mod,
                                      json={"duration": 1209600, "reason": "x" * 500}), 200)
            assert parse_iso(r2["until"]) > parse_iso(r1["until"]) + 1e6, (r1, r2)
            rows = stack.db_rows("SELECT * FROM bans WHERE channel = ? AND kind = 'timeout'",
                                 (ch,))
            assert len(rows) == 1 and rows[0]["expires_at"] == r2["until"], rows
            await ws_publish_refused(eve, ch)
            expect_error(stack.rest("POST", ch, "publish", token=eve_t, json={"data": {}}), 403)

            json_body(stack.rest("DELETE", ch, "users", "u_eve", "ban", token=mod), 200)
            ev = await carol.recv_until(is_user_event("user_unbanned", ch, "u_eve"))
            assert ev == {"type": "user_unbanned", "channel": ch, "user_id": "u_eve"}, ev
            assert stack.db_rows("SELECT * FROM bans WHERE channel = ?", (ch,)) == []
            mid = await eve.publish(ch, {"n": 1})
            await carol.recv_until(is_message(ch, mid))
            stack.publish_rest(ch, {"n": 2}, eve_t)
            expect_error(stack.rest("DELETE", ch, "users", "u_eve", "ban", token=mod), 404)
        finally:
            await close_all(eve, carol)

    run(body())


@pytest.mark.parametrize("bad", [
    {}, {"duration": 0}, {"duration": -5}, {"duration": 1209601}, {"duration": "600"},
    {"duration": None}, {"duration": True}, {"duration": 60, "reason": "x" * 501},
    {"duration": 60, "reason": 7}, {"duration": 1e300}, [60], "60",
], ids=lambda b: json.dumps(b)[:40])
def test_timeout_bad_bodies(stack, bad):
    ch = unique_channel()
    expect_error(stack.rest("POST", ch, "users", "u_x", "timeout", token=mod_token(stack),
                            json=bad), 400)
    assert stack.db_rows("SELECT * FROM bans WHERE channel = ?", (ch,)) == []


def test_timeout_needs_staff(stack):
    ch = unique_channel()
    expect_error(stack.rest("POST", ch, "users", "u_x", "timeout", json={"duration": 60}), 401)
    expect_error(stack.rest("POST", ch, "users", "u_x", "timeout", json={"duration": 60},
                            token=stack.token("u_y")), 403)
    assert stack.db_rows("SELECT * FROM bans WHERE channel = ?", (ch,)) == []


# ---------------------------------------------------------------------------------------------
# Broadcast


def test_broadcast_is_a_live_system_message(stack):
    ch = unique_channel()
    mod = mod_token(stack)

    async def body():
        anon = await stack.client()
        try:
            await anon.subscribe(ch)
            data = {"text": "stream starts in 5 minutes", "level": "info"}
            r = stack.rest("POST", ch, "broadcast", token=mod, json={"data": data})
            reply = json_body(r, 200)
            assert is_int(reply["id"]) and reply["channel"] == ch and reply["pushed"] is True
            assert ISO_Z.match(reply["created_at"]), reply
            ev = await anon.recv_until(is_message(ch), what="the broadcast")
            assert ev == {"type": "message", "channel": ch, "id": reply["id"], "data": data,
                          "user": None, "system": True, "created_at": reply["created_at"]}, ev
            assert stack.history_rest(ch) == [ev]
            row = stack.db_messages(ch)[0]
            assert (row["kind"], row["user_id"], row["username"]) == ("system", None, None), row
            logs = audit_rows(stack, ch, "broadcast")
            assert len(logs) == 1, logs
            check_audit(logs[0], "broadcast")

            # an admin may broadcast; URL-encoded name
            r = stack.rest("POST", ch, "broadcast", encode=True, json={"data": {"n": 2}},
                           token=stack.token("u_adm", username="boss", role="admin"))
            reply2 = json_body(r, 200)
            ev2 = await anon.recv_until(is_message(ch, reply2["id"]))
            assert ev2["system"] is True and ev2["user"] is None, ev2

            # nobody else
            expect_error(stack.rest("POST", ch, "broadcast", json={"data": {"n": 3}}), 401)
            for who in (stack.token("u_user"), stack.token("u_s", role="streamer")):
                expect_error(stack.rest("POST", ch, "broadcast", token=who,
                                        json={"data": {"n": 3}}), 403)
            expect_error(stack.rest("POST", ch, "broadcast", token=mod, json={"data": "hi"}),
                         400)
            await anon.expect_no_message(pred=is_message(ch))
            assert len(stack.db_messages(ch)) == 2
        finally:
            await anon.close()

    run(body())


def test_broadcast_reaches_private_channel_subscribers(stack):
    ch = "chat:stream_" + unique_channel("x").split(":")[1]

    async def body():
        c = await stack.client(stack.token("user_123"))
        try:
            await c.subscribe(ch)
            reply = json_body(stack.rest("POST", ch, "broadcast", token=mod_token(stack),
                                         json={"data": {"t": 1}}), 200)
            ev = await c.recv_until(is_message(ch, reply["id"]))
            assert ev["system"] is True, ev
        finally:
            await c.close()

    run(body())


def test_events_do_not_leak_to_other_channels(stack):
    ch = unique_channel()
    other = unique_channel()
    mod = mod_token(stack)

    async def body():
        watcher = await stack.client()
        try:
            await watcher.subscribe(other)
            mid = stack.publish_rest(ch, {"n": 1}, stack.token("u_f"))["id"]
            json_body(stack.rest("DELETE", ch, "messages", mid, token=mod), 200)
            json_body(stack.rest("POST", ch, "users", "u_f", "ban", token=mod), 200)
            json_body(stack.rest("DELETE", ch, "users", "u_f", "ban", token=mod), 200)
            json_body(stack.rest("POST", ch, "broadcast", token=mod, json={"data": {}}), 200)
            await watcher.expect_no_message(within=0.3)
        finally:
            await watcher.close()

    run(body())


def test_moderation_on_unknown_target_user_shapes(stack):
    """User ids in paths may need URL-encoding; the reply names the decoded id."""
    ch = unique_channel()
    mod = mod_token(stack)
    r = stack.http("POST", f"/api/realtime/channels/{ch}/users/user%40example.com/ban",
                   token=mod)
    assert json_body(r, 200)["user_id"] == "user@example.com"
    rows = stack.db_rows("SELECT user_id FROM bans WHERE channel = ?", (ch,))
    assert rows == [{"user_id": "user@example.com"}], rows
    json_body(stack.rest("DELETE", ch, "users", "user@example.com", "ban", token=mod), 200)
